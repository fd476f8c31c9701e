"""What each event says: the ``data`` of its message, built from the rows of the change.

Ids are the public codes (booking ``K000123``, base ``B017``, slot ``SL004211``); times are ISO
8601 in the site's zone, as in the API. Each builder emits the event (``events.emit``) about the
bases it concerns and returns how many endpoints will get it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from app.extensions import db
from app.localtime import local_zone
from app.models import Booking, Hub, OptimizationRun, Slot, changes_per_base
from app.models.vocabulary import RunState
from app.services.webhooks.events import (
    BOOKING_CREATED,
    REQUEST_PLACED,
    RUN_APPLIED,
    RUN_FAILED,
    SLOT_BLOCKED,
    anyone_hears,
    emit,
)


class SlotFacts(Protocol):
    """A slot as the booking service knows it while it books (no extra query).

    Read-only members, so the booking rules' frozen ``SlotInfo`` is one.
    """

    @property
    def id(self) -> int: ...

    @property
    def code(self) -> str: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def studio_code(self) -> str: ...

    @property
    def hub_id(self) -> int: ...

    @property
    def hub_code(self) -> str: ...


def _iso(t: datetime) -> str:
    return t.astimezone(local_zone()).isoformat()


def booking_data(booking: Booking, **extra: Any) -> tuple[int | None, dict]:
    """A booking's base id and its event data (its slots now, or last held if cancelled)."""
    slots: list[Slot] = booking.current_slots
    hub = slots[0].studio.hub if slots else None
    data: dict[str, Any] = {
        "booking": booking.code,
        "status": str(booking.status),
        "origin": str(booking.origin),
        "participant": booking.participant.code,
        "request": booking.request.code if booking.request is not None else None,
        "base": hub.code if hub else None,
        "base_name": hub.name if hub else None,
        "studio": slots[0].studio.code if slots else None,
        "slots": [s.code for s in slots],
        "start": _iso(slots[0].start) if slots else None,
        "end": _iso(slots[-1].end) if slots else None,
    }
    data.update({k: v for k, v in extra.items() if v is not None})
    return (hub.id if hub else None), data


def booking_event(event_type: str, booking: Booking, **extra: Any) -> int:
    """Emit ``event_type`` (booking.confirmed, .cancelled, .proposed) about ``booking``."""
    if not anyone_hears(event_type):
        return 0
    hub_id, data = booking_data(booking, **extra)
    return emit(event_type, [hub_id] if hub_id is not None else [], data)


def booking_created(
    *,
    code: str,
    status: str,
    origin: str,
    participant: str,
    request: str | None,
    slots: Sequence[SlotFacts],
) -> int:
    """Emit booking.created for a direct booking, from what the booking service holds."""
    if not anyone_hears(BOOKING_CREATED):
        return 0
    first, last = slots[0], slots[-1]
    data = {
        "booking": code,
        "status": str(status),
        "origin": str(origin),
        "participant": participant,
        "request": request,
        "base": first.hub_code,
        "base_name": db.session.scalar(select(Hub.name).where(Hub.id == first.hub_id)),
        "studio": first.studio_code,
        "slots": [s.code for s in slots],
        "start": _iso(first.start),
        "end": _iso(last.end),
    }
    return emit(BOOKING_CREATED, [first.hub_id], data)


def request_placed(request_code: str, participant: str, bookings: Iterable[Booking]) -> int:
    """Emit request.placed: the request's new sessions, listed per base."""
    if not anyone_hears(REQUEST_PLACED):
        return 0
    per_base: dict[int, dict] = {}
    for b in bookings:
        hub_id, data = booking_data(b)
        if hub_id is None:
            continue
        entry = per_base.setdefault(hub_id, {"base": data["base"], "sessions": []})
        entry["sessions"].append(
            {
                "booking": b.code,
                "studio": data["studio"],
                "start": data["start"],
                "end": data["end"],
            }
        )
    data = {"request": request_code, "participant": participant}
    return emit(REQUEST_PLACED, per_base, data, per_base=per_base)


def run_ended(run: OptimizationRun, *, state: str | None = None, message: str | None = None) -> int:
    """Emit run.applied or run.failed (other ends say nothing) about the run's bases.

    An applied run lists, per base an endpoint may see, how many sessions it added, moved and
    dropped there; a run of the whole week concerns every base.
    """
    state = state or run.state
    if state not in (RunState.APPLIED, RunState.FAILED):
        return 0
    if not anyone_hears(RUN_APPLIED if state == RunState.APPLIED else RUN_FAILED):
        return 0
    hubs: set[int] | None = None
    if run.scope_bases:
        hubs = set(db.session.scalars(select(Hub.id).where(Hub.code.in_(run.scope_bases))))
    per_base: dict[int, dict] = {}
    if state == RunState.APPLIED:
        counts = changes_per_base(run.changes)
        for hub_id, code in db.session.execute(
            select(Hub.id, Hub.code).where(Hub.code.in_(counts))
        ).tuples():
            per_base[hub_id] = {"base": code} | {
                kind: counts[code][kind] for kind in ("added", "moved", "dropped")
            }
    data: dict[str, Any] = {
        "run": run.id,
        "week": run.planning_week.week_start.isoformat(),
        "trigger": str(run.kind),
        "status": str(state),
        "summary": (message or run.message or "")[:500] or None,
    }
    if state == RunState.FAILED:
        data["error"] = data.pop("summary")
    else:
        data.update(added=run.added, moved=run.moved, dropped=run.dropped)
    event = RUN_APPLIED if state == RunState.APPLIED else RUN_FAILED
    return emit(event, hubs, data, per_base=per_base if state == RunState.APPLIED else None)


def slot_blocked(slot: Slot, reason: str | None) -> int:
    """Emit slot.blocked about the slot's base."""
    if not anyone_hears(SLOT_BLOCKED):
        return 0
    hub = slot.studio.hub
    data = {
        "slot": slot.code,
        "base": hub.code,
        "base_name": hub.name,
        "studio": slot.studio.code,
        "start": _iso(slot.start),
        "end": _iso(slot.end),
        "reason": reason,
    }
    return emit(SLOT_BLOCKED, [hub.id], data)
