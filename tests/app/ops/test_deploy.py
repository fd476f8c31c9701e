"""The samples in deploy/ name only metrics the product exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.observability import metrics

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def _exported() -> set[str]:
    names = {"chunlei_queue_jobs", "chunlei_queue_oldest_waiting_seconds"}
    for value in vars(metrics).values():
        if hasattr(value, "_name") and hasattr(value, "_type"):
            base = value._name
            names |= {base, f"{base}_total", f"{base}_bucket", f"{base}_count", f"{base}_sum"}
    return names


def test_every_metric_of_the_grafana_dashboard_is_exported():
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"chunlei_[a-z_]+", target["expr"]))
    assert used and used <= _exported(), used - _exported()
    assert {"chunlei_bookings_created_total", "chunlei_placement_latency_seconds_bucket",
            "chunlei_solver_runs_total", "chunlei_webhook_deliveries_total"} <= used  # fmt: skip


def test_the_gunicorn_config_stops_gracefully_and_marks_dead_workers():
    config: dict = {}
    exec((DEPLOY / "gunicorn.conf.py").read_text(), config)
    assert config["graceful_timeout"] >= 10 and config["worker_class"] == "gthread"
    assert callable(config["child_exit"])
