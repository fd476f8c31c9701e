"""add_studio_capacity: no slot is used twice, also across identical (aggregated) studios."""

from tests.scheduler.builders import req, week
from tests.scheduler.rules.helpers import sessions, solved


def test_holds_when_there_is_a_slot_each():
    inst = week({"B1-S1": []}, hours=(18, 20), requests=[req("R1", "P1"), req("R2", "P2")])
    got = sessions(solved(inst))
    assert len(got["R1"]) == len(got["R2"]) == 1
    assert got["R1"][0] != got["R2"][0]


def test_bites_when_two_requests_want_one_slot():
    inst = week({"B1-S1": []}, hours=(18,), requests=[req("R1", "P1"), req("R2", "P2")])
    got = sessions(solved(inst))
    assert len(got["R1"]) + len(got["R2"]) == 1


def test_identical_studios_share_the_load_without_clash():
    studios = {"B1-S1": [], "B1-S2": [], "B1-S3": []}
    reqs = [req(f"R{i}", f"P{i}", length=2) for i in range(5)]
    plan = solved(week(studios, hours=(14, 16, 18, 20), requests=reqs))
    used = [s for a in plan.assignments for s in a.slots]
    assert len(used) == len(set(used)) == 10  # 3 studios x 4 slots hold 5 two-slot sessions
