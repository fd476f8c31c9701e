"""soft_tentative_stability (soft, level 5): tentative bookings moved or dropped. Keeping one
means the same start in the same studio class (``studios.py`` puts it back in its own studio)."""

from scheduler.rules.stability import soft_tentative_stability
from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import penalty, sessions, solved

S1, S2 = "B1-S1", "B1-S2"


def _week():
    return week(
        {S1: [], S2: [], "B2-S1": ["kitchen"]},
        hours=(14, 16, 18, 20),
        requests=[req("R1", "P1"), req("R2", "P2")],
        bookings=[("R1", [slot(S2, 0, 14)], "tentative"), ("R2", [slot(S1, 0, 20)], "tentative")],
    )


def test_penalty_counts_the_tentative_bookings_not_kept():
    inst = _week()
    kept_r2 = ("R2", [slot(S1, 0, 20)])
    assert penalty(inst, soft_tentative_stability) == 2
    assert penalty(inst, soft_tentative_stability, ("R1", [slot(S2, 0, 14)]), kept_r2) == 0
    # S1 and S2 are identical: 14:00 in either keeps R1's booking.
    assert penalty(inst, soft_tentative_stability, ("R1", [slot(S1, 0, 14)]), kept_r2) == 0
    assert penalty(inst, soft_tentative_stability, ("R1", [slot(S2, 0, 16)]), kept_r2) == 1
    moved = [("R1", [slot("B2-S1", 0, 14)]), ("R2", [slot(S1, 0, 18)])]
    assert penalty(inst, soft_tentative_stability, *moved) == 2


def test_end_to_end_a_tentative_booking_stays_in_its_own_studio():
    inst = week(
        {S1: [], S2: []},
        hours=(14, 16, 18, 20),
        requests=[req("R1", "P1")],
        bookings=[("R1", [slot(S2, 0, 14)], "tentative")],
    )
    assert sessions(solved(inst))["R1"] == [(slot(S2, 0, 14),)]


def test_end_to_end_it_moves_when_a_higher_priority_needs_the_slot():
    inst = week(
        {S1: []},
        hours=(18, 20),
        requests=[req("R1", "P1"), req("R2", "P2", days=(0, 1), priority=3, length=2)],
        bookings=[("R1", [slot(S1, 0, 18)], "tentative")],
    )
    got = sessions(solved(inst))
    assert got["R2"] == [(slot(S1, 0, 18), slot(S1, 0, 20))]
    assert "R1" not in got
