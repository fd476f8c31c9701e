"""A run scoped to some bases changes nothing anywhere else (the operators' re-optimize)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ACTIVE_STATUSES, Booking, BookingSlot, Hub, RunChange, Slot, Studio
from app.services.runs.reoptimize import reoptimize
from tests.app.nightly.conftest import WEEK


def bookings_by_base() -> dict[str, set]:
    """Every active booking's (code, status, slots), grouped by the base of its slots."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Hub.code, Booking.code, Booking.status, Slot.code)
        .join(Studio, Studio.hub_id == Hub.id)
        .join(Slot, Slot.studio_id == Studio.id)
        .join(BookingSlot, BookingSlot.slot_id == Slot.id)
        .join(Booking, Booking.id == BookingSlot.booking_id)
        .where(BookingSlot.released_at.is_(None), Booking.status.in_(ACTIVE_STATUSES))
    )
    out: dict[str, set] = {}
    for hub, code, status, slot in rows:
        out.setdefault(hub, set()).add((code, status, slot))
    return out


def test_a_run_scoped_to_some_bases_changes_nothing_at_any_other_base(nightly_app):
    hubs = sorted(db.session.scalars(select(Hub.code)))
    scope = hubs[:3]
    before = bookings_by_base()
    run = reoptimize(WEEK, trigger="manual", actor_label="op", time_limit_s=4, scope_bases=scope)
    assert run.state == "applied", run.message
    assert run.scope_bases == scope
    after = bookings_by_base()
    for hub in hubs[3:]:
        assert after.get(hub) == before.get(hub), hub
    changes = db.session.scalars(select(RunChange).where(RunChange.run_id == run.id)).all()
    assert changes  # the run did change the scoped bases
    slot_base = dict(
        db.session.execute(
            select(Slot.code, Hub.code)
            .join(Studio, Studio.id == Slot.studio_id)
            .join(Hub, Hub.id == Studio.hub_id)
        ).all()
    )
    for c in changes:
        assert {slot_base[s] for s in (*c.before_slots, *c.after_slots)} <= set(scope)
        # the bases the change stores (the run report reads them) are its slots' bases
        assert c.before_base == (slot_base[c.before_slots[0]] if c.before_slots else None)
        assert c.after_base == (slot_base[c.after_slots[0]] if c.after_slots else None)
