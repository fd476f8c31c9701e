"""A run limited to some bases: everything outside them is kept exactly as it is.

An operator re-plans only the bases they run. The least invasive way is to narrow the week
before the solver sees it: every booking outside the scope becomes ``locked`` (the validator's
rule 7 then keeps it identical) and free slots outside the scope are left out (nothing new can
be placed there). Requests stay, so a participant's daily cap and same-day rule still count
their sessions elsewhere. ``changes_outside`` is the check after the solve: a plan that would
still touch another base is refused.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from app.models.vocabulary import BookingStatus
from scheduler.domain import Booking, Instance, Plan


def scope_instance(inst: Instance, bases: Collection[str] | None) -> Instance:
    """``inst`` with every booking outside ``bases`` fixed and only their free slots open."""
    if bases is None:
        return inst
    scope = set(bases)

    def inside(slot_codes) -> bool:
        return all(inst.base_of_slot(s) in scope for s in slot_codes)

    bookings = tuple(
        b if inside(b.slots) else Booking(b.request, b.slots, BookingStatus.LOCKED)
        for b in inst.bookings
    )
    held = {s for b in inst.bookings for s in b.slots}
    slots = tuple(s for s in inst.slots if s.id in held or inst.base_of_slot(s.id) in scope)
    return replace(inst, bookings=bookings, slots=slots)


def changes_outside(inst: Instance, plan: Plan, bases: Collection[str] | None) -> list[str]:
    """Slots outside ``bases`` whose booking the plan would add, move or drop (empty = fine)."""
    if bases is None:
        return []
    scope = set(bases)
    before = {(b.request, tuple(b.slots)) for b in inst.bookings}
    after = {(a.request, tuple(a.slots)) for a in plan.assignments}
    touched = {s for _, slots in before ^ after for s in slots}
    return sorted(
        s for s in touched if s not in inst.slot_by_id or inst.base_of_slot(s) not in scope
    )
