"""Repair at the model: new requests fit around the week; locked and confirmed bookings never
move; a tentative booking moves only when that serves more; the line decides ties."""

import pytest

from scheduler.repair import repair
from scheduler.validate import validate
from tests.scheduler.builders import at, req, slot, week

S18, S20 = slot("B1-S1", 0, 18), slot("B1-S1", 0, 20)


def _sessions(plan, request):
    return [a.slots for a in plan.assignments if a.request == request]


def test_places_a_request_in_a_free_run_and_keeps_every_booking():
    inst = week(
        requests=[req("R1", "P1"), req("R2", "P2")],
        bookings=[("R1", [S18], "confirmed")],
    )
    plan = repair(inst, ["R2"], time_limit_s=5)
    assert _sessions(plan, "R1") == [(S18,)]
    assert _sessions(plan, "R2") == [(S20,)]
    assert validate(inst, plan) == []
    assert plan.stats["new_sessions"] == 1 and plan.stats["moved"] == 0


@pytest.mark.parametrize("status", ["locked", "confirmed"])
def test_locked_and_confirmed_never_move_even_when_named_movable(status):
    # R2 can only use 18:00, which R1 holds; R1 could move to 20:00 but is not movable.
    inst = week(
        requests=[req("R1", "P1"), req("R2", "P2", window=(at(0, 18), at(0, 20)), priority=3)],
        bookings=[("R1", [S18], status)],
    )
    plan = repair(inst, ["R2"], time_limit_s=5, movable=[("R1", (S18,))])
    assert _sessions(plan, "R1") == [(S18,)]
    assert _sessions(plan, "R2") == []
    assert [u.request for u in plan.unassigned] == ["R2"]
    assert plan.stats["moved"] == 0


def test_tentative_moves_when_that_serves_more():
    inst = week(
        requests=[req("R1", "P1"), req("R2", "P2", window=(at(0, 18), at(0, 20)))],
        bookings=[("R1", [S18], "tentative")],
    )
    plan = repair(inst, ["R2"], time_limit_s=5, movable=[("R1", (S18,))])
    assert _sessions(plan, "R1") == [(S20,)]
    assert _sessions(plan, "R2") == [(S18,)]
    assert plan.stats["moved"] == 1 and plan.stats["phase"] == 2
    assert validate(inst, plan) == []


def test_tentative_stays_unless_movable():
    inst = week(
        requests=[req("R1", "P1"), req("R2", "P2", window=(at(0, 18), at(0, 20)))],
        bookings=[("R1", [S18], "tentative")],
    )
    plan = repair(inst, ["R2"], time_limit_s=5)
    assert _sessions(plan, "R1") == [(S18,)] and _sessions(plan, "R2") == []


def test_tentative_does_not_move_when_it_would_serve_nothing_more():
    # R2 fits at 20:00 as things are: R1 stays where it is, although moving it would be free.
    inst = week(
        requests=[req("R1", "P1"), req("R2", "P2")],
        bookings=[("R1", [S18], "tentative")],
    )
    plan = repair(inst, ["R2"], time_limit_s=5, movable=[("R1", (S18,))])
    assert _sessions(plan, "R1") == [(S18,)] and _sessions(plan, "R2") == [(S20,)]
    assert plan.stats["moved"] == 0 and plan.stats["phase"] == 1
    # And when a move cannot help (R1 can only be at 18:00 too), nobody moves.
    inst = week(
        requests=[
            req("R1", "P1", window=(at(0, 18), at(0, 20))),
            req("R2", "P2", window=(at(0, 18), at(0, 20))),
        ],
        bookings=[("R1", [S18], "tentative")],
    )
    plan = repair(inst, ["R2"], time_limit_s=5, movable=[("R1", (S18,))])
    assert _sessions(plan, "R1") == [(S18,)] and _sessions(plan, "R2") == []


def test_programme_priority_first_then_the_line():
    one_slot = {"hours": (18,)}
    inst = week(requests=[req("R1", "P1"), req("R2", "P2", priority=3)], **one_slot)
    plan = repair(inst, ["R1", "R2"], time_limit_s=5)
    assert _sessions(plan, "R2") == [(S18,)] and _sessions(plan, "R1") == []
    inst = week(requests=[req("R1", "P1"), req("R2", "P2")], **one_slot)
    plan = repair(inst, ["R1", "R2"], time_limit_s=5, order=["R2", "R1"])
    assert _sessions(plan, "R2") == [(S18,)]
    plan = repair(inst, ["R1", "R2"], time_limit_s=5, order=["R1", "R2"])
    assert _sessions(plan, "R1") == [(S18,)]


def test_participant_rules_count_bookings_held_elsewhere():
    # P1 already has two sessions on day 0 (the daily cap) at B2: nothing more that day.
    inst = week(
        studios={"B1-S1": [], "B2-S1": []},
        days=2,
        requests=[req("R1", "P1", sessions=2), req("R2", "P1", sessions=2)],
        bookings=[
            ("R1", [slot("B2-S1", 0, 18)], "confirmed"),
            ("R1", [slot("B2-S1", 0, 20)], "tentative"),
        ],
    )
    plan = repair(inst, ["R2"], time_limit_s=5)
    days = {s[0].split("/")[1] for s in _sessions(plan, "R2")}
    assert days == {"d1"} and len(_sessions(plan, "R2")) == 2
    assert validate(inst, plan) == []


def test_unknown_request_is_refused():
    with pytest.raises(ValueError, match="R9"):
        repair(week(requests=[req("R1", "P1")]), ["R9"], time_limit_s=1)


def test_without_solver_time_first_come_first_served_still_places():
    # No time at all for CP-SAT: the greedy answer around the bookings is taken, and it is valid.
    inst = week(
        requests=[req("R1", "P1"), req("R2", "P2"), req("R3", "P3")],
        bookings=[("R1", [S18], "confirmed")],
    )
    plan = repair(inst, ["R2", "R3"], time_limit_s=0)
    assert plan.stats["status"] == "GREEDY" and plan.stats["new_sessions"] == 1
    assert _sessions(plan, "R1") == [(S18,)] and _sessions(plan, "R2") == [(S20,)]
    assert validate(inst, plan) == []
