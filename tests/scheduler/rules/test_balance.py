"""soft_base_balance (soft, level 3): a convex cost of each base's used slots around the week's
expected mean utilization, steep above the target (see ``rules/balance.py`` for the steps)."""

from scheduler.rules.balance import soft_base_balance
from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import penalty, sessions, solved

S1, S2 = "B1-S1", "B2-S1"
HOURS = (12, 14, 16, 18)


def _week():
    # 8 slots, 4 asked: expected mean 0.5. Per base of 4 slots, the steps' thresholds are
    # int(4 x min(0.85, 0.5 x (1, 1.25, 1.5, 2))) = 2, 2, 3, 3 and int(4 x 0.85) = 3 for the
    # target, costing 1, 1, 2, 4, 8 per slot above them, times round(1000 / 4) = 250.
    reqs = [req(f"R{i}", f"P{i}") for i in range(4)]
    return week({S1: [], S2: []}, hours=HOURS, requests=reqs)


def test_penalty_grows_steeply_with_a_bases_load():
    inst = _week()
    at_b1 = [(f"R{i}", [slot(S1, 0, h)]) for i, h in enumerate(HOURS)]
    assert penalty(inst, soft_base_balance, *at_b1[:2]) == 0  # 2 used: at the mean
    # 3 used: 1 above each of the first two thresholds: (1 + 1) x 250.
    assert penalty(inst, soft_base_balance, *at_b1[:3]) == 500
    # 4 used: 2 + 2 above the first two, 1 above the other three: (2 + 2 + 2 + 4 + 8) x 250.
    assert penalty(inst, soft_base_balance, *at_b1) == 4_500
    split = [*at_b1[:3], ("R3", [slot(S2, 0, 18)])]
    assert penalty(inst, soft_base_balance, *split) == 500
    even = [*at_b1[:2], ("R2", [slot(S2, 0, 16)]), ("R3", [slot(S2, 0, 18)])]
    assert penalty(inst, soft_base_balance, *even) == 0


def _busy_week(allowed):
    # B1 already holds three of its four slots (75 % > target 60 %); B2 is idle.
    booked = [("K1", [slot(S1, 0, h)], "locked") for h in (12, 14, 16)]
    reqs = [req("K1", "PK", sessions=3, bases=["B1"]), req("R1", "P1", bases=allowed)]
    return week(
        {S1: [], S2: []},
        hours=HOURS,
        requests=reqs,
        bookings=booked,
        policy={"target_utilization": 0.6, "max_sessions_per_day": 3},
    )


def test_end_to_end_the_session_goes_to_the_idle_base():
    got = sessions(solved(_busy_week(None)))
    assert got["R1"][0][0].startswith("B2-")


def test_end_to_end_the_busy_base_when_it_is_the_only_one_allowed():
    got = sessions(solved(_busy_week(["B1"])))
    assert got["R1"] == [(slot(S1, 0, 18),)]
