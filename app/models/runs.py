"""Optimization runs: one solve (or plan import) of a week, its KPIs and what it changed."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow
from app.models.vocabulary import ChangeKind, ChangeReason, RunKind, RunState, enum_type

if TYPE_CHECKING:
    from app.models.timetable import PlanningWeek


class OptimizationRun(Model):
    """A run over one planning week. ``kpis`` holds the plan's figures as JSON."""

    __tablename__ = "optimization_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    planning_week_id: Mapped[int] = mapped_column(
        ForeignKey("planning_weeks.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RunKind] = mapped_column(enum_type(RunKind, "kind"))
    state: Mapped[RunState] = mapped_column(enum_type(RunState, "state"), default=RunState.RUNNING)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    freeze_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    solver_status: Mapped[str | None] = mapped_column(String(32))
    objective: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float)
    wall_s: Mapped[float | None] = mapped_column(Float)
    kpis: Mapped[dict] = mapped_column(JSON, default=dict)
    added: Mapped[int] = mapped_column(Integer, default=0)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    dropped: Mapped[int] = mapped_column(Integer, default=0)
    kept: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # Nightly re-optimization (app.services.runs.reoptimize). ``run_key`` makes a night's run unique
    # ("nightly:<week>:<night>"); ``lock_key`` ("week:<id>") is set only while a run of that
    # week is in progress, so the database admits one at a time. Both stay NULL otherwise.
    run_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    lock_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    actor_label: Mapped[str | None] = mapped_column(String(80))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Live solver progress for the UI: elapsed_s, objective, bound, phase.
    progress: Mapped[dict] = mapped_column(JSON, default=dict)
    kpis_before: Mapped[dict] = mapped_column(JSON, default=dict)
    # The bases the run may change (base codes); NULL is the whole week (admins only).
    scope_bases: Mapped[list[str] | None] = mapped_column(JSON)
    # The run's folder (instance.json, plan.json, solver.log) relative to RUNS_DIR.
    files_dir: Mapped[str | None] = mapped_column(String(255))
    # The background job carrying the run out (a run started from the CLI has none): the queue's
    # reaper releases the week of a run whose worker died.
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )

    planning_week: Mapped[PlanningWeek] = relationship()
    changes: Mapped[list[RunChange]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="RunChange.id"
    )


class RunChange(Model):
    """One booking a run added, moved or dropped, with slot codes before and after."""

    __tablename__ = "run_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("optimization_runs.id", ondelete="CASCADE"), index=True
    )
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    change: Mapped[ChangeKind] = mapped_column(enum_type(ChangeKind, "change"))
    request_code: Mapped[str] = mapped_column(String(24))
    before_slots: Mapped[list[str]] = mapped_column(JSON, default=list)
    after_slots: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the base (code) the session leaves and the one it goes to: the report counts, filters
    #: and scopes changes by them without reading the slots
    before_base: Mapped[str | None] = mapped_column(String(16))
    after_base: Mapped[str | None] = mapped_column(String(16))
    participant_code: Mapped[str | None] = mapped_column(String(16))
    # Why the run made this change.
    reason: Mapped[ChangeReason | None] = mapped_column(enum_type(ChangeReason, "reason", 24))

    run: Mapped[OptimizationRun] = relationship(back_populates="changes")

    @property
    def bases(self) -> frozenset[str]:
        """The bases (codes) the session leaves and goes to: one, or two for a move between
        bases."""
        return frozenset(b for b in (self.before_base, self.after_base) if b)


def changes_per_base(changes: Iterable[RunChange]) -> dict[str, Counter[str]]:
    """How many sessions a run added, moved and dropped at each base (by code). A change counts
    once at each base it touches (the report, the operators' notices and the webhooks agree)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for rc in changes:
        for base in rc.bases:
            out[base][str(rc.change)] += 1
    return dict(out)


class RunFile(Model):
    """A file of a run that every worker host must read: the week, the split and the parts'
    answers of a run solved in parts (``app/services/runs/parts.py``), gzip-compressed.

    The run's folder is on the disk of the host carrying the run out; a part's job may run on
    any host, so what it needs and what it answers go through the database.
    """

    __tablename__ = "run_files"
    __table_args__ = (UniqueConstraint("run_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("optimization_runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
