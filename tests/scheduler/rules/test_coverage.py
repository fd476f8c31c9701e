"""soft_regional_coverage: the worst-served macro-region first, when served counts tie."""

from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import sessions, solved


def _week(south_already_served: bool):
    reqs = [
        req("E1", "PE1", region="east", bases=["B1"]),
        req("E2", "PE2", region="east", bases=["B2"]),
        req("S1", "PS1", region="south", bases=["B1"]),
    ]
    bookings = [("E2", [slot("B2-S1", 0, 18)], "locked")]
    if south_already_served:
        reqs.append(req("S2", "PS2", region="south", bases=["B3"]))
        bookings.append(("S2", [slot("B3-S1", 0, 18)], "locked"))
    studios = {"B1-S1": [], "B2-S1": [], "B3-S1": []}
    return week(studios, hours=(18,), requests=reqs, bookings=bookings)


def test_bites_for_the_region_with_nothing_yet():
    # One free slot (B1), east already has 1 of 2 served, south 0 of 1: south gets it.
    got = sessions(solved(_week(south_already_served=False)))
    assert "S1" in got and "E1" not in got


def test_holds_when_regions_tie():
    # East 1/2, south 1/2 either way: exactly one of E1, S1 is served, nothing breaks.
    got = sessions(solved(_week(south_already_served=True)))
    assert ("E1" in got) != ("S1" in got)
