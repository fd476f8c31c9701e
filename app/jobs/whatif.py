"""What-if runs as jobs: ``whatif.run`` solves a week and its changed copy, writing nothing.

The payload names the week, the changes (as the form or the command line writes them) and the
time limit per solve; the result is the side-by-side comparison, stored on the job row.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app

from app.extensions import db
from app.jobs.queue import task
from app.models import utcnow
from app.services.timetable.weeks import get_week
from app.services.whatif.scenario import parse_changes, run_what_if


@task("whatif.run", max_attempts=1)
def what_if_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Solve the week and the copy; the comparison as plain data."""
    cfg = current_app.config
    week = get_week(db.session, date.fromisoformat(payload["week"]))
    changes = parse_changes(**{k: tuple(v) for k, v in payload["changes"].items()})
    try:
        result = run_what_if(
            db.session,
            week,
            changes,
            freeze_until=utcnow() + timedelta(hours=float(cfg["FREEZE_HOURS"])),
            timezone=cfg["TIMEZONE"],
            time_limit_s=float(payload.get("time_limit_s") or cfg["SOLVER_TIME_LIMIT_S"]),
            workers=int(cfg["SOLVER_WORKERS"]),
        )
    finally:
        db.session.rollback()  # a what-if never writes
    c = result.comparison
    return {
        "changes": list(result.changes),
        "table": [list(row) for row in c.table()],
        "gains": c.gains,
        "losses": c.losses,
    }
