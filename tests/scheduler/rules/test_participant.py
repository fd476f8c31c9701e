"""add_no_overlap, add_daily_cap, add_same_day_same_base (hard, rule 6): a participant's day,
over all of its requests."""

from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import sessions, solved, status

S1, S2, T1 = "B1-S1", "B1-S2", "B2-S1"


def test_no_overlap_at_one_time_in_two_studios():
    inst = week({S1: [], S2: []}, requests=[req("R1", "P1"), req("R2", "P1")])
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(S2, 0, 18)])) == "INFEASIBLE"
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(S2, 0, 20)])) == "OPTIMAL"


def test_no_overlap_when_a_long_session_covers_the_other_start():
    inst = week({S1: [], S2: []}, requests=[req("R1", "P1", length=2), req("R2", "P1")])
    long = ("R1", [slot(S1, 0, 18), slot(S1, 0, 20)])
    assert status(inst, long, ("R2", [slot(S2, 0, 20)])) == "INFEASIBLE"
    assert status(inst, long) == "OPTIMAL"


def test_no_overlap_is_per_participant():
    inst = week({S1: [], S2: []}, requests=[req("R1", "P1"), req("R2", "P2")])
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(S2, 0, 18)])) == "OPTIMAL"


def test_daily_cap_counts_the_sessions_starting_on_one_day():
    inst = week(
        {S1: []},
        days=2,
        requests=[req("R1", "P1", sessions=2)],
        policy={"max_sessions_per_day": 1},
    )
    same_day = [("R1", [slot(S1, 0, 18)]), ("R1", [slot(S1, 0, 20)])]
    two_days = [("R1", [slot(S1, 0, 18)]), ("R1", [slot(S1, 1, 20)])]
    assert status(inst, *same_day) == "INFEASIBLE"
    assert status(inst, *two_days) == "OPTIMAL"


def test_daily_cap_counts_kept_sessions_and_every_request():
    inst = week(
        {S1: [], S2: []},
        hours=(14, 16, 18),
        requests=[req("R0", "P1"), req("R1", "P1"), req("R2", "P1")],
        bookings=[("R0", [slot(S1, 0, 14)], "locked")],
        policy={"max_sessions_per_day": 2},
    )
    assert status(inst, ("R1", [slot(S1, 0, 16)])) == "OPTIMAL"
    assert status(inst, ("R1", [slot(S1, 0, 16)]), ("R2", [slot(S2, 0, 18)])) == "INFEASIBLE"


def test_same_day_same_base():
    inst = week(
        {S1: [], T1: []},
        days=2,
        requests=[req("R1", "P1", bases=["B1"]), req("R2", "P1", bases=["B2"])],
        policy={"same_day_same_base": True},
    )
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(T1, 0, 20)])) == "INFEASIBLE"
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(T1, 1, 20)])) == "OPTIMAL"


def test_same_day_two_bases_when_the_policy_allows():
    inst = week(
        {S1: [], T1: []},
        requests=[req("R1", "P1", bases=["B1"]), req("R2", "P1", bases=["B2"])],
        policy={"same_day_same_base": False},
    )
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(T1, 0, 20)])) == "OPTIMAL"


def test_end_to_end_a_participants_day():
    reqs = [req("R1", "P1", sessions=2), req("R2", "P1", bases=["B2"])]
    inst = week(
        {S1: [], S2: [], T1: []},
        days=2,
        hours=(18,),
        requests=reqs,
        policy={"max_sessions_per_day": 1, "same_day_same_base": True},
    )
    got = sessions(solved(inst))
    days = sorted(s[0].split("/")[1] for ss in got.values() for s in ss)
    assert days == ["d0", "d1"]  # one session a day, one time a day: two of the three asked
