"""soft_weighted_served: more sessions, priority 3 above 2 above 1 (weights 1, 2, 4)."""

from tests.scheduler.builders import req, week
from tests.scheduler.rules.helpers import sessions, solved


def test_holds_when_everyone_fits():
    reqs = [req("R1", "P1"), req("R2", "P2", priority=3)]
    plan = solved(week({"B1-S1": []}, requests=reqs))
    assert plan.stats["objective"] == 1 + 4


def test_bites_for_the_higher_priority():
    reqs = [req("R1", "P1", priority=1), req("R2", "P2", priority=2), req("R3", "P3", priority=3)]
    got = sessions(solved(week({"B1-S1": []}, hours=(18,), requests=reqs)))
    assert set(got) == {"R3"}


def test_two_short_sessions_beat_one_long_one():
    # R1 (priority 2, length 2) blocks both slots; R2 and R3 (priority 2, length 1) serve 4.
    reqs = [req("R1", "P1", length=2, priority=2), req("R2", "P2", priority=2)]
    reqs.append(req("R3", "P3", priority=2))
    got = sessions(solved(week({"B1-S1": []}, hours=(18, 20), requests=reqs)))
    assert set(got) == {"R2", "R3"}
