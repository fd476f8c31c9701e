"""The first-come-first-served baseline: keeps bookings, obeys every hard rule, in file order."""

import pytest

from scheduler.generate import generate
from scheduler.greedy import eligible_bases, greedy
from scheduler.validate import validate
from tests.scheduler.builders import at, req, slot, week

S1, S2 = "B1-S1", "B2-S1"


def sessions(p):
    return [(a.request, list(a.slots)) for a in p.assignments]


def test_keeps_every_booking_and_fills_the_rest():
    inst = week(
        {S1: [], S2: []},
        days=2,
        requests=[req("R1", "P1", sessions=2), req("R2", "P2", sessions=1)],
        bookings=[("R1", [slot(S2, 1, 20)], "tentative")],
    )
    p = greedy(inst)
    assert validate(inst, p) == []
    assert sessions(p)[0] == ("R1", [slot(S2, 1, 20)])
    assert len(p.assignments) == 3 and p.unassigned == ()


def test_first_come_first_served_and_earliest_slot():
    inst = week(requests=[req("R1", "P1"), req("R2", "P2"), req("R3", "P3")])
    p = greedy(inst)
    assert sessions(p) == [("R1", [slot(S1, 0, 18)]), ("R2", [slot(S1, 0, 20)])]
    assert [(u.request, u.missing) for u in p.unassigned] == [("R3", 1)]
    assert p.stats["weighted_served"] == 2


def test_preferred_base_first_then_nearest():
    inst = week(
        {S1: [], S2: [], "B3-S1": []},
        base_at={"B1": (35.0, 120.0), "B2": (31.0, 120.0), "B3": (30.0, 120.0)},
        requests=[req("R1", "P1", prefer=["B2"]), req("R2", "P2")],
    )
    assert eligible_bases(inst, inst.request_by_id["R1"]) == ["B2", "B3", "B1"]
    assert sessions(greedy(inst)) == [("R1", [slot(S2, 0, 18)]), ("R2", [slot("B3-S1", 0, 18)])]


def test_never_before_freeze_and_inside_window_features_distance():
    inst = week(
        {S1: [], S2: ["kitchen"], "B3-S1": ["kitchen"]},
        days=3,
        base_at={"B3": (45.0, 120.0)},
        requests=[req("R1", "P1", needs=["kitchen"], max_km=100, days=(0, 3))],
        policy={"freeze_until": at(1, 20).isoformat()},
    )
    assert sessions(greedy(inst)) == [("R1", [slot(S2, 1, 20)])]


def test_daily_cap_same_day_same_base_and_no_overlap():
    inst = week(
        {S1: [], "B1-S2": [], S2: []},
        days=2,
        hours=(14, 16, 18),
        requests=[
            req("R1", "P1", sessions=3, days=(0, 1)),  # cap 2 a day: one session short
            req("R2", "P1", sessions=1, days=(0, 1), bases=["B2"]),  # day 0 is at B1 already
            req("R3", "P2", sessions=2, length=2, days=(1, 2)),
        ],
    )
    p = greedy(inst)
    assert validate(inst, p) == []
    got = sessions(p)
    assert got[:2] == [("R1", [slot(S1, 0, 14)]), ("R1", [slot(S1, 0, 16)])]
    # R3's two 4-hour sessions cannot overlap, so the second goes to 16:00-20:00 … which would
    # overlap 14:00-18:00: only one fits on the single day of its window.
    assert [a for a in got if a[0] == "R3"] == [("R3", [slot(S1, 1, 14), slot(S1, 1, 16)])]
    missing = {u.request: u.missing for u in p.unassigned}
    assert missing == {"R1": 1, "R2": 1, "R3": 1}


def test_length_runs_need_consecutive_slots():
    inst = week(hours=(8, 18, 20), requests=[req("R1", "P1", length=2)])
    assert sessions(greedy(inst)) == [("R1", [slot(S1, 0, 18), slot(S1, 0, 20)])]


@pytest.mark.parametrize("size, seed", [("tiny", s) for s in range(12)] + [("S", 0), ("M", 1)])
def test_valid_on_generated_weeks_and_keeps_every_booking(size, seed):
    inst = generate(size, seed=seed)
    p = greedy(inst)
    assert validate(inst, p) == []
    kept = {(a.request, a.slots) for a in p.assignments}
    assert all((b.request, b.slots) in kept for b in inst.bookings)
    served = {}
    for a in p.assignments:
        served[a.request] = served.get(a.request, 0) + 1
    assert {u.request: u.missing for u in p.unassigned} == {
        r.id: r.sessions - served.get(r.id, 0)
        for r in inst.requests
        if served.get(r.id, 0) < r.sessions
    }


def test_harvest_lot_and_category_separation():
    # R1's lot is ready on day 1 only; T2 may not sit beside T1's tea at B1 at 18:00, C1 may.
    inst = week(
        {S1: [], "B1-S2": ["kitchen"]},
        days=3,
        requests=[
            req("R1", "P1", harvest=(at(1, 6), at(2, 0))),
            req("T1", "PT1", category="tea", bases=["B1"]),
            req("T2", "PT2", category="tea", needs=["kitchen"]),
            req("C1", "PC1", category="citrus", needs=["kitchen"]),
        ],
        policy={"category_separation": "base"},
    )
    p = greedy(inst)
    assert validate(inst, p) == []
    assert sessions(p) == [
        ("R1", [slot(S1, 1, 18)]),
        ("T1", [slot(S1, 0, 18)]),
        ("T2", [slot("B1-S2", 0, 20)]),
        ("C1", [slot("B1-S2", 0, 18)]),
    ]
