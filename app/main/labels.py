"""Translated names for the codes stored in the database (states, kinds, regions, features).

The database keeps stable English codes; people see these labels in their language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# SelectChoice is new in WTForms 3.3; the newest stubs (3.2) do not have it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]

from app.models.vocabulary import (
    BookingStatus,
    Feature,
    Origin,
    ParticipantKind,
    Region,
    RequestStatus,
    Role,
    SlotState,
    WeekState,
)

LABELS: dict[str, dict[object, object]] = {
    "region": {
        Region.EAST: _l("East China"),
        Region.SOUTH: _l("South China"),
        Region.NORTH: _l("North China"),
        Region.CENTRAL: _l("Central China"),
        Region.SOUTHWEST: _l("Southwest China"),
        Region.NORTHWEST: _l("Northwest China"),
        Region.NORTHEAST: _l("Northeast China"),
    },
    "feature": {
        Feature.KITCHEN: _l("Kitchen"),
        Feature.COLD_CHAIN: _l("Cold chain"),
        Feature.LARGE_SET: _l("Large set"),
        Feature.GREEN_SCREEN: _l("Green screen"),
        Feature.OUTDOOR: _l("Outdoor"),
    },
    "kind": {ParticipantKind.PRODUCER: _l("Producer"), ParticipantKind.MERCHANT: _l("Merchant")},
    "role": {
        Role.ADMIN: _l("Administrator"),
        Role.OPERATOR: _l("Base operator"),
        Role.PARTICIPANT: _l("Participant"),
    },
    "booking": {
        BookingStatus.TENTATIVE: _l("Tentative"),
        BookingStatus.CONFIRMED: _l("Confirmed"),
        BookingStatus.LOCKED: _l("Locked"),
        BookingStatus.CANCELLED: _l("Cancelled"),
    },
    # "booked" is not a stored state: an open slot that a booking holds.
    "slot": {SlotState.OPEN: _l("Open"), SlotState.BLOCKED: _l("Blocked"), "booked": _l("Booked")},
    "week": {WeekState.DRAFT: _l("Draft"), WeekState.PUBLISHED: _l("Published")},
    "request": {
        RequestStatus.OPEN: _l("Awaiting placement"),
        RequestStatus.WITHDRAWN: _l("Withdrawn"),
    },
    # What a request is, derived from its facts (app.services.booking.request_state).
    "request_state": {
        "withdrawn": _l("Withdrawn"),
        "placed": _l("Placed"),
        "to_accept": _l("Sessions to accept"),
        "placing": _l("Looking for sessions"),
        "no_timetable": _l("No timetable published for these dates yet"),
        "ended": _l("Ended short of sessions"),
        "partly_placed": _l("Partly placed, waiting for the rest"),
        "waiting": _l("Waiting for a free slot"),
    },
    "origin": {
        Origin.PARTICIPANT: _l("Booked directly"),
        Origin.OPERATOR: _l("By the operator"),
        Origin.OPTIMIZER: _l("By the optimizer"),
        Origin.IMPORT: _l("Imported"),
    },
    "priority": {1: _l("Regular"), 2: _l("Small business"), 3: _l("Supported")},
    "daypart": {"morning": _l("Morning"), "afternoon": _l("Afternoon"), "evening": _l("Evening")},
}


def label(family: str, code: object) -> str:
    """The label of ``code`` in ``family``; unknown codes (a new feature) show as they are."""
    found = LABELS.get(family, {}).get(code)
    return str(found) if found is not None else str(code)


def opts(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value=value, label=text) for value, text in pairs]
