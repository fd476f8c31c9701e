"""Harvest lots: rule 10 (hard, decided per candidate: every session inside the lot's ``ready`` ..
``best_before``) and soft_harvest_freshness (level 4: one point per hour after ``ready``)."""

from scheduler.rules.harvest import FRESH_POINTS_PER_HOUR, soft_harvest_freshness
from tests.scheduler.builders import at, req, slot, week
from tests.scheduler.rules.helpers import penalty, sessions, solved, starts

S1 = "B1-S1"


def lot_week(ready=(1, 6), best_before=(2, 0)):
    reqs = [req("R1", "P1", harvest=(at(*ready), at(*best_before)))]
    return week({S1: []}, days=3, hours=(10, 18), requests=reqs)


def test_sessions_start_only_inside_the_lot():
    assert starts(lot_week(), "R1") == {slot(S1, 1, 10), slot(S1, 1, 18)}


def test_a_lot_past_its_date_has_no_placement():
    assert starts(lot_week(ready=(0, 0), best_before=(0, 10)), "R1") == set()


def test_freshness_costs_the_hours_after_ready():
    inst = lot_week()
    assert penalty(inst, soft_harvest_freshness, ("R1", [slot(S1, 1, 10)])) == 4
    late = penalty(inst, soft_harvest_freshness, ("R1", [slot(S1, 1, 18)]))
    assert late == 12 * FRESH_POINTS_PER_HOUR


def test_end_to_end_the_freshest_run():
    inst = week(
        {S1: []}, days=3, hours=(10, 18), requests=[req("R1", "P1", harvest=(at(1, 6), at(3)))]
    )
    assert sessions(solved(inst))["R1"] == [(slot(S1, 1, 10),)]


def test_a_tentative_booking_outside_its_lot_stays_as_it_is():
    lot = (at(1, 6), at(2, 0))
    inst = week(
        {S1: []},
        days=3,
        hours=(10, 18),
        requests=[req("R1", "P1", harvest=lot)],
        bookings=[("R1", [slot(S1, 2, 10)], "tentative")],  # exempt while unchanged
    )
    assert starts(inst, "R1") == set()
    assert sessions(solved(inst))["R1"] == [(slot(S1, 2, 10),)]
