"""Re-ordered greedy starts: valid, and never worse than the start they are compared with."""

from scheduler.construct import best_start, served_key
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
