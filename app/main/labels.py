"""Translated names for the codes stored in the database (states, kinds, regions, features).

The database keeps stable English codes; people see these labels in their language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

LABELS: dict[str, dict[str, object]] = {
    "region": {
        "east": _l("East China"),
        "south": _l("South China"),
        "north": _l("North China"),
        "central": _l("Central China"),
        "southwest": _l("Southwest China"),
        "northwest": _l("Northwest China"),
        "northeast": _l("Northeast China"),
    },
    "feature": {
        "kitchen": _l("Kitchen"),
        "cold_chain": _l("Cold chain"),
        "large_set": _l("Large set"),
        "green_screen": _l("Green screen"),
        "outdoor": _l("Outdoor"),
    },
    "kind": {"producer": _l("Producer"), "merchant": _l("Merchant")},
    "role": {
        "admin": _l("Administrator"),
        "operator": _l("Base operator"),
        "participant": _l("Participant"),
    },
    "booking": {
        "tentative": _l("Tentative"),
        "confirmed": _l("Confirmed"),
        "locked": _l("Locked"),
        "cancelled": _l("Cancelled"),
    },
    "slot": {"open": _l("Open"), "blocked": _l("Blocked"), "booked": _l("Booked")},
    "week": {"draft": _l("Draft"), "published": _l("Published")},
    "request": {"open": _l("Awaiting placement"), "withdrawn": _l("Withdrawn")},
    "origin": {
        "participant": _l("Booked directly"),
        "operator": _l("By the operator"),
        "optimizer": _l("By the optimizer"),
        "import": _l("Imported"),
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
