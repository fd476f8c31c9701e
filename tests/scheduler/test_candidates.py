"""Rules decided per candidate (window, bases, distance, features, freeze, kept bookings): each
holds when it leaves room and bites when it does not — through a real solve."""

from scheduler.candidates import generate, kept_bookings
from tests.scheduler.builders import at, req, slot, week
from tests.scheduler.rules.helpers import sessions, solved

S1, S2 = "B1-S1", "B2-S1"


def test_window_holds_and_bites():
    inst = week(
        {S1: []}, days=3, requests=[req("R1", "P1", days=(1, 2)), req("R2", "P2", days=(5, 6))]
    )
    got = sessions(solved(inst))
    assert [s[0].split("/")[1] for s in got["R1"]] == ["d1"]
    assert "R2" not in got  # its window lies after the week


def test_allowed_bases_and_max_km():
    far = {"B2": (45.0, 120.0)}  # about 1,670 km north of every participant
    reqs = [
        req("R1", "P1", bases=["B2"], sessions=2),
        req("R2", "P2", max_km=100, sessions=2),
        req("R3", "P3", max_km=2000, bases=["B2"]),
    ]
    got = sessions(solved(week({S1: [], S2: []}, base_at=far, requests=reqs)))
    assert all(s[0].startswith("B2-") for s in got["R1"])
    assert all(s[0].startswith("B1-") for s in got["R2"])
    assert "R3" not in got or got["R3"][0][0].startswith("B2-")


def test_features_hold_and_bite():
    reqs = [req("R1", "P1", needs=["kitchen"]), req("R2", "P2", needs=["cold_chain"])]
    got = sessions(solved(week({S1: [], "B1-S2": ["kitchen"]}, requests=reqs)))
    assert got["R1"][0][0].startswith("B1-S2/")
    assert "R2" not in got


def test_nothing_new_before_the_freeze_and_frozen_bookings_stay():
    inst = week(
        {S1: []},
        days=2,
        requests=[req("R1", "P1", sessions=3), req("R2", "P2")],
        bookings=[("R2", [slot(S1, 0, 20)], "tentative")],
        policy={"freeze_until": at(1).isoformat()},
    )
    got = sessions(solved(inst))
    assert got["R2"] == [(slot(S1, 0, 20),)]  # tentative, but before the freeze: kept
    assert sorted(s[0] for s in got["R1"]) == [slot(S1, 1, 18), slot(S1, 1, 20)]


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
    held = {inst.requests[r].id: [] for r in cands.req}
    for i in range(len(cands)):
        cls = cands.classes[cands.cls[i]]
        held[inst.requests[cands.req[i]].id].append(cls.slots[0][cands.pos[i]])
    assert slot(S1, 0, 16) not in sum(held.values(), [])  # its slot left the timetable
    assert cands.open_sessions == {0: 1, 1: 1}
    got = sessions(solved(inst))
    assert len(got["R1"]) + len(got.get("R2", [])) == 2  # daily cap 2, one already locked
