"""What a run did, as plain data for the ``runs`` command, the JSON history and the report page.

``run_summary`` is one run's record (the ``runs --json`` object); ``run_details`` adds what the
report page shows: the KPIs side by side, the changes per region and per base, and every
changed session with its participant, times, bases and reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.localtime import local_zone
from app.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingSlot,
    Hub,
    OptimizationRun,
    Participant,
    PlanningWeek,
    RunChange,
    Slot,
    Studio,
)
from app.models.vocabulary import BookingStatus, ChangeKind, RunState

#: The KPIs the report compares, in the order the spec ranks what a good plan is.
KPI_KEYS = (
    "sessions_served",
    "weighted_served",
    "min_region_ratio",
    "utilization_stdev",
    "preferred_base_share",
    "prime_satisfaction",
    "mean_km",
)
#: For each KPI, whether a higher value is better.
HIGHER_IS_BETTER = {
    "sessions_served": True,
    "weighted_served": True,
    "min_region_ratio": True,
    "utilization_stdev": False,
    "preferred_base_share": True,
    "prime_satisfaction": True,
    "mean_km": False,
}
RUN_FILES = (
    "instance.json",
    "before.json",
    "plan.json",
    "applied.json",
    "solver.log",
    "error.log",
)


def _iso(t) -> str | None:
    return t.isoformat() if t is not None else None


def kpis_after(run: OptimizationRun) -> dict:
    """The week's KPIs after the run: the applied plan's, or the unchanged ones before."""
    if run.state == RunState.APPLIED:
        return dict(run.kpis or {})
    return dict(run.kpis_before or {})


def run_summary(run: OptimizationRun) -> dict:
    """One run as a JSON-ready dict (``runs --json``): who, when, outcome, KPIs, counts."""
    week = run.planning_week or db.session.get(PlanningWeek, run.planning_week_id)
    return {
        "id": run.id,
        "week": week.week_start.isoformat() if week is not None else None,
        "trigger": run.kind,
        "actor": run.actor_label,
        "status": run.state,
        "message": run.message,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "freeze_until": _iso(run.freeze_until),
        "solver_status": run.solver_status,
        "objective": run.objective,
        "bound": run.bound,
        "wall_s": run.wall_s,
        "added": run.added or 0,
        "moved": run.moved or 0,
        "dropped": run.dropped or 0,
        "kept": run.kept or 0,
        "kpis_before": dict(run.kpis_before or {}),
        "kpis": kpis_after(run),
        "progress": dict(run.progress or {}),
    }


@dataclass
class SessionRow:
    """One changed session as the report lists it."""

    change: str
    request: str
    participant: str
    participant_name: str
    before: str
    after: str
    before_base: str
    after_base: str
    reason: str
    #: the codes and regions of the bases the session leaves or goes to (for the filters)
    bases: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ReportFilter:
    """Which changed sessions the report lists: at one base, in one region, of one kind."""

    base: str = ""
    region: str = ""
    change: str = ""

    def keeps(self, row: SessionRow | _Change) -> bool:
        return (
            (not self.base or self.base in row.bases)
            and (not self.region or self.region in row.regions)
            and (not self.change or self.change == row.change)
        )

    @property
    def active(self) -> bool:
        return bool(self.base or self.region or self.change)


@dataclass
class RunDetails:
    """Everything the run report page shows besides the summary."""

    kpis: list[tuple[str, object, object, bool | None]] = field(default_factory=list)
    by_region: list[tuple[str, Counter]] = field(default_factory=list)
    by_base: list[tuple[str, str, Counter]] = field(default_factory=list)
    sessions: Sequence[SessionRow] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: changed sessions in scope before the filter (``sessions`` holds those it keeps)
    total: int = 0


def _better(key: str, before, after) -> bool | None:
    """True if the KPI improved, False if it got worse, None if equal or unknown."""
    if not isinstance(before, int | float) or not isinstance(after, int | float):
        return None
    if before == after:
        return None
    return (after > before) == HIGHER_IS_BETTER[key]


@dataclass(frozen=True)
class _SlotFacts:
    start: datetime
    end: datetime
    studio: str
    base: str
    base_name: str
    region: str


def _span(slots: list[_SlotFacts], tz) -> str:
    if not slots:
        return ""
    start = slots[0].start.astimezone(tz)
    end = slots[-1].end.astimezone(tz)
    return f"{start:%m-%d %H:%M}–{end:%H:%M} {slots[0].studio}"


@dataclass(frozen=True)
class _Change:
    """A change as read from the database, before it is shown (most never are: a page of the
    report shows 50 of a whole-programme run's thousands). Its slots are read for the page."""

    id: int
    change: str
    request: str
    participant: str
    reason: str
    bases: frozenset[str]
    regions: frozenset[str]


class SessionRows(Sequence[SessionRow]):
    """The report's changed sessions, made into rows only when read (a page at a time): the
    page's slots and participants' names are read then."""

    def __init__(self, changes: list[_Change]) -> None:
        self._changes = changes
        self._names: dict[str, str] = {}
        self._slots: dict[int, tuple[list[_SlotFacts], list[_SlotFacts]]] = {}
        self._tz = local_zone()

    def __len__(self) -> int:
        return len(self._changes)

    @overload
    def __getitem__(self, i: int) -> SessionRow: ...

    @overload
    def __getitem__(self, i: slice) -> list[SessionRow]: ...

    def __getitem__(self, i: int | slice) -> SessionRow | list[SessionRow]:
        chosen = self._changes[i] if isinstance(i, slice) else [self._changes[i]]
        self._read(chosen)
        rows = [self._row(c) for c in chosen]
        return rows if isinstance(i, slice) else rows[0]

    def _read(self, changes: list[_Change]) -> None:
        """The names and slots of ``changes`` not read yet."""
        wanted = {c.participant for c in changes if c.participant} - set(self._names)
        if wanted:
            rows = db.session.execute(
                select(Participant.code, Participant.name).where(Participant.code.in_(wanted))
            )
            self._names.update(rows.tuples().all())
        ids = [c.id for c in changes if c.id not in self._slots]
        if not ids:
            return
        sides = db.session.execute(
            select(RunChange.id, RunChange.before_slots, RunChange.after_slots).where(
                RunChange.id.in_(ids)
            )
        ).all()
        facts = _slot_facts({code for _, *lists in sides for side in lists for code in side or ()})
        for change_id, before, after in sides:
            self._slots[change_id] = (
                [facts[x] for x in before or () if x in facts],
                [facts[x] for x in after or () if x in facts],
            )

    def _row(self, c: _Change) -> SessionRow:
        old, new = self._slots.get(c.id, ([], []))
        return SessionRow(
            change=c.change,
            request=c.request,
            participant=c.participant,
            participant_name=self._names.get(c.participant, ""),
            before=_span(old, self._tz),
            after=_span(new, self._tz),
            before_base=old[0].base_name if old else "",
            after_base=new[0].base_name if new else "",
            reason=c.reason,
            bases=c.bases,
            regions=c.regions,
        )


def _slot_facts(codes: set[str]) -> dict[str, _SlotFacts]:
    """Times, studio and base of each slot, as plain rows, a chunk of codes per query."""
    out: dict[str, _SlotFacts] = {}
    listed = sorted(codes)
    for k in range(0, len(listed), 2000):
        rows = db.session.execute(
            select(Slot.code, Slot.start, Slot.end, Studio.code, Hub.code, Hub.name, Hub.region)
            .join(Studio, Studio.id == Slot.studio_id)
            .join(Hub, Hub.id == Studio.hub_id)
            .where(Slot.code.in_(listed[k : k + 2000]))
        )
        for code, start, end, studio, base, name, region in rows:
            out[code] = _SlotFacts(start, end, studio, base, name, region)
    return out


def run_details(
    run: OptimizationRun,
    files_present: list[str] | None = None,
    *,
    only_bases: set[str] | None = None,
    flt: ReportFilter | None = None,
    first_bases: set[str] | None = None,
) -> RunDetails:
    """The KPI table, changes per region and per base, and the changed sessions.

    ``only_bases`` (base codes; an operator's) keeps only the changes at those bases. The
    summary (KPIs, per region, per base) always covers the whole scope; ``flt`` narrows the
    session list only. Sessions at ``first_bases`` come first, then moves, drops, additions.
    A change counts once at each base it touches (left or gone to) and once in each region.
    The changes are read as a few narrow columns (the bases each stores); ``details.sessions``
    reads slots and names only for the part of it that is read (a page).
    """
    flt = flt or ReportFilter()
    details = RunDetails(files=list(files_present or []))
    before, after = run.kpis_before or {}, kpis_after(run)
    for key in KPI_KEYS:
        b, a = before.get(key), after.get(key)
        details.kpis.append((key, b, a, _better(key, b, a)))

    left, gone_to = aliased(Hub), aliased(Hub)
    stmt = (
        select(
            RunChange.id,
            RunChange.change,
            RunChange.request_code,
            RunChange.participant_code,
            RunChange.reason,
            RunChange.before_base,
            left.name,
            left.region,
            RunChange.after_base,
            gone_to.name,
            gone_to.region,
        )
        .outerjoin(left, left.code == RunChange.before_base)
        .outerjoin(gone_to, gone_to.code == RunChange.after_base)
        .where(RunChange.run_id == run.id)
        .order_by(RunChange.id)
    )
    if only_bases is not None:
        mine_only = sorted(only_bases)
        stmt = stmt.where(
            or_(RunChange.before_base.in_(mine_only), RunChange.after_base.in_(mine_only))
        )
    region: dict[str, Counter] = defaultdict(Counter)
    base: dict[str, Counter] = defaultdict(Counter)
    base_names: dict[str, str] = {}
    changes: list[_Change] = []
    for row in db.session.execute(stmt):
        change_id, change, request, participant, reason = row[:5]
        ends = {(code, name, where) for code, name, where in (row[5:8], row[8:11]) if code}
        for code, name, _ in ends:
            base[code][change] += 1
            base_names[code] = name or code
        regions = frozenset(where for _, _, where in ends if where)
        for where in regions:
            region[where][change] += 1
        changes.append(
            _Change(
                id=change_id,
                change=change,
                request=request,
                participant=participant or "",
                reason=reason or "",
                bases=frozenset(code for code, _, _ in ends),
                regions=regions,
            )
        )
    details.total = len(changes)
    kept = [c for c in changes if flt.keeps(c)]
    # Moves and drops first: they touch sessions people already had.
    order: dict[str, int] = {ChangeKind.MOVED: 0, ChangeKind.DROPPED: 1, ChangeKind.ADDED: 2}
    mine = first_bases or set()
    kept.sort(key=lambda c: (not (c.bases & mine), order.get(c.change, 3), c.request))
    details.sessions = SessionRows(kept)
    details.by_region = sorted(region.items())
    details.by_base = [
        (code, base_names[code], c)
        for code, c in sorted(base.items(), key=lambda item: (item[0] not in mine, item[0]))
    ]
    return details


#: The KPIs the report's chart shows as shares (0..1), before and after.
CHART_KEYS = (
    "weighted_share",
    "served_ratio",
    "min_region_ratio",
    "preferred_base_share",
    "prime_satisfaction",
)


def chart_rows(run: OptimizationRun) -> list[tuple[str, float, float, str, str]]:
    """(kpi key, before share, after share, before text, after text) for the report's chart."""
    before, after = dict(run.kpis_before or {}), kpis_after(run)
    for k in (before, after):
        asked = k.get("weighted_asked")
        if asked:
            k["weighted_share"] = k.get("weighted_served", 0) / asked
    rows = []
    for key in CHART_KEYS:
        b, a = before.get(key), after.get(key)
        if b is None and a is None:
            continue
        b, a = float(b or 0), float(a or 0)
        rows.append((key, b, a, f"{b * 100:.1f}%", f"{a * 100:.1f}%"))
    return rows


def scope_figures(week: PlanningWeek, bases: list[str] | None) -> dict:
    """What a run of ``week`` over ``bases`` (None: all) may change and what stays fixed."""
    stmt = (
        select(Booking.status, func.count(func.distinct(Booking.id)))
        .join(BookingSlot, BookingSlot.booking_id == Booking.id)
        .join(Slot, Slot.id == BookingSlot.slot_id)
        .join(Studio, Studio.id == Slot.studio_id)
        .join(Hub, Hub.id == Studio.hub_id)
        .where(Booking.planning_week_id == week.id, Booking.status.in_(ACTIVE_STATUSES))
        .where(BookingSlot.released_at.is_(None))
        .group_by(Booking.status)
    )
    if bases is not None:
        stmt = stmt.where(Hub.code.in_(bases))
    counts = dict(db.session.execute(stmt).tuples().all())
    hubs = select(Hub.code, Hub.name).order_by(Hub.code)
    if bases is not None:
        hubs = hubs.where(Hub.code.in_(bases))
    return {
        "bases": db.session.execute(hubs).all(),
        "tentative": counts.get(BookingStatus.TENTATIVE, 0),
        "fixed": counts.get(BookingStatus.CONFIRMED, 0) + counts.get(BookingStatus.LOCKED, 0),
    }


#: The phases of a working run, as the report page names them.
PHASES = ("queued", "starting", "exporting", "solving", "checking", "applying", "done")
#: Phases of a run solved in parts in which the clock of its time limit runs, as in solving.
TIMED_PHASES = ("splitting", "parts", "merging", "solving")


def progress_view(run: OptimizationRun, default_limit_s: float) -> dict:
    """A working run's progress for people: its phase, the share done and the seconds left.

    While the solver works, the share is the time used of its limit (the solver stops at the
    limit at the latest); before and after solving the share is 0 and 1 respectively. Never the
    solver's objective or bound: they mean nothing to a reader.
    """
    progress = dict(run.progress or {})
    phase = str(progress.get("phase") or ("queued" if run.state == RunState.QUEUED else "starting"))
    limit = float(progress.get("limit_s") or default_limit_s or 0) or None
    elapsed = float(progress.get("elapsed_s") or 0.0)
    if phase in TIMED_PHASES and limit:
        share = min(elapsed / limit, 0.99)
        left: float | None = max(limit - elapsed, 0.0)
    elif phase in ("checking", "applying", "done"):
        share, left = 1.0, 0.0
    else:
        share, left = 0.0, limit
    return {
        "phase": phase,
        "share": round(share, 3),
        "percent": int(share * 100),
        "left_s": None if left is None else int(round(left)),
        "elapsed_s": int(round(elapsed)),
    }
