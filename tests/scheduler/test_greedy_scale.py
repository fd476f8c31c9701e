"""The greedy's indexes (bases by reach, studios by free slots, days the participant can still
use) change how fast it runs, never what it places."""

import dataclasses
import hashlib
import json

import numpy as np
import pytest

from scheduler.candidates import eligibility
from scheduler.generate import generate
from scheduler.greedy import Calendar, eligible_bases, greedy
from scheduler.reach import Reach
from tests.scheduler.builders import req, slot, week


def digest(plan):
    rows = [[a.request, list(a.slots)] for a in plan.assignments]
    rows += [[u.request, u.missing] for u in plan.unassigned]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


# Figures of the greedy before it was indexed (it scanned every base for every request): the
# weighted served and a digest of the whole plan, assignments and unassigned in order.
BEFORE = [
    ("S", 0, False, 684, "0c790485600537e1"),
    ("M", 1, False, 3210, "c43fae1a7c16864c"),
    ("M", 2, True, 3002, "910f5b5cfbaf9f81"),
]


@pytest.mark.parametrize("size, seed, programme, served, plan", BEFORE)
def test_same_plan_as_the_unindexed_greedy(size, seed, programme, served, plan):
    p = greedy(generate(size, seed=seed, programme=programme))
    assert (p.stats["weighted_served"], digest(p)) == (served, plan)


@pytest.mark.parametrize("size, seed, programme", [("S", 0, False), ("M", 2, True)])
def test_reach_gives_the_bases_in_eligible_bases_order(size, seed, programme):
    inst = generate(size, seed=seed, programme=programme)
    reach = Reach(inst)
    for r in inst.requests:
        assert reach.names(reach.preferred(r) + reach.rest(r)) == eligible_bases(inst, r)


def test_reach_with_an_allowed_list_and_a_distance_cut():
    inst = week(
        {"B1-S1": [], "B2-S1": ["kitchen"], "B3-S1": ["kitchen"]},
        base_at={"B1": (30.0, 120.0), "B2": (30.5, 120.0), "B3": (31.0, 120.0)},
        requests=[
            req("R1", "P1", needs=["kitchen"]),
            req("R2", "P2", bases=["B3", "B1"], prefer=["B1"]),
            req("R3", "P3", max_km=1),
        ],
    )
    reach = Reach(inst)
    for r in inst.requests:
        assert reach.names(reach.preferred(r) + reach.rest(r)) == eligible_bases(inst, r)
    assert reach.names(reach.rest(inst.request_by_id["R1"])) == ["B2", "B3"]
    assert reach.names(reach.preferred(inst.request_by_id["R2"])) == ["B1"]


def test_first_open_days_follow_the_daily_cap_and_same_day_same_base():
    inst = week(
        {"B1-S1": [], "B2-S1": []},
        days=2,
        hours=(14, 16, 18),
        requests=[req("R1", "P1", sessions=3, days=(0, 2))],
    )
    cal, r = Calendar(inst), inst.request_by_id["R1"]
    day0, day1 = (inst.local_day(s.start) for s in (inst.slots[0], inst.slots[-1]))
    assert cal.first_open_days("P1", day0, day1) == (day0, {})
    cal.take(r, (inst.slot_by_id[slot("B1-S1", 0, 14)],))
    # Day 0 is B1's now (same day same base); day 1 is open everywhere.
    assert cal.first_open_days("P1", day0, day0) == (None, {"B1": day0})
    assert cal.first_open_days("P1", day0, day1) == (day1, {"B1": day0})
    cal.take(r, (inst.slot_by_id[slot("B1-S1", 0, 16)],))
    # The daily cap (2) closes day 0 at B1 too.
    assert cal.first_open_days("P1", day0, day0) == (None, {})
    assert cal.first_open_days("P1", day0, day1) == (day1, {})


def test_midnight_is_the_local_start_of_the_day():
    inst = week({"B1-S1": []}, days=1, hours=(14,))
    cal = Calendar(inst)
    day = inst.local_day(inst.slots[0].start)
    assert cal.midnight(day) == inst.slots[0].start.timestamp() - 14 * 3600


@pytest.mark.parametrize("size, seed, programme", [("S", 0, False), ("M", 2, True)])
def test_candidate_eligibility_is_every_base_rule_5_allows_in_base_order(size, seed, programme):
    # The vectorised eligibility (one distance pass per participant) against rule 5 read base by
    # base, as the validator reads it.
    inst = generate(size, seed=seed, programme=programme)
    table = eligibility(inst)
    for r, bases in zip(inst.requests, table, strict=True):
        assert bases == [
            b.id
            for b in inst.bases
            if (r.bases is None or b.id in r.bases)
            and (r.max_km is None or inst.distance_km(r.participant, b.id) <= r.max_km + 1e-6)
            and any(r.needs <= s.features for s in b.studios)
        ]
    assert any(len(bases) < len(inst.bases) for bases in table)


def test_eligibility_cuts_max_km_exactly_at_the_limit():
    inst = week(
        {"B1-S1": [], "B2-S1": []},
        base_at={"B1": (30.0, 120.0), "B2": (30.5, 120.0)},
        requests=[req("R1", "P1"), req("R2", "P1", max_km=1)],
    )
    far = inst.distance_km("P1", "B2")
    exact = dataclasses.replace(inst.requests[1], max_km=far)
    short = dataclasses.replace(inst.requests[1], max_km=far - 2e-6)
    inst = dataclasses.replace(inst, requests=(inst.requests[0], exact, short))
    assert eligibility(inst)[1][-1] == "B2"
    assert "B2" not in eligibility(inst)[2]


def test_each_bases_latest_free_slot_follows_every_take():
    # The tables asked for before the takes are kept up to date by them: equal to the tables of a
    # calendar that takes the same sessions first and is asked afterwards.
    inst = generate("M", seed=2, programme=True)
    plan = greedy(inst)
    needs = [frozenset(), frozenset({"kitchen"}), frozenset({"cold_chain", "kitchen"})]
    early, late = Calendar(inst), Calendar(inst)
    before = [early.latest_free_by_base(n).copy() for n in needs]
    for cal in (early, late):
        for a in plan.assignments:
            cal.take(inst.request_by_id[a.request], tuple(inst.slot_by_id[s] for s in a.slots))
    for n, was in zip(needs, before, strict=True):
        assert (early.latest_free_by_base(n) == late.latest_free_by_base(n)).all()
        assert (early.latest_free_by_base(n) <= was).all()
    assert any(
        (early.latest_free_by_base(n) < was).any() for n, was in zip(needs, before, strict=True)
    )


@pytest.mark.parametrize("size, seed, programme", [("S", 0, False), ("M", 2, True)])
def test_rest_among_some_bases_is_the_rest_in_the_same_order(size, seed, programme):
    inst = generate(size, seed=seed, programme=programme)
    reach = Reach(inst)
    among = np.arange(len(inst.bases)) % 3 != 0
    for r in inst.requests:
        assert reach.rest_index(r, among).tolist() == [i for i in reach.rest(r) if among[i]]
