"""One pairing rule for moved sessions: applying a plan and the run report agree."""

from __future__ import annotations

from app.services.exchange.pairing import pair_sessions, same
from app.services.runs.diff import diff
from tests.scheduler.builders import plan, req, slot, week


def two_session_week():
    return week(
        studios={"B1-S1": []},
        days=2,
        hours=(10, 14, 18),
        requests=[req("R1", "P1", sessions=2)],
        bookings=[
            ("R1", [slot("B1-S1", 1, 10)], "tentative"),
            ("R1", [slot("B1-S1", 0, 10)], "tentative"),
        ],
    )


def test_old_and_new_sessions_pair_in_time_order_whatever_order_they_come_in():
    inst = two_session_week()
    day0, day1 = (slot("B1-S1", 0, 10),), (slot("B1-S1", 1, 10),)
    new0, new1 = (slot("B1-S1", 0, 14),), (slot("B1-S1", 1, 18),)

    class Held:  # a booking row as apply_plan sees it: code order is not time order
        def __init__(self, code, slots):
            self.code, self.slots = code, slots

    olds = [Held("K000001", day1), Held("K000002", day0)]
    moves, drops, adds = pair_sessions(
        inst, olds, [new1, new0], old_slots=lambda b: b.slots, new_slots=same
    )
    assert [(b.code, new) for b, new in moves] == [("K000002", new0), ("K000001", new1)]
    assert drops == [] and adds == []
    moves, drops, adds = pair_sessions(inst, [day1, day0], [new1], old_slots=same, new_slots=same)
    assert moves == [(day0, new1)] and drops == [day1] and adds == []


def test_the_run_report_pairs_moves_as_applying_the_plan_does():
    inst = two_session_week()
    new0, new1 = (slot("B1-S1", 0, 14),), (slot("B1-S1", 1, 18),)
    p = plan(inst, ("R1", list(new1)), ("R1", list(new0)))
    moves = [(c.before, c.after) for c in diff(inst, p)]
    assert moves == [((slot("B1-S1", 0, 10),), new0), ((slot("B1-S1", 1, 10),), new1)]
