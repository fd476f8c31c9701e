"""soft_preferences: preferred bases by rank, prime time when asked."""

from tests.scheduler.builders import req, week
from tests.scheduler.rules.helpers import sessions, solved


def test_bites_for_the_first_preferred_base():
    reqs = [req("R1", "P1", prefer=["B3", "B2"])]
    got = sessions(solved(week({"B1-S1": [], "B2-S1": [], "B3-S1": []}, requests=reqs)))
    assert got["R1"][0][0].startswith("B3-")


def test_bites_for_prime_time():
    reqs = [req("R1", "P1", prime=True)]
    got = sessions(solved(week({"B1-S1": []}, hours=(10, 14, 20), requests=reqs)))
    assert got["R1"][0][0].endswith("/20")


def test_holds_when_the_preferred_base_is_full():
    reqs = [req("R0", "P0", bases=["B2"], priority=3), req("R1", "P1", prefer=["B2"])]
    got = sessions(solved(week({"B1-S1": [], "B2-S1": []}, hours=(18,), requests=reqs)))
    assert got["R0"][0][0].startswith("B2-") and got["R1"][0][0].startswith("B1-")
