"""Running Chunlei for real: structured logs with a request id (``logs``), Prometheus metrics
(``metrics``), readiness checks (``health``) and logical backups (``backup``).

The endpoints live in the ``app.health`` blueprint; services and jobs only import ``logs`` and
``metrics`` from here (both cheap, neither touches the web layer).
"""
