"""The placement space itself: kept bookings become constants, identical studio-days one class.
(Each hard rule decided here has its own test in ``tests/scheduler/rules/test_placement.py``.)"""

from scheduler.candidates import generate, kept_bookings
from tests.scheduler.builders import req, slot, week

S1, S2 = "B1-S1", "B2-S1"


def test_kept_bookings_are_constants_not_candidates():
    inst = week(
        {S1: []},
        hours=(14, 16, 18),
        requests=[req("R1", "P1", sessions=2), req("R2", "P1")],
        bookings=[("R1", [slot(S1, 0, 16)], "locked")],
        policy={"max_sessions_per_day": 2},
    )
    cands = generate(inst)
    assert [b.status for b in cands.kept] == ["locked"] == [b.status for b in kept_bookings(inst)]
    held = [cands.classes[cands.cls[i]].slots[0][cands.pos[i]] for i in range(len(cands))]
    assert slot(S1, 0, 16) not in held  # its slot left the timetable
    assert cands.open_sessions == {0: 1, 1: 1}
    assert cands.kept_per_day == {("P1", 0): 1} and cands.kept_base == {("P1", 0): "B1"}


def test_identical_studio_days_are_one_class():
    inst = week(
        {S1: [], "B1-S2": [], "B1-S3": ["kitchen"], S2: []},
        days=2,
        requests=[req("R1", "P1")],
        bookings=[("R1", [slot("B1-S2", 1, 18)], "tentative")],
    )
    classes = generate(inst).classes
    shapes = sorted((c.base, c.day, sorted(c.features), c.studios) for c in classes)
    assert shapes == [
        ("B1", 0, [], (S1, "B1-S2")),  # two plain studios, same free slots: one class of 2
        ("B1", 0, ["kitchen"], ("B1-S3",)),
        ("B1", 1, [], (S1, "B1-S2")),  # a tentative booking is movable: its slot stays free
        ("B1", 1, ["kitchen"], ("B1-S3",)),
        ("B2", 0, [], (S2,)),
        ("B2", 1, [], (S2,)),
    ]
