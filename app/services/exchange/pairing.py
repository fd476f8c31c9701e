"""The one rule that tells a moved session from a dropped one and an added one.

Within one request, the sessions a plan no longer has (old) and the sessions it has anew (new)
are paired as *moves* in time order: the earliest old with the earliest new, and so on (ties by
slot codes). Old sessions left over are *dropped*, new ones left over are *added*. Applying a
plan (``exchange.apply``) and explaining a run (``runs.diff``) both pair this way, so the
report names the same booking moves the database recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from scheduler.domain import Instance

Old = TypeVar("Old")
New = TypeVar("New")
Slots = tuple[str, ...]


def in_time_order(
    inst: Instance, sessions: Sequence[Old], slots: Callable[[Old], Slots]
) -> list[Old]:
    """``sessions`` by the start of their first slot, then by their slot codes."""
    return sorted(sessions, key=lambda s: (inst.slot_by_id[slots(s)[0]].start, slots(s)))


def pair_sessions(
    inst: Instance,
    olds: Sequence[Old],
    news: Sequence[New],
    *,
    old_slots: Callable[[Old], Slots],
    new_slots: Callable[[New], Slots],
) -> tuple[list[tuple[Old, New]], list[Old], list[New]]:
    """(moves as (old, new) pairs, dropped olds, added news) of one request."""
    olds = in_time_order(inst, olds, old_slots)
    news = in_time_order(inst, news, new_slots)
    n = min(len(olds), len(news))
    return list(zip(olds[:n], news[:n], strict=True)), olds[n:], news[n:]


def same(slots: Slots) -> Slots:
    """A session given as its slot codes."""
    return slots
