"""What a run did, as plain data for the ``runs`` command, the JSON history and the report page.

``run_summary`` is one run's record (the ``runs --json`` object); ``run_details`` adds what the
report page shows: the KPIs side by side, the changes per region and per base, and every
changed session with its participant, times, bases and reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

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

    def keeps(self, row: SessionRow) -> bool:
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
    sessions: list[SessionRow] = field(default_factory=list)
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


def _span(slots: list[Slot], studio: str, tz) -> str:
    if not slots:
        return ""
    start = slots[0].start.astimezone(tz)
    end = slots[-1].end.astimezone(tz)
    return f"{start:%m-%d %H:%M}–{end:%H:%M} {studio}"


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
    """
    flt = flt or ReportFilter()
    tz = local_zone()
    details = RunDetails(files=list(files_present or []))
    before, after = run.kpis_before or {}, kpis_after(run)
    for key in KPI_KEYS:
        b, a = before.get(key), after.get(key)
        details.kpis.append((key, b, a, _better(key, b, a)))

    codes = {c for rc in run.changes for c in (*rc.before_slots, *rc.after_slots)}
    slots: dict[str, Slot] = {}
    hub_of: dict[str, Hub] = {}
    studio_of: dict[str, str] = {}
    if codes:
        for slot, studio_code, hub in db.session.execute(
            select(Slot, Studio.code, Hub)
            .join(Studio, Studio.id == Slot.studio_id)
            .join(Hub, Hub.id == Studio.hub_id)
            .where(Slot.code.in_(codes))
        ):
            slots[slot.code] = slot
            studio_of[slot.code] = studio_code
            hub_of[slot.code] = hub
    people = {rc.participant_code for rc in run.changes if rc.participant_code}
    names = dict(
        db.session.execute(
            select(Participant.code, Participant.name).where(Participant.code.in_(people))
        )
        .tuples()
        .all()
    )
    region: dict[str, Counter] = defaultdict(Counter)
    base: dict[str, Counter] = defaultdict(Counter)
    base_names: dict[str, str] = {}
    for rc in run.changes:
        at = {hub_of[c].code for c in (*rc.before_slots, *rc.after_slots) if c in hub_of}
        if only_bases is not None and not at & only_bases:
            continue
        old = [slots[c] for c in rc.before_slots if c in slots]
        new = [slots[c] for c in rc.after_slots if c in slots]
        old_hub = hub_of.get(rc.before_slots[0]) if rc.before_slots else None
        new_hub = hub_of.get(rc.after_slots[0]) if rc.after_slots else None
        for hub in {h for h in (old_hub, new_hub) if h is not None}:
            region[hub.region][rc.change] += 1
            base[hub.code][rc.change] += 1
            base_names[hub.code] = hub.name
        details.sessions.append(
            SessionRow(
                change=rc.change,
                request=rc.request_code,
                participant=rc.participant_code or "",
                participant_name=names.get(rc.participant_code or "", ""),
                before=_span(old, studio_of.get(old[0].code, "") if old else "", tz),
                after=_span(new, studio_of.get(new[0].code, "") if new else "", tz),
                before_base=old_hub.name if old_hub else "",
                after_base=new_hub.name if new_hub else "",
                reason=rc.reason or "",
                bases=frozenset(at),
                regions=frozenset(h.region for h in (old_hub, new_hub) if h is not None),
            )
        )
    details.total = len(details.sessions)
    details.sessions = [row for row in details.sessions if flt.keeps(row)]
    # Moves and drops first: they touch sessions people already had.
    order: dict[str, int] = {ChangeKind.MOVED: 0, ChangeKind.DROPPED: 1, ChangeKind.ADDED: 2}
    mine = first_bases or set()
    details.sessions.sort(
        key=lambda row: (not (row.bases & mine), order.get(row.change, 3), row.request)
    )
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
    if phase == "solving" and limit:
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
