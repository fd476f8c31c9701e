"""soft_preferences (soft, level 4): spotlight points missed. A session at the k-th of n
preferred bases earns 12 (n - k) points, one with a prime slot more when the request asks for it:
24 when its participant's ``prime_recent`` is not known, 48 / 36 / 24 / 12 / 0 for 0 / 1 / 2 / 3 /
4 or more recent prime sessions (prime time in rotation)."""

from scheduler.rules.preferences import PRIME_ROTATION, soft_preferences
from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import penalty, sessions, solved


def _week():
    reqs = [req("R1", "P1", prefer=["B2", "B1"], prime=True)]
    return week({"B1-S1": [], "B2-S1": [], "B3-S1": []}, hours=(10, 18), requests=reqs)


def test_penalty_is_the_points_missed():
    inst = _week()  # at best 24 (first of two bases) + 24 (prime, prime_recent unknown) = 48
    assert penalty(inst, soft_preferences) == 48
    assert penalty(inst, soft_preferences, ("R1", [slot("B3-S1", 0, 10)])) == 48
    assert penalty(inst, soft_preferences, ("R1", [slot("B1-S1", 0, 10)])) == 36
    assert penalty(inst, soft_preferences, ("R1", [slot("B1-S1", 0, 18)])) == 12
    assert penalty(inst, soft_preferences, ("R1", [slot("B2-S1", 0, 18)])) == 0


def _rotation_week():
    reqs = [
        req("R1", "P1", prime=True, prime_recent=3),
        req("R2", "P2", prime=True, prime_recent=0),
    ]
    return week({"B1-S1": []}, hours=(10, 20), requests=reqs)


def test_prime_time_is_worth_more_to_those_who_had_less_of_it():
    inst = _rotation_week()
    rotated = [("R2", [slot("B1-S1", 0, 20)]), ("R1", [slot("B1-S1", 0, 10)])]
    not_rotated = [("R1", [slot("B1-S1", 0, 20)]), ("R2", [slot("B1-S1", 0, 10)])]
    assert penalty(inst, soft_preferences, *rotated) == PRIME_ROTATION[3]
    assert penalty(inst, soft_preferences, *not_rotated) == PRIME_ROTATION[0]


def test_end_to_end_prime_time_goes_to_the_one_who_had_none():
    got = sessions(solved(_rotation_week()))
    assert got["R2"] == [(slot("B1-S1", 0, 20),)] and got["R1"] == [(slot("B1-S1", 0, 10),)]


def test_end_to_end_the_first_preferred_base_at_prime_time():
    got = sessions(solved(_week()))
    assert got["R1"] == [(slot("B2-S1", 0, 18),)]


def test_end_to_end_another_base_when_the_preferred_one_is_full():
    reqs = [req("R0", "P0", bases=["B2"], priority=3), req("R1", "P1", prefer=["B2"])]
    got = sessions(solved(week({"B1-S1": [], "B2-S1": []}, hours=(18,), requests=reqs)))
    assert got["R0"][0][0].startswith("B2-") and got["R1"][0][0].startswith("B1-")
