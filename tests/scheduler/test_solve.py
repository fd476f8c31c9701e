"""End-to-end solves: a generated week, warm starts, kept bookings, input errors, fallbacks.

Every solve here states whether the search's own plan came back (``stats["fallback"] is None``)
or the warm start did: a test that does not say so might be testing the fallback.
"""

import time
from collections import Counter

import pytest

from scheduler.candidates import kept_bookings
from scheduler.domain import Plan
from scheduler.generate import generate
from scheduler.greedy import greedy
from scheduler.solve import InstanceError, solve
from scheduler.validate import validate
from tests.scheduler.builders import at, plan, req, slot, week

S1, S2 = "B1-S1", "B2-S1"


def weighted(inst, p: Plan) -> int:
    return sum(inst.weight_of(a.request) for a in p.assignments)


def test_generated_week_is_valid_and_at_least_greedy():
    inst = generate("tiny", seed=11)
    progress = []
    p = solve(inst, time_limit_s=2, workers=1, seed=1, on_progress=lambda *a: progress.append(a))
    assert validate(inst, p) == []
    assert weighted(inst, p) >= weighted(inst, greedy(inst))
    assert p.stats["objective"] == weighted(inst, p) <= p.stats["bound"]
    assert p.stats["warm_start"].startswith("greedy") and p.stats["fallback"] is None
    assert progress and all(e >= 0 and o <= b for e, o, b in progress)
    asked = {r.id: r.sessions for r in inst.requests}
    served = Counter(a.request for a in p.assignments)
    assert {u.request: u.missing for u in p.unassigned} == {
        r: n - served[r] for r, n in asked.items() if served[r] < n
    }


def test_warm_start_from_a_previous_plan():
    inst = generate("tiny", seed=12)
    first = solve(inst, time_limit_s=1, workers=1, seed=1)
    again = solve(inst, time_limit_s=1, workers=1, seed=2, previous=first)
    # The previous plan is the start unless a greedy order strictly beats it on levels 1-2.
    assert again.stats["warm_start"] == "previous" or weighted(inst, again) > weighted(inst, first)
    assert validate(inst, again) == []
    assert weighted(inst, again) >= weighted(inst, first)
    assert first.stats["fallback"] is None and again.stats["fallback"] is None


def test_an_invalid_previous_plan_falls_back_to_greedy():
    inst = week({S1: []}, requests=[req("R1", "P1"), req("R2", "P2")])
    broken = plan(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(S1, 0, 18)]))
    p = solve(inst, time_limit_s=1, workers=1, previous=broken)
    assert p.stats["warm_start"].startswith("greedy") and p.stats["fallback"] is None
    assert validate(inst, p) == [] and len(p.assignments) == 2


def test_locked_confirmed_and_frozen_bookings_are_kept_exactly():
    inst = week(
        {S1: [], S2: []},
        days=3,
        hours=(14, 16, 18, 20),
        requests=[
            req("R1", "P1", sessions=2, priority=1),
            req("R2", "P2", sessions=3, priority=3),
            req("R3", "P3", sessions=2),
        ],
        bookings=[
            ("R1", [slot(S1, 1, 18)], "locked"),
            ("R1", [slot(S2, 2, 20)], "confirmed"),
            ("R3", [slot(S1, 0, 14)], "tentative"),  # before the freeze: kept too
        ],
        policy={"freeze_until": at(1).isoformat()},
    )
    p = solve(inst, time_limit_s=1, workers=1)
    held = Counter((a.request, a.slots) for a in p.assignments)
    for b in kept_bookings(inst):
        assert held[(b.request, b.slots)] >= 1
    assert validate(inst, p) == [] and p.stats["fallback"] is None
    assert all(
        inst.slot_by_id[a.slots[0]].start >= at(1) for a in p.assignments if a.request == "R2"
    )


def test_clashing_locked_bookings_are_an_input_error_naming_them():
    inst = week(
        {S1: []},
        requests=[req("R1", "P1"), req("R2", "P2")],
        bookings=[("R1", [slot(S1, 0, 18)], "locked"), ("R2", [slot(S1, 0, 18)], "locked")],
    )
    with pytest.raises(InstanceError, match=slot(S1, 0, 18)):
        solve(inst, time_limit_s=1, workers=1)


def test_no_time_at_all_still_returns_the_valid_warm_start():
    inst = generate("tiny", seed=13)
    p = solve(inst, time_limit_s=0.0, workers=1)
    assert validate(inst, p) == []
    assert weighted(inst, p) == weighted(inst, greedy(inst))


def test_a_search_that_fails_half_way_still_returns_a_valid_plan(monkeypatch):
    """A bug inside the neighbourhood search never costs the week its plan or a hard rule."""
    import scheduler.solve as solve_module

    inst = generate("tiny", seed=14)
    real_run = solve_module.run

    def run_then_fail(search, deadline, share, bound=None):
        real_run(search, min(deadline, time.monotonic() + 0.5), share, bound=bound)
        assert search.sessions, "the tiny week has sessions beyond its kept bookings"
        search.sessions.append(search.sessions[0])  # the same slots twice: a broken plan
        raise AssertionError("area model out of step")

    monkeypatch.setattr(solve_module, "run", run_then_fail)
    p = solve(inst, time_limit_s=2, workers=1, seed=1)
    assert validate(inst, p) == []
    assert weighted(inst, p) >= weighted(inst, greedy(inst))
    assert "AssertionError: area model out of step" in p.stats["search_error"]
    assert p.stats["fallback"].endswith(
        "after the search failed (AssertionError: area model out of step)"
    )


def test_category_separation_and_harvest_lots_are_never_broken():
    """The model knows rules 9 and 10: the plan is its own (no fallback) and valid."""
    tea = [req(f"T{i}", f"PT{i}", category="tea", priority=3) for i in range(4)]
    inst = week(
        {S1: [], "B1-S2": [], S2: []},
        days=2,
        requests=[*tea, req("H1", "PH", sessions=2, harvest=(at(1, 6), at(2, 0)), priority=3)],
        policy={"category_separation": "base"},
    )
    p = solve(inst, time_limit_s=1, workers=1, seed=1)
    assert validate(inst, p) == [] and p.stats["fallback"] is None
    assert weighted(inst, p) >= weighted(inst, greedy(inst))
