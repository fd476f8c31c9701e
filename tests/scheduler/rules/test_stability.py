"""soft_tentative_stability: a tentative booking stays unless a higher level needs its slot."""

from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import sessions, solved

S1, S2 = "B1-S1", "B1-S2"


def test_holds_a_tentative_booking_in_its_own_studio():
    inst = week(
        {S1: [], S2: []},
        hours=(14, 16, 18, 20),
        requests=[req("R1", "P1")],
        bookings=[("R1", [slot(S2, 0, 14)], "tentative")],
    )
    # S1 at 14:00 is an identical studio (the same class): the booking must come back to S2.
    assert sessions(solved(inst))["R1"] == [(slot(S2, 0, 14),)]


def test_bites_when_a_higher_priority_needs_the_slot():
    inst = week(
        {S1: []},
        hours=(18, 20),
        requests=[req("R1", "P1"), req("R2", "P2", days=(0, 1), priority=3, length=2)],
        bookings=[("R1", [slot(S1, 0, 18)], "tentative")],
    )
    got = sessions(solved(inst))
    assert got["R2"] == [(slot(S1, 0, 18), slot(S1, 0, 20))]
    assert "R1" not in got
