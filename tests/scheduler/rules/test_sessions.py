"""add_session_count: a request gets at most ``sessions`` sessions."""

from tests.scheduler.builders import req, week
from tests.scheduler.rules.helpers import sessions, solved


def test_holds_when_room_matches_the_ask():
    inst = week({"B1-S1": []}, days=2, requests=[req("R1", "P1", sessions=3)])
    assert len(sessions(solved(inst))["R1"]) == 3


def test_bites_when_there_is_room_for_more():
    inst = week({"B1-S1": [], "B1-S2": []}, days=3, requests=[req("R1", "P1", sessions=2)])
    plan = solved(inst)
    assert len(sessions(plan)["R1"]) == 2
    assert not plan.unassigned
