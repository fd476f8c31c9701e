"""Re-optimization runs: the nightly job, "re-optimize now" and ``reoptimize`` share one path.

guard          claim a week (exactly once), heartbeat, fingerprint of the bookings
solver_process the solver in a child process with a deadline
reoptimize     snapshot, solve, validate, apply (merging around new bookings), record
scope          a run limited to some bases: everything elsewhere fixed, checked after the solve
diff           the changes between two plans, with their reasons
report         a run's report page data
notify         tell participants and operators what a run changed
nightly        the nightly job: every week in the coming days
"""
