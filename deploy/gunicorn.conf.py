"""gunicorn's settings for a Chunlei web host: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``.

Every value can be overridden on the command line or in ``GUNICORN_CMD_ARGS``
(``--workers 8 --bind 0.0.0.0:8000``).

* Graceful shutdown: on SIGTERM the master stops accepting connections and each worker
  finishes the requests it holds for up to ``graceful_timeout`` seconds before it is killed;
  a booking in flight is answered and stored, or (killed) rolled back by the database.
* Metrics: with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty directory, created before the host's
  processes start), every worker writes its samples there and ``/metrics`` adds them up;
  ``child_exit`` tells prometheus-client a worker is gone, so its live gauges are dropped.
"""

import os

bind = os.environ.get("CHUNLEI_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = 4
threads = 2
keepalive = 5
timeout = 60
graceful_timeout = 30
# Each worker builds its own app after the fork: no database connection or Redis client is
# shared between processes.
preload_app = False


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
