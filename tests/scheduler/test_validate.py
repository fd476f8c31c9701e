"""The validator against hand-made plans: one valid, at least one broken plan per hard rule."""

import pytest

from scheduler.io import load_instance
from scheduler.validate import Violation, check_instance, validate
from tests.scheduler.builders import at, bookings_plan, plan, req, slot, week, week_doc

S1, S2 = "B1-S1", "B2-S1"


def rules(violations: list[Violation]) -> set[int]:
    return {v.rule for v in violations}


@pytest.fixture
def inst():
    """Two bases 1,100 km apart, two days of 18:00/20:00 slots, a locked and a tentative booking."""
    return week(
        {S1: ["kitchen"], S2: []},
        days=2,
        base_at={"B2": (40.0, 120.0)},
        requests=[
            req("R1", "P1", sessions=2, length=1),
            req("R2", "P2", sessions=1, length=2, needs=["kitchen"]),
            req("R3", "P3", sessions=1, days=(1, 2), bases=["B1"], max_km=500),
            req("R4", "P4", sessions=1),
            req("R5", "P5", sessions=1),
        ],
        bookings=[
            ("R4", [slot(S2, 1, 20)], "locked"),
            ("R5", [slot(S2, 0, 18)], "tentative"),
        ],
        policy={"freeze_until": at(1).isoformat(), "max_sessions_per_day": 2},
    )


def test_valid_plan_has_no_violation(inst):
    p = plan(
        inst,
        ("R1", [slot(S1, 1, 18)]),
        ("R3", [slot(S1, 1, 20)]),
        ("R4", [slot(S2, 1, 20)]),
        ("R5", [slot(S2, 0, 18)]),
    )
    assert validate(inst, p) == []
    assert check_instance(inst) == []


def test_rule_1_unknown_request_slot_wrong_length_non_consecutive(inst):
    kept = [("R4", [slot(S2, 1, 20)]), ("R5", [slot(S2, 0, 18)])]
    for broken in (
        ("R9", [slot(S1, 1, 18)]),  # unknown request
        ("R1", ["nope"]),  # unknown slot
        ("R1", []),  # no slot
        ("R2", [slot(S1, 1, 18)]),  # length 2 asked, 1 given
        ("R2", [slot(S1, 1, 20), slot(S1, 1, 18)]),  # out of order
        ("R2", [slot(S1, 1, 18), slot(S2, 1, 20)]),  # two studios
    ):
        found = validate(inst, plan(inst, *kept, broken))
        assert rules(found) >= {1}, broken
        assert broken[0] in found[0].message


def test_rule_1_gap_between_slots_is_not_consecutive():
    inst = week({S1: ["kitchen"]}, hours=(8, 18), requests=[req("R2", "P2", length=2)])
    found = validate(inst, plan(inst, ("R2", [slot(S1, 0, 8), slot(S1, 0, 18)])))
    assert rules(found) == {1}


def test_rule_2_slot_used_twice(inst):
    found = validate(
        inst,
        plan(
            inst,
            ("R1", [slot(S1, 1, 18)]),
            ("R3", [slot(S1, 1, 18)]),
            ("R4", [slot(S2, 1, 20)]),
            ("R5", [slot(S2, 0, 18)]),
        ),
    )
    assert rules(found) == {2}
    assert slot(S1, 1, 18) in found[0].message


def test_rule_3_more_sessions_than_asked(inst):
    found = validate(
        inst,
        plan(
            inst,
            ("R3", [slot(S1, 1, 18)]),
            ("R3", [slot(S1, 1, 20)]),
            ("R4", [slot(S2, 1, 20)]),
            ("R5", [slot(S2, 0, 18)]),
        ),
    )
    # Also two sessions of one participant on one day: rule 6 does not bite at cap 2.
    assert rules(found) == {3}
    assert "R3" in found[0].message


def test_rule_4_outside_window(inst):
    found = validate(
        inst,
        plan(inst, ("R3", [slot(S1, 0, 18)]), ("R4", [slot(S2, 1, 20)]), ("R5", [slot(S2, 0, 18)])),
    )
    # R3's window is day 1 only; day 0 is also before freeze_until (rule 8).
    assert 4 in rules(found)
    assert any("R3" in v.message and v.rule == 4 for v in found)


