"""The diff of a run, its reasons, and the merge around bookings made during a solve."""

from __future__ import annotations

from dataclasses import replace

from app.services.runs.diff import diff, merge_around, touched_participants
from scheduler.domain import Booking
from scheduler.validate import validate
from tests.scheduler.builders import plan, req, slot, week


def base_week(**kw):
    return week(
        studios={"B1-S1": [], "B2-S1": []},
        days=2,
        hours=(10, 20),
        requests=[
            req("R1", "P1", sessions=2, prefer=["B2"]),
            req("R2", "P2", prime=True),
            req("R3", "P3"),
            req("R4", "P4"),
        ],
        bookings=[
            ("R1", [slot("B1-S1", 0, 10)], "tentative"),
            ("R2", [slot("B1-S1", 1, 10)], "tentative"),
            ("R3", [slot("B2-S1", 1, 10)], "tentative"),
            ("R4", [slot("B2-S1", 0, 20)], "confirmed"),
        ],
        **kw,
    )


def test_diff_names_moves_drops_and_additions_with_reasons_never_a_confirmed_booking():
    inst = base_week()
    p = plan(
        inst,
        ("R1", [slot("B2-S1", 0, 10)]),  # moved to its preferred base
        ("R1", [slot("B2-S1", 1, 20)]),  # added
        ("R2", [slot("B1-S1", 1, 20)]),  # moved to prime time
        ("R4", [slot("B2-S1", 0, 20)]),  # confirmed, unchanged
    )  # R3 dropped
    changes = {(c.change, c.request): c for c in diff(inst, p, open_requests={"R1", "R2"})}
    assert set(changes) == {("moved", "R1"), ("added", "R1"), ("moved", "R2"), ("dropped", "R3")}
    assert changes["moved", "R1"].reason == "preferred_base"
    assert changes["moved", "R2"].reason == "prime_time"
    assert changes["dropped", "R3"].reason == "withdrawn"
    assert changes["added", "R1"].after == (slot("B2-S1", 1, 20),)
    assert changes["moved", "R1"].before == (slot("B1-S1", 0, 10),)


def test_a_plan_equal_to_the_bookings_changes_nothing():
    inst = base_week()
    p = plan(inst, *[(b.request, list(b.slots)) for b in inst.bookings])
    assert diff(inst, p) == []


def test_merge_keeps_a_booking_made_during_the_solve_and_drops_the_colliding_session():
    before = base_week()
    # The solver moved R3 to B1-S1 day 0 20:00 ...
    p = plan(
        before,
        ("R1", [slot("B1-S1", 0, 10)]),
        ("R2", [slot("B1-S1", 1, 10)]),
        ("R3", [slot("B1-S1", 0, 20)]),
        ("R4", [slot("B2-S1", 0, 20)]),
    )
    assert validate(before, p) == []
    # ... while P1 booked that very slot directly (confirmed).
    now = replace(
        before,
        bookings=(*before.bookings, Booking("R1", (slot("B1-S1", 0, 20),), "confirmed")),
    )
    touched = touched_participants(before, now)
    assert touched == {"P1"}
    merged = merge_around(now, p, touched)
    assert validate(now, merged) == []
    keys = {(a.request, a.slots) for a in merged.assignments}
    assert ("R1", (slot("B1-S1", 0, 20),)) in keys  # the new booking is kept
    assert ("R3", (slot("B1-S1", 0, 20),)) not in keys  # the colliding session is left out
    assert ("R4", (slot("B2-S1", 0, 20),)) in keys


def test_a_booking_cancelled_during_the_solve_is_not_resurrected():
    before = base_week()
    p = plan(before, *[(b.request, list(b.slots)) for b in before.bookings])
    now = replace(before, bookings=before.bookings[1:])  # R1's tentative session cancelled
    merged = merge_around(now, p, touched_participants(before, now))
    assert all(a.request != "R1" for a in merged.assignments)
    assert validate(now, merged) == []
