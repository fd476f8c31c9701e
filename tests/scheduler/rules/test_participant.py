"""add_no_overlap, add_daily_cap, add_same_day_same_base: a participant's day."""

from tests.scheduler.builders import req, week
from tests.scheduler.rules.helpers import sessions, solved


def test_no_overlap_holds_with_two_times():
    inst = week({"B1-S1": [], "B1-S2": []}, hours=(18, 20), requests=[req("R1", "P1", sessions=2)])
    got = sessions(solved(inst))["R1"]
    assert len(got) == 2 and got[0][0][-2:] != got[1][0][-2:]


def test_no_overlap_bites_with_one_time_and_two_studios():
    reqs = [req("R1", "P1"), req("R2", "P1")]
    got = sessions(solved(week({"B1-S1": [], "B1-S2": []}, hours=(18,), requests=reqs)))
    assert len(got["R1"]) + len(got["R2"]) == 1


def test_daily_cap_holds_over_two_days():
    inst = week(
        {"B1-S1": []},
        days=2,
        hours=(14, 16, 18),
        requests=[req("R1", "P1", sessions=2)],
        policy={"max_sessions_per_day": 1},
    )
    assert len(sessions(solved(inst))["R1"]) == 2


def test_daily_cap_bites_on_one_day():
    inst = week(
        {"B1-S1": []},
        hours=(14, 16, 18),
        requests=[req("R1", "P1", sessions=2), req("R2", "P1")],
        policy={"max_sessions_per_day": 2},
    )
    got = sessions(solved(inst))
    assert len(got["R1"]) + len(got["R2"]) == 2


def test_same_day_same_base_holds_when_the_policy_allows_two_bases():
    reqs = [req("R1", "P1", bases=["B1"]), req("R2", "P1", bases=["B2"])]
    inst = week({"B1-S1": [], "B2-S1": []}, requests=reqs, policy={"same_day_same_base": False})
    got = sessions(solved(inst))
    assert len(got["R1"]) == len(got["R2"]) == 1


def test_same_day_same_base_bites():
    reqs = [req("R1", "P1", bases=["B1"]), req("R2", "P1", bases=["B2"])]
    inst = week({"B1-S1": [], "B2-S1": []}, requests=reqs, policy={"same_day_same_base": True})
    got = sessions(solved(inst))
    assert len(got["R1"]) + len(got["R2"]) == 1
