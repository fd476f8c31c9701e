"""Background work: the job queue, its tasks, the worker process and the clock.

queue     the API: @task, enqueue, job, current_job_id, on_reap; the app's transport
transport Huey on Redis or on a SQLite file, or eager (inline): carries job ids to workers
execute   running one job: claim, heartbeat, result, retry or fail, hand back
reaper    retries or fails the jobs whose worker died; puts lost messages again
tasks     imports every task module, so every process knows every job kind
mail      mail.send: deliver one outbox e-mail; the clock's sweep of the due ones
runs      runs.reoptimize: carry out one queued re-optimization run
worker    ``flask --app wsgi worker``: Huey's consumer, one job at a time, reaping as it goes
clock     the periodic jobs as data and the ``flask --app wsgi scheduler`` process (APScheduler),
          which enqueues the nightly runs
"""
