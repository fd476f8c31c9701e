"""The hard rules decided per candidate (``placement.py``, applied by ``candidates.py``): a
placement that would break them never becomes a variable. Each test names the exact set of starts
left open to the model."""

from scheduler.candidates import kept_bookings
from tests.scheduler.builders import HOME, at, req, slot, week
from tests.scheduler.rules.helpers import sessions, solved, starts

S1, S2, T1 = "B1-S1", "B1-S2", "B2-S1"


def test_window_rule_4():
    inst = week(
        {S1: []},
        days=3,
        requests=[
            req("R1", "P1", days=(1, 2)),
            req("R2", "P2", window=(at(1, 18), at(1, 21))),  # 20:00-22:00 ends too late
        ],
    )
    assert starts(inst, "R1") == {slot(S1, 1, 18), slot(S1, 1, 20)}
    assert starts(inst, "R2") == {slot(S1, 1, 18)}


def test_allowed_bases_and_distance_rule_5():
    far = {"B2": (45.0, 120.0)}  # about 1,670 km north of every participant
    inst = week(
        {S1: [], T1: []},
        hours=(18,),
        base_at=far,
        requests=[
            req("R1", "P1", bases=["B2"]),
            req("R2", "P2", max_km=100),
            req("R3", "P3", max_km=2000),
        ],
    )
    assert starts(inst, "R1") == {slot(T1, 0, 18)}
    assert starts(inst, "R2") == {slot(S1, 0, 18)}
    assert starts(inst, "R3") == {slot(S1, 0, 18), slot(T1, 0, 18)}


def test_distance_rule_5_east_and_west_too():
    # A base at the participants' own latitude, ~1,000 km east: no band of latitude leaves it
    # out, only the distance itself does.
    east = {"B2": (HOME[0], HOME[1] + 10.0)}
    inst = week(
        {S1: [], T1: []},
        hours=(18,),
        base_at=east,
        requests=[req("R1", "P1", max_km=100), req("R2", "P2", max_km=2000)],
    )
    assert starts(inst, "R1") == {slot(S1, 0, 18)}
    assert starts(inst, "R2") == {slot(S1, 0, 18), slot(T1, 0, 18)}


def test_features_rule_5():
    inst = week(
        {S1: [], S2: ["kitchen"], T1: ["cold_chain"]},
        hours=(18,),
        requests=[req("R1", "P1", needs=["kitchen"]), req("R2", "P2", needs=["outdoor"])],
    )
    assert starts(inst, "R1") == {slot(S2, 0, 18)}
    assert starts(inst, "R2") == set()


def test_consecutive_slots_of_one_studio_rule_1():
    # 08:00-10:00 and 18:00-20:00 are not consecutive; 18:00 and 20:00 are.
    inst = week({S1: []}, hours=(8, 18, 20), requests=[req("R1", "P1", length=2)])
    assert starts(inst, "R1") == {slot(S1, 0, 18)}


def test_nothing_new_before_the_freeze_and_bookings_there_stay_rule_8():
    inst = week(
        {S1: []},
        days=2,
        requests=[req("R1", "P1", sessions=3), req("R2", "P2"), req("R3", "P3")],
        bookings=[
            ("R2", [slot(S1, 0, 20)], "tentative"),  # before the freeze: kept
            ("R3", [slot(S1, 1, 20)], "tentative"),  # after it: free to move
        ],
        policy={"freeze_until": at(1).isoformat()},
    )
    assert [b.request for b in kept_bookings(inst)] == ["R2"]
    assert starts(inst, "R1") == {slot(S1, 1, 18), slot(S1, 1, 20)}


def test_locked_and_confirmed_bookings_stay_rule_7():
    inst = week(
        {S1: []},
        hours=(14, 16, 18),
        requests=[req("R1", "P1"), req("R2", "P2"), req("R3", "P3"), req("R4", "P4")],
        bookings=[
            ("R1", [slot(S1, 0, 14)], "locked"),
            ("R2", [slot(S1, 0, 16)], "confirmed"),
            ("R3", [slot(S1, 0, 18)], "tentative"),
        ],
    )
    assert [b.request for b in kept_bookings(inst)] == ["R1", "R2"]
    assert starts(inst, "R4") == {slot(S1, 0, 18)}  # the kept slots left the timetable


def test_a_participant_is_never_in_a_new_session_during_a_kept_one_rule_6():
    inst = week(
        {S1: [], S2: []},
        requests=[req("R0", "P1"), req("R1", "P1")],
        bookings=[("R0", [slot(S1, 0, 18)], "locked")],
    )
    assert starts(inst, "R1") == {slot(S1, 0, 20), slot(S2, 0, 20)}


def test_kept_sessions_fill_the_day_or_fix_its_base_rule_6():
    inst = week(
        {S1: [], T1: []},
        days=2,
        hours=(14, 18),
        requests=[req("R0", "P1"), req("R1", "P1"), req("Q0", "P2"), req("Q1", "P2")],
        bookings=[("R0", [slot(S1, 0, 14)], "locked"), ("Q0", [slot(S1, 0, 14 + 4)], "locked")],
        policy={"max_sessions_per_day": 1, "same_day_same_base": True},
    )
    # P1's day 0 is full: day 1 only, at either base.
    assert starts(inst, "R1") == {
        slot(S1, 1, 14),
        slot(S1, 1, 18),
        slot(T1, 1, 14),
        slot(T1, 1, 18),
    }
    capped = week(
        {S1: [], T1: []},
        hours=(14, 18),
        requests=[req("R0", "P1"), req("R1", "P1")],
        bookings=[("R0", [slot(S1, 0, 14)], "locked")],
        policy={"max_sessions_per_day": 2, "same_day_same_base": True},
    )
    # Room for one more on day 0, but only at B1 where the kept session is.
    assert starts(capped, "R1") == {slot(S1, 0, 18)}


def test_end_to_end_every_placement_rule_at_once():
    far = {"B2": (45.0, 120.0)}
    inst = week(
        {S1: ["kitchen"], S2: [], T1: ["kitchen"]},
        days=3,
        base_at=far,
        requests=[
            req("R1", "P1", needs=["kitchen"], max_km=100, days=(0, 3)),
            req("R2", "P2", bases=["B2"], sessions=2, days=(1, 3)),
        ],
        bookings=[("R2", [slot(T1, 1, 18)], "tentative")],
        policy={"freeze_until": at(1, 20).isoformat()},
    )
    got = sessions(solved(inst))
    # Kitchen and near: B1-S1 only; not before the freeze (day 1, 20:00).
    assert got["R1"][0] in {(slot(S1, 1, 20),), (slot(S1, 2, 18),), (slot(S1, 2, 20),)}
    assert got["R2"][0] == (slot(T1, 1, 18),)  # tentative but frozen: kept
    assert got["R2"][1] in {(slot(T1, 1, 20),), (slot(T1, 2, 18),), (slot(T1, 2, 20),)}
