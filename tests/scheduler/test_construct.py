"""Re-ordered greedy starts: valid, and never worse than the start they are compared with."""

import dataclasses
import time

from scheduler import construct
from scheduler.construct import TRY_FIRST, best_start, orders, served_key
from scheduler.generate import generate
from scheduler.greedy import greedy
from scheduler.validate import validate
from tests.scheduler.builders import req, week


def test_rigid_requests_first_beats_file_order():
    # R1 (any base) comes first in the file and takes B1, the only base R2 may use.
    inst = week(
        {"B1-S1": [], "B2-S1": []},
        hours=(18,),
        requests=[req("R1", "P1", prefer=["B1"]), req("R2", "P2", bases=["B1"])],
    )
    first = greedy(inst)
    assert len(first.assignments) == 1
    plan, name = best_start(inst, (first, "greedy"), deadline=float("inf"))
    assert len(plan.assignments) == 2 and name.startswith("greedy by ")
    assert validate(inst, plan) == []


def test_every_start_is_valid_and_the_first_wins_ties():
    inst = generate("tiny", seed=5)
    first = greedy(inst)
    plan, name = best_start(inst, (first, "greedy"), deadline=float("inf"))
    assert validate(inst, plan) == []
    assert served_key(inst, plan) >= served_key(inst, first)
    assert name == "greedy" or served_key(inst, plan) > served_key(inst, first)


def test_with_time_for_every_order_ties_go_to_the_order_listed_first():
    # The orders are tried cheapest-first (TRY_FIRST), but the chosen start is the one trying
    # them in their listed order would choose: the best, and of equals the first listed.
    inst = generate("S", seed=1)
    first = greedy(inst)
    ran = {}
    for label, order in orders(inst).items():
        week = dataclasses.replace(inst, requests=tuple(sorted(inst.requests, key=order)))
        ran[label] = served_key(inst, greedy(week))
    best = max(ran.values())
    expected = next(label for label, k in ran.items() if k == best)
    plan, name = best_start(inst, (first, "greedy"), deadline=float("inf"))
    if best > served_key(inst, first):
        assert name == f"greedy by {expected}"
    assert served_key(inst, plan) == max(best, served_key(inst, first))


def test_when_the_clock_allows_one_order_it_is_the_one_tried_first(monkeypatch):
    inst = generate("tiny", seed=5)
    first = greedy(inst)
    seen = []

    def slow_greedy(week):
        seen.append(tuple(r.id for r in week.requests))
        time.sleep(0.3)
        return greedy(week)

    monkeypatch.setattr(construct, "greedy", slow_greedy)
    best_start(inst, (first, "greedy"), deadline=time.monotonic() + 0.2)
    order = orders(inst)[TRY_FIRST]
    assert seen == [tuple(r.id for r in sorted(inst.requests, key=order))]
