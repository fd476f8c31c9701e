"""A base's own details and the retirement of a studio.

Retiring a studio never loses a booking. The rule, at the moment of retirement:

* a future slot that a booking holds is **kept**, with its booking, exactly as it is (the
  session happens as booked; the operator may move it by booking another studio and cancelling);
* a future slot nobody holds is **removed** when no booking ever held it, and **blocked** (reason
  "studio retired") when a past booking's history refers to it;
* from then on the studio is out of the search, out of the weeks generated from the template
  and out of the solver's input (only the slots its kept bookings hold remain there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, exists, select

from app.extensions import db
from app.models import REGIONS, Booking, BookingSlot, Hub, Slot, SlotHold, Studio, User, utcnow
from app.models.vocabulary import SlotState
from app.services.accounts import audit
from app.services.timetable.service import TimetableError, bookings_holding

#: The reason a retired studio's blocked slots carry.
RETIRED_REASON = "studio retired"


@dataclass
class Retirement:
    """What retiring did: slots removed, slots blocked, and the bookings kept (slot, booking)."""

    removed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    kept: list[tuple[Slot, Booking]] = field(default_factory=list)


def future_bookings(studio: Studio, now: datetime | None = None) -> list[tuple[Slot, Booking]]:
    """The studio's future slots that bookings hold (what retiring keeps), earliest first."""
    return list(
        db.session.execute(
            select(Slot, Booking)
            .join(SlotHold, SlotHold.slot_id == Slot.id)
            .join(Booking, Booking.id == SlotHold.booking_id)
            .where(Slot.studio_id == studio.id, Slot.start > (now or utcnow()))
            .order_by(Slot.start)
        )
        .tuples()
        .all()
    )


def retire_studio(studio: Studio, actor: User, *, now: datetime | None = None) -> Retirement:
    """Retire ``studio`` under the rule of the module; one transaction, audited."""
    now = now or utcnow()
    if studio.retired_at is not None:
        raise TimetableError("retired", "the studio is retired already")
    if len([s for s in studio.hub.studios if s.retired_at is None]) <= 1:
        raise TimetableError("last_studio", "a base keeps at least one studio")
    slots = list(
        db.session.scalars(
            select(Slot)
            .where(Slot.studio_id == studio.id, Slot.start > now)
            .order_by(Slot.start)
            .with_for_update()
        )
    )
    holds = bookings_holding(slots)
    out = Retirement()
    for slot in slots:
        if slot.id in holds:
            out.kept.append((slot, holds[slot.id]))
            continue
        had_booking = db.session.scalar(select(exists().where(BookingSlot.slot_id == slot.id)))
        if had_booking:
            if slot.state != SlotState.BLOCKED:
                slot.state = SlotState.BLOCKED
                audit.record("slot.block", actor=actor, subject=slot.code, reason=RETIRED_REASON)
            out.blocked.append(slot.code)
        else:
            out.removed.append(slot.code)
    if out.removed:
        db.session.execute(delete(Slot).where(Slot.code.in_(out.removed)))
    studio.retired_at = now
    audit.record(
        "studio.retire", actor=actor, subject=studio.code, removed=len(out.removed),
        blocked=out.blocked, kept=[b.code for _s, b in out.kept],
    )  # fmt: skip
    db.session.commit()
    return out


@dataclass(frozen=True)
class BaseDetails:
    """The base's own details an operator may change."""

    name: str
    city: str
    province: str
    region: str
    lat: float
    lon: float


def update_base(hub: Hub, details: BaseDetails, actor: User) -> Hub:
    """Change the base's name, place and coordinates (checked), audited with the old values."""
    name, city, province = (details.name.strip(), details.city.strip(), details.province.strip())
    if not name or len(name) > 120:
        raise TimetableError("base_name", "a name of 1 to 120 characters")
    if not city or len(city) > 60 or not province or len(province) > 60:
        raise TimetableError("base_place", "a city and a province of 1 to 60 characters")
    if details.region not in REGIONS:
        raise TimetableError("base_region", "choose a region")
    if not (-90 <= details.lat <= 90 and -180 <= details.lon <= 180):
        raise TimetableError("base_coordinates", "latitude -90..90, longitude -180..180")
    before = {"name": hub.name, "city": hub.city, "province": hub.province,
              "region": str(hub.region), "lat": hub.lat, "lon": hub.lon}  # fmt: skip
    hub.name, hub.city, hub.province = name, city, province
    hub.region, hub.lat, hub.lon = details.region, details.lat, details.lon  # type: ignore[assignment]
    audit.record("base.update", actor=actor, subject=hub.code, before=before)
    db.session.commit()
    return hub