@pytest.mark.parametrize(
    "session, why",
    [
        (("R3", [slot(S2, 1, 18)]), "not allowed"),  # R3 allows B1 only
        (("R2", [slot(S2, 1, 18), slot(S2, 1, 20)]), "lacks"),  # B2 has no kitchen
    ],
)
def test_rule_5_base_and_features(inst, session, why):
    kept = [("R5", [slot(S2, 0, 18)])]
    p = plan(inst, *kept, session, ("R4", [slot(S2, 1, 20)]))
    found = [v for v in validate(inst, p) if v.rule == 5]
    assert found and why in found[0].message


def test_rule_5_too_far():
    inst = week(
        {S1: [], S2: []},
        base_at={"B2": (40.0, 120.0)},  # ~1,112 km north of HOME
        requests=[req("R1", "P1", max_km=1000)],
    )
    assert validate(inst, plan(inst, ("R1", [slot(S1, 0, 18)]))) == []
    found = validate(inst, plan(inst, ("R1", [slot(S2, 0, 18)])))
    assert rules(found) == {5} and "km away" in found[0].message


def test_rule_6_overlap_daily_cap_same_base():
    inst = week(
        {S1: [], S2: [], "B1-S2": []},
        hours=(14, 16, 18, 20),
        requests=[req("R1", "P1", sessions=3), req("R2", "P1", sessions=3)],
    )
    overlap = plan(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot("B1-S2", 0, 18)]))
    assert [v.rule for v in validate(inst, overlap)] == [6]
    assert "overlap" in validate(inst, overlap)[0].message
    three = plan(
        inst,
        ("R1", [slot(S1, 0, 14)]),
        ("R1", [slot(S1, 0, 16)]),
        ("R2", [slot(S1, 0, 18)]),
    )
    found = validate(inst, three)
    assert rules(found) == {6} and "3 sessions" in found[0].message
    two_bases = plan(inst, ("R1", [slot(S1, 0, 14)]), ("R2", [slot(S2, 0, 18)]))
    found = validate(inst, two_bases)
    assert rules(found) == {6} and "B1, B2" in found[0].message
    ok = plan(inst, ("R1", [slot(S1, 0, 14)]), ("R2", [slot("B1-S2", 0, 18)]))
    assert validate(inst, ok) == []


def test_rule_6_switches_off_with_policy():
    inst = week(
        {S1: [], S2: []},
        hours=(14, 16, 18),
        requests=[req("R1", "P1", sessions=3)],
        policy={"max_sessions_per_day": None, "same_day_same_base": False},
    )
    p = plan(inst, ("R1", [slot(S1, 0, 14)]), ("R1", [slot(S2, 0, 16)]), ("R1", [slot(S1, 0, 18)]))
    assert validate(inst, p) == []


def test_rule_7_locked_booking_missing_or_moved(inst):
    moved = plan(inst, ("R4", [slot(S2, 1, 18)]), ("R5", [slot(S2, 0, 18)]))
    found = validate(inst, moved)
    assert rules(found) == {7}
    assert "locked booking of R4" in found[0].message


def test_rule_8_frozen_booking_dropped_or_new_session_before_freeze(inst):
    dropped = plan(inst, ("R4", [slot(S2, 1, 20)]))
    found = validate(inst, dropped)
    assert rules(found) == {8} and "tentative booking of R5" in found[0].message
    new = plan(
        inst, ("R1", [slot(S1, 0, 20)]), ("R4", [slot(S2, 1, 20)]), ("R5", [slot(S2, 0, 18)])
    )
    found = validate(inst, new)
    assert rules(found) == {8} and "before freeze_until" in found[0].message


def test_tentative_booking_after_freeze_may_move(inst):
    p = plan(inst, ("R4", [slot(S2, 1, 20)]), ("R5", [slot(S2, 0, 18)]))
    assert validate(inst, p) == []


def test_violation_is_frozen_and_prints_its_rule():
    v = Violation(2, "slot X used 2 times")
    assert str(v) == "rule 2: slot X used 2 times"
    with pytest.raises(AttributeError):
        v.rule = 3  # type: ignore[misc]


def test_check_instance_two_locked_bookings_on_one_slot():
    inst = week(
        requests=[req("R1", "P1"), req("R2", "P2")],
        bookings=[("R1", [slot(S1, 0, 18)], "locked"), ("R2", [slot(S1, 0, 18)], "locked")],
    )
    found = check_instance(inst)
    assert rules(found) == {2}
    assert slot(S1, 0, 18) in found[0].message and "R1, R2" in found[0].message


def test_check_instance_booking_breaking_a_rule():
    inst = week(
        {S1: [], S2: []},
        requests=[req("R1", "P1", days=(0, 1), needs=["kitchen"])],
        bookings=[("R1", [slot(S1, 0, 18)], "confirmed")],
    )
    found = check_instance(inst)
    assert rules(found) == {5} and found[0].message.startswith("booking #0 (R1)")


