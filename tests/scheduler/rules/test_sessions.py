"""add_session_count (hard, rule 3): a request gets at most ``sessions`` sessions."""

from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import sessions, solved, status

S1 = "B1-S1"


def test_no_more_sessions_than_asked():
    inst = week({S1: []}, days=2, requests=[req("R1", "P1", sessions=1)])
    assert status(inst, ("R1", [slot(S1, 0, 18)])) == "OPTIMAL"
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R1", [slot(S1, 1, 18)])) == "INFEASIBLE"


def test_kept_bookings_count_against_the_ask():
    inst = week(
        {S1: []},
        days=3,
        requests=[req("R1", "P1", sessions=2)],
        bookings=[("R1", [slot(S1, 0, 18)], "locked")],
    )
    assert status(inst, ("R1", [slot(S1, 1, 18)])) == "OPTIMAL"
    assert status(inst, ("R1", [slot(S1, 1, 18)]), ("R1", [slot(S1, 2, 18)])) == "INFEASIBLE"


def test_end_to_end_exactly_the_ask_when_there_is_room_for_more():
    inst = week({S1: [], "B1-S2": []}, days=3, requests=[req("R1", "P1", sessions=2)])
    plan = solved(inst)
    assert len(sessions(plan)["R1"]) == 2
    assert not plan.unassigned
