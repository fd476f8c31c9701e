"""add_studio_capacity (hard, rules 1-2): no slot is used twice, also across identical studios."""

from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import sessions, solved, status

S1, S2, S3 = "B1-S1", "B1-S2", "B1-S3"


def test_one_slot_holds_one_session():
    inst = week({S1: []}, hours=(18, 20), requests=[req("R1", "P1"), req("R2", "P2")])
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(S1, 0, 18)])) == "INFEASIBLE"
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(S1, 0, 20)])) == "OPTIMAL"


def test_a_long_session_holds_every_slot_it_covers():
    reqs = [req("R1", "P1", length=2), req("R2", "P2")]
    inst = week({S1: []}, hours=(18, 20), requests=reqs)
    both = [slot(S1, 0, 18), slot(S1, 0, 20)]
    assert status(inst, ("R1", both), ("R2", [slot(S1, 0, 20)])) == "INFEASIBLE"
    assert status(inst, ("R1", both)) == "OPTIMAL"


def test_identical_studios_hold_as_many_sessions_as_there_are_studios():
    # Three plain studios of one base are one class of size 3: a count per position, exact.
    inst = week(
        {S1: [], S2: [], S3: []}, hours=(18,), requests=[req(f"R{i}", f"P{i}") for i in range(4)]
    )
    three = [(f"R{i}", [slot(s, 0, 18)]) for i, s in enumerate((S1, S2, S3))]
    assert status(inst, *three) == "OPTIMAL"
    assert status(inst, *three, ("R3", [slot(S1, 0, 18)])) == "INFEASIBLE"


def test_end_to_end_identical_studios_share_the_load_without_clash():
    studios = {S1: [], S2: [], S3: []}
    reqs = [req(f"R{i}", f"P{i}", length=2) for i in range(5)]
    plan = solved(week(studios, hours=(14, 16, 18, 20), requests=reqs))
    used = [s for a in plan.assignments for s in a.slots]
    assert len(used) == len(set(used)) == 10  # 3 studios x 4 slots hold 5 two-slot sessions
    assert len(sessions(plan)) == 5
