"""soft_regional_coverage (soft, level 2): 10,000 x (1 - the worst macro-region's served ratio),
kept bookings included, floored to 1/10,000 as the referee rounds."""

from scheduler.rules.coverage import soft_regional_coverage
from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import penalty, sessions, solved

S1 = "B1-S1"


def _week():
    # East asks 2 (one already locked at B2), south asks 3.
    return week(
        {S1: [], "B2-S1": []},
        requests=[
            req("E1", "PE1", region="east", bases=["B1"]),
            req("E2", "PE2", region="east", bases=["B2"]),
            req("S1", "PS1", region="south", sessions=3, bases=["B1"]),
        ],
        bookings=[("E2", [slot("B2-S1", 0, 18)], "locked")],
        policy={"max_sessions_per_day": 3},
    )


def test_penalty_is_the_worst_regions_shortfall():
    inst = _week()
    assert penalty(inst, soft_regional_coverage) == 10_000  # south 0/3
    assert penalty(inst, soft_regional_coverage, ("E1", [slot(S1, 0, 18)])) == 10_000
    # South 1/3 = 0.3333 (floored), east 1/2: the worst is south.
    assert penalty(inst, soft_regional_coverage, ("S1", [slot(S1, 0, 20)])) == 6_667
    # East 2/2, south 1/3.
    both = [("E1", [slot(S1, 0, 18)]), ("S1", [slot(S1, 0, 20)])]
    assert penalty(inst, soft_regional_coverage, *both) == 6_667


def _tie_week(south_already_served: bool):
    reqs = [
        req("E1", "PE1", region="east", bases=["B1"]),
        req("E2", "PE2", region="east", bases=["B2"]),
        req("S1", "PS1", region="south", bases=["B1"]),
    ]
    bookings = [("E2", [slot("B2-S1", 0, 18)], "locked")]
    if south_already_served:
        reqs.append(req("S2", "PS2", region="south", bases=["B3"]))
        bookings.append(("S2", [slot("B3-S1", 0, 18)], "locked"))
    studios = {S1: [], "B2-S1": [], "B3-S1": []}
    return week(studios, hours=(18,), requests=reqs, bookings=bookings)


def test_end_to_end_the_region_with_nothing_yet():
    # One free slot (B1), east already has 1 of 2 served, south 0 of 1: south gets it.
    got = sessions(solved(_tie_week(south_already_served=False)))
    assert "S1" in got and "E1" not in got


def test_end_to_end_either_when_regions_tie():
    got = sessions(solved(_tie_week(south_already_served=True)))
    assert ("E1" in got) != ("S1" in got)
