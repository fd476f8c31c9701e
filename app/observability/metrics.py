"""Prometheus metrics: every counter and histogram of the product, defined once, here.

Under gunicorn (several processes per host) and in the job workers (forked children), set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before the processes start: each process then
writes its samples to its own files there, and ``/metrics`` adds them up (prometheus-client's
multiprocess mode). Without it each process counts alone (the demo, a single process).

The queue's depth is not counted by any process: ``/metrics`` reads it from the ``jobs`` table
when scraped (:class:`QueueCollector`), so it is right whichever worker changed it.

Recording a sample is a few microseconds; nothing here touches the database or the network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

#: Latency buckets of web requests (seconds): the booking API answers in milliseconds.
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Jobs and solver runs take from a second to the run's time limit and more.
_SLOW = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
#: Request filed → proposal: seconds normally, hours when it waits for a freed slot.
_PLACEMENT = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0, 86400.0)

HTTP_REQUESTS = Counter(
    "chunlei_http_requests",
    "Web requests answered, by method, route template and status code",
    ["method", "endpoint", "status"],
)
HTTP_LATENCY = Histogram(
    "chunlei_http_request_duration_seconds",
    "Time to answer a web request, by method and route template",
    ["method", "endpoint"],
    buckets=_FAST,
)
BOOKINGS_CREATED = Counter(
    "chunlei_bookings_created",
    "Direct bookings made, by who booked (participant or operator)",
    ["origin"],
)
BOOKINGS_REFUSED = Counter(
    "chunlei_bookings_refused",
    "Direct bookings refused, by reason (the refusal's stable code, e.g. slot_taken)",
    ["reason"],
)
JOBS = Counter(
    "chunlei_jobs",
    "Job attempts ended, by kind and outcome (done, retry, failed, handed_back)",
    ["kind", "outcome"],
)
JOB_DURATION = Histogram(
    "chunlei_job_duration_seconds",
    "Time a job attempt ran in a worker, by kind",
    ["kind"],
    buckets=_SLOW,
)
SOLVER_RUNS = Counter(
    "chunlei_solver_runs",
    "Re-optimization runs ended, by outcome (applied, no_change, rejected, failed, skipped)",
    ["outcome"],
)
SOLVER_WALL = Histogram(
    "chunlei_solver_run_seconds",
    "Wall time of a re-optimization run from claim to its end, by outcome",
    ["outcome"],
    buckets=_SLOW,
)
SOLVER_OBJECTIVE = Gauge(
    "chunlei_solver_objective_weighted_served",
    "The weighted sessions served by the plan of the latest run that reached a plan",
    multiprocess_mode="mostrecent",
)
PLACEMENTS = Counter(
    "chunlei_placements",
    "Instant placements ended, by outcome (placed, unplaced, failed)",
    ["outcome"],
)
PLACEMENT_LATENCY = Histogram(
    "chunlei_placement_latency_seconds",
    "Time from a request being filed to its first proposal",
    buckets=_PLACEMENT,
)
WEBHOOK_DELIVERIES = Counter(
    "chunlei_webhook_deliveries",
    "Webhook delivery attempts, by result (delivered, failed, gave_up)",
    ["result"],
)


def booking_created(origin: str) -> None:
    BOOKINGS_CREATED.labels(str(origin)).inc()


def booking_refused(reason: str) -> None:
    BOOKINGS_REFUSED.labels(reason or "unknown").inc()


def job_ended(kind: str, outcome: str, seconds: float) -> None:
    JOBS.labels(kind, outcome).inc()
    JOB_DURATION.labels(kind).observe(max(0.0, seconds))


def solver_run_ended(outcome: str, seconds: float, objective: float | None) -> None:
    SOLVER_RUNS.labels(str(outcome)).inc()
    SOLVER_WALL.labels(str(outcome)).observe(max(0.0, seconds))
    if objective is not None:
        SOLVER_OBJECTIVE.set(objective)


def placement_ended(outcome: str) -> None:
    PLACEMENTS.labels(outcome).inc()


def proposal_made(filed_at: datetime, proposed_at: datetime) -> None:
    PLACEMENT_LATENCY.observe(max(0.0, (proposed_at - filed_at).total_seconds()))


def webhook_delivery(result: str) -> None:
    WEBHOOK_DELIVERIES.labels(result).inc()


def multiprocess_dir() -> str | None:
    """The directory of multiprocess mode, if this process runs in it."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _Default(Collector):
    """This process's own samples (single-process mode)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition(*extra: Collector) -> tuple[bytes, str]:
    """The text a scrape gets: every process's samples (multiprocess mode) or this one's, plus
    ``extra`` collectors (the queue's depth); and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry)
    else:
        registry.register(_Default())
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def serve(listen: str | None) -> None:
    """Serve this host's metrics on ``HOST:PORT`` from a thread (the worker and scheduler
    processes, ``METRICS_LISTEN``); nothing when ``listen`` is None."""
    if not listen:
        return
    from prometheus_client import start_http_server

    host, _, port = listen.rpartition(":")
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry)
    else:
        registry.register(_Default())
    start_http_server(int(port), addr=host.strip("[]"), registry=registry)


class QueueCollector(Collector):
    """The queue read from its ledger at scrape time: jobs by kind and status, and the age of
    the oldest due job still waiting, by kind."""

    def __init__(self, rows: list[tuple[str, str, int]], oldest: dict[str, float]) -> None:
        self.rows, self.oldest = rows, oldest

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "chunlei_queue_jobs", "Jobs queued or running now, by kind", labels=["kind", "status"]
        )
        for kind, status, count in self.rows:
            depth.add_metric([kind, status], count)
        yield depth
        age = GaugeMetricFamily(
            "chunlei_queue_oldest_waiting_seconds",
            "How long the oldest due, still queued job has waited, by kind",
            labels=["kind"],
        )
        for kind, seconds in self.oldest.items():
            age.add_metric([kind], seconds)
        yield age
