"""soft_weighted_served (soft, level 1): weighted sessions asked but not placed (1, 2, 4 for
priority 1, 2, 3); kept bookings are served whatever happens and are left out."""

from scheduler.rules.served import soft_weighted_served
from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import penalty, sessions, solved

S1 = "B1-S1"


def _week():
    return week(
        {S1: [], "B1-S2": []},
        requests=[
            req("R1", "P1", sessions=2, priority=1),
            req("R2", "P2", priority=3),
            req("R3", "P3", priority=2),
        ],
        bookings=[("R3", [slot("B1-S2", 0, 18)], "locked")],
    )


def test_penalty_counts_the_weight_left_unserved():
    inst = _week()  # open: R1 2 x 1 + R2 1 x 4 = 6; R3 is kept
    assert penalty(inst, soft_weighted_served) == 6
    assert penalty(inst, soft_weighted_served, ("R1", [slot(S1, 0, 18)])) == 5
    both = [("R1", [slot(S1, 0, 18)]), ("R2", [slot(S1, 0, 20)])]
    assert penalty(inst, soft_weighted_served, *both) == 1


def test_end_to_end_the_higher_priority_first():
    reqs = [req("R1", "P1", priority=1), req("R2", "P2", priority=2), req("R3", "P3", priority=3)]
    got = sessions(solved(week({S1: []}, hours=(18,), requests=reqs)))
    assert set(got) == {"R3"}


def test_end_to_end_two_short_sessions_beat_one_long_one():
    # R1 (priority 2, length 2) blocks both slots; R2 and R3 (priority 2, length 1) serve 4.
    reqs = [req("R1", "P1", length=2, priority=2), req("R2", "P2", priority=2)]
    reqs.append(req("R3", "P3", priority=2))
    got = sessions(solved(week({S1: []}, hours=(18, 20), requests=reqs)))
    assert set(got) == {"R2", "R3"}
