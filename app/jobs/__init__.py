"""Background work: the job queue, its tasks, the worker process and the clock.

queue   the jobs ledger and its transport (Huey on Redis or SQLite, or eager): enqueue, job,
        @task, the reaper of jobs whose worker died
tasks   imports every task module, so every process knows every job kind
runs    runs.reoptimize: carry out one queued re-optimization run
worker  ``flask --app wsgi worker``: Huey's consumer, one job at a time, reaping as it goes
clock   the periodic jobs as data and the ``flask --app wsgi scheduler`` process (APScheduler),
        which enqueues the nightly runs
"""
