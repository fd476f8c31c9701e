"""Same-category sessions at one base at the same time (what category separation forbids).

The week grid marks such slots so an operator sees the clash: two sellers of one category
splitting the same audience (direct bookings and earlier weeks may hold them; the optimizer
never adds one where the week separates categories).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import NamedTuple


class HeldSlot(NamedTuple):
    """A slot held by a session: its id, the seller's category and id, its time."""

    slot_id: int
    category: str | None
    participant_id: int
    start: datetime
    end: datetime


def clashing_slots(held: list[HeldSlot]) -> dict[int, str]:
    """Slot id → category, for every held slot that overlaps a slot held by another participant
    of the same category (all at one base)."""
    by_category: dict[str, list[HeldSlot]] = defaultdict(list)
    for h in held:
        if h.category:
            by_category[h.category].append(h)
    out: dict[int, str] = {}
    for category, members in by_category.items():
        members.sort(key=lambda h: h.start)
        for k, a in enumerate(members):
            for b in members[k + 1 :]:
                if b.start >= a.end:
                    break
                if a.participant_id != b.participant_id:
                    out[a.slot_id] = out[b.slot_id] = category
    return out
