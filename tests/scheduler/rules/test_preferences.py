"""soft_preferences (soft, level 4): preference points missed. A session at the k-th of n
preferred bases earns n - k points, one with a prime slot 2 more when the request asks for it."""

from scheduler.rules.preferences import soft_preferences
from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import penalty, sessions, solved


def _week():
    reqs = [req("R1", "P1", prefer=["B2", "B1"], prime=True)]
    return week({"B1-S1": [], "B2-S1": [], "B3-S1": []}, hours=(10, 18), requests=reqs)


def test_penalty_is_the_points_missed():
    inst = _week()  # at best 2 (first of two bases) + 2 (prime) = 4
    assert penalty(inst, soft_preferences) == 4
    assert penalty(inst, soft_preferences, ("R1", [slot("B3-S1", 0, 10)])) == 4
    assert penalty(inst, soft_preferences, ("R1", [slot("B1-S1", 0, 10)])) == 3
    assert penalty(inst, soft_preferences, ("R1", [slot("B1-S1", 0, 18)])) == 1
    assert penalty(inst, soft_preferences, ("R1", [slot("B2-S1", 0, 18)])) == 0


def test_end_to_end_the_first_preferred_base_at_prime_time():
    got = sessions(solved(_week()))
    assert got["R1"] == [(slot("B2-S1", 0, 18),)]


def test_end_to_end_another_base_when_the_preferred_one_is_full():
    reqs = [req("R0", "P0", bases=["B2"], priority=3), req("R1", "P1", prefer=["B2"])]
    got = sessions(solved(week({"B1-S1": [], "B2-S1": []}, hours=(18,), requests=reqs)))
    assert got["R0"][0][0].startswith("B2-") and got["R1"][0][0].startswith("B1-")
