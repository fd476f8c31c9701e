"""Property: whatever is booked or cancelled during a solve, the merged plan keeps every booking
as it is now and obeys every hard rule (random tiny weeks, greedy standing in for the solver)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.runs.diff import merge_around, touched_participants
from scheduler.domain import Booking, Plan
from scheduler.generate import generate
from scheduler.greedy import greedy
from scheduler.validate import check_instance, validate


def _book_during_solve(inst, rng: random.Random, tries: int):
    """The week after some participants booked free runs (confirmed) and cancelled tentatives."""
    freeze = inst.policy.freeze_until
    bookings = list(inst.bookings)
    movable = [b for b in bookings if b.status == "tentative"]
    for b in rng.sample(movable, k=min(len(movable), rng.randint(0, 2))):
        if freeze is None or inst.slot_by_id[b.slots[0]].start >= freeze:
            bookings.remove(b)  # cancelled by its participant
    studios = list(inst.slots_by_studio)
    for _ in range(tries):
        req = rng.choice(inst.requests)
        runs = inst.slots_by_studio[rng.choice(studios)]
        if len(runs) < req.length:
            continue
        k = rng.randrange(len(runs) - req.length + 1)
        slots = tuple(s.id for s in runs[k : k + req.length])
        candidate = replace(inst, bookings=(*bookings, Booking(req.id, slots, "confirmed")))
        if not check_instance(candidate):
            bookings.append(Booking(req.id, slots, "confirmed"))
    return replace(inst, bookings=tuple(bookings))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), tries=st.integers(1, 25))
def test_the_merged_plan_keeps_every_booking_and_every_rule(seed, tries):
    before = generate("tiny", seed=seed)
    plan = greedy(before)
    assert validate(before, plan) == []
    now = _book_during_solve(before, random.Random(seed), tries)
    merged = merge_around(
        now, Plan(plan.instance, plan.assignments), touched_participants(before, now)
    )
    assert validate(now, merged) == []
    have = Counter((a.request, tuple(a.slots)) for a in merged.assignments)
    need = Counter((b.request, b.slots) for b in now.bookings)
    assert not need - have  # every booking of the week as it is now is in the merged plan
