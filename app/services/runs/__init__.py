"""Re-optimization runs: the nightly job, "re-optimize now" and ``reoptimize`` share one path.

guard          claim a week (exactly once), release it, fingerprint of the bookings
liveness       a run's heartbeat; runs whose process went silent are failed, their week freed
solver_process the solver in a child process with a deadline
reoptimize     snapshot, solve, validate, then the apply step; every failure recorded
apply          the apply step: write the plan (merged around new bookings), record, notify
folders        a run's folder (instance, plans, solver log) and its pruning
scope          a run limited to some bases: everything elsewhere fixed, checked after the solve
diff           the changes between two plans, with their reasons
report         a run's report page data
notify         tell participants and operators what a run changed
nightly        the nightly job: every week in the coming days
"""