def test_check_instance_overlapping_slots_of_one_studio():
    doc = week_doc(hours=(18, 20))
    doc["slots"][1]["start"] = at(0, 19).isoformat()  # 19:00-22:00 overlaps 18:00-20:00
    found = check_instance(load_instance(doc))
    assert rules(found) == {2} and "overlap" in found[0].message


def test_bookings_plan_of_a_consistent_instance_is_valid(inst):
    assert validate(inst, bookings_plan(inst)) == []


# ---------------------------------------------------------------------------- rules 9 and 10


def _tea_week(separation: str | None = "base"):
    """Two tea sellers and a citrus grower, one base with two studios, 18:00 and 20:00."""
    return week(
        {S1: [], "B1-S2": []},
        requests=[
            req("T1", "PT1", category="tea"),
            req("T2", "PT2", category="tea"),
            req("C1", "PC1", category="citrus"),
        ],
        policy={"category_separation": separation},
    )


def test_rule_9_same_category_at_one_base_at_one_time():
    inst = _tea_week()
    clash = plan(inst, ("T1", [slot(S1, 0, 18)]), ("T2", [slot("B1-S2", 0, 18)]))
    found = validate(inst, clash)
    assert rules(found) == {9}
    assert "tea sessions of T1 and T2 overlap" in found[0].message
    # Another time, or another category at the same time, is fine.
    later = plan(inst, ("T1", [slot(S1, 0, 18)]), ("T2", [slot("B1-S2", 0, 20)]))
    other = plan(inst, ("T1", [slot(S1, 0, 18)]), ("C1", [slot("B1-S2", 0, 18)]))
    assert validate(inst, later) == validate(inst, other) == []


def test_rule_9_only_with_the_policy_and_not_for_input_bookings():
    inst = _tea_week(separation=None)
    clash = plan(inst, ("T1", [slot(S1, 0, 18)]), ("T2", [slot("B1-S2", 0, 18)]))
    assert validate(inst, clash) == []
    booked = week(
        {S1: [], "B1-S2": []},
        requests=[req("T1", "PT1", category="tea"), req("T2", "PT2", category="tea")],
        bookings=[("T1", [slot(S1, 0, 18)], "locked"), ("T2", [slot("B1-S2", 0, 18)], "tentative")],
        policy={"category_separation": "base"},
    )
    assert check_instance(booked) == []
    assert validate(booked, bookings_plan(booked)) == []  # both are input bookings: exempt
    moved = plan(booked, ("T1", [slot(S1, 0, 18)]), ("T2", [slot(S1, 0, 20)]))
    assert validate(booked, moved) == []
    # The tentative booking moved onto the locked one's time in the other studio... is a new clash.
    shifted = week(
        {S1: [], "B1-S2": []},
        requests=[req("T1", "PT1", category="tea"), req("T2", "PT2", category="tea")],
        bookings=[("T1", [slot(S1, 0, 18)], "locked"), ("T2", [slot("B1-S2", 0, 20)], "tentative")],
        policy={"category_separation": "base"},
    )
    new_clash = plan(shifted, ("T1", [slot(S1, 0, 18)]), ("T2", [slot("B1-S2", 0, 18)]))
    assert rules(validate(shifted, new_clash)) == {9}


def test_rule_10_harvest_window():
    inst = week(
        {S1: []},
        days=3,
        requests=[req("R1", "P1", harvest=(at(1, 6), at(2, 0)))],
        policy={"max_sessions_per_day": 2},
    )
    for day, hour, ok in ((0, 18, False), (1, 18, True), (1, 20, True), (2, 18, False)):
        found = validate(inst, plan(inst, ("R1", [slot(S1, day, hour)])))
        assert rules(found) == (set() if ok else {10}), (day, hour)
    # An input booking outside the lot stays as it is (exempt), a copy of it elsewhere does not.
    booked = week(
        {S1: []},
        days=3,
        requests=[req("R1", "P1", sessions=2, harvest=(at(1, 6), at(2, 0)))],
        bookings=[("R1", [slot(S1, 0, 18)], "confirmed")],
    )
    assert check_instance(booked) == [] and validate(booked, bookings_plan(booked)) == []
    extra = plan(booked, ("R1", [slot(S1, 0, 18)]), ("R1", [slot(S1, 0, 20)]))
    assert rules(validate(booked, extra)) == {10}
