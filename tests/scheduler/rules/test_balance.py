"""soft_base_balance: no base far above target while another base could take the session."""

from tests.scheduler.builders import req, slot, week
from tests.scheduler.rules.helpers import sessions, solved


def _busy_week(allowed):
    # B1 already holds three of its four slots (75 % > target 60 %); B2 is idle.
    booked = [("K1", [slot("B1-S1", 0, h)], "locked") for h in (12, 14, 16)]
    reqs = [req("K1", "PK", sessions=3, bases=["B1"]), req("R1", "P1", bases=allowed)]
    return week(
        {"B1-S1": [], "B2-S1": []},
        hours=(12, 14, 16, 18),
        requests=reqs,
        bookings=booked,
        policy={"target_utilization": 0.6, "max_sessions_per_day": 3},
    )


def test_bites_by_sending_the_session_to_the_idle_base():
    got = sessions(solved(_busy_week(None)))
    assert got["R1"][0][0].startswith("B2-")


def test_holds_when_only_the_busy_base_is_allowed():
    got = sessions(solved(_busy_week(["B1"])))
    assert got["R1"] == [(slot("B1-S1", 0, 18),)]
