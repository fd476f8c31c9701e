"""Events of the optimizer: a placement's proposals (booking.proposed, request.placed) and a run's
end (run.applied with per-base counts, run.failed), each only to the endpoints of the bases it
concerns. The queue inline (eager), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import OptimizationRun, PlanningWeek, RunChange
from app.services.booking import requests as request_svc
from app.services.runs import guard
from app.services.webhooks import endpoints as svc


def _add(world, user: str, url: str, events: list[str], bases: list[str]):
    return svc.register(world.users[user], svc.EndpointSpec(url=url, events=events, bases=bases))


def test_a_placement_sends_proposals_and_the_placed_request(private_ok, world, receivers):
    private_ok.config["INSTANT_PLACEMENT"] = True
    b1, b2 = receivers(), receivers()
    events = ["booking.proposed", "request.placed"]
    _add(world, "op1", b1.url, events, ["B001"])
    _add(world, "op2", b2.url, events, ["B002"])
    req = request_svc.file_request(
        world.users["p1"],
        sessions=2,
        length=1,
        window_start=world.local(0, 0),
        window_end=world.local(3, 0),
        bases=["B001"],
        now=world.local(-3, 12),
    )
    got = [g.json() for g in b1.got]
    assert [e["type"] for e in got] == ["booking.proposed", "booking.proposed", "request.placed"]
    proposed = [e["data"] for e in got[:2]]
    assert {p["status"] for p in proposed} == {"tentative"}
    assert {p["origin"] for p in proposed} == {"optimizer"}
    assert {p["request"] for p in proposed} == {req.code} and {p["base"] for p in proposed} == {
        "B001"
    }
    placed = got[2]["data"]
    assert placed["request"] == req.code and placed["participant"] == "P001"
    assert [b["base"] for b in placed["bases"]] == ["B001"]
    assert sorted(s["booking"] for s in placed["bases"][0]["sessions"]) == sorted(
        p["booking"] for p in proposed
    )
    assert b2.got == []


def _run(world, *, scope=None) -> OptimizationRun:
    week = db.session.scalar(
        select(PlanningWeek).where(PlanningWeek.week_start == world.week_start)
    )
    run = OptimizationRun(
        planning_week=week,
        kind="manual",
        state="running",
        lock_key=f"t{id(scope)}",
        scope_bases=scope,
    )
    db.session.add(run)
    db.session.commit()
    return run


def test_run_failed_reaches_the_bases_of_the_run(private_ok, world, receivers):
    b1, b2 = receivers(), receivers()
    _add(world, "op1", b1.url, ["run.failed", "run.applied"], ["B001"])
    _add(world, "op2", b2.url, ["run.failed"], ["B002"])
    whole = _run(world)
    guard.fail(whole.id, "the solver crashed")
    assert len(b1.got) == len(b2.got) == 1  # a run of the whole week concerns every base
    data = b1.got[0].json()["data"]
    assert b1.got[0].json()["type"] == "run.failed"
    assert (data["run"], data["week"], data["status"]) == (
        whole.id,
        world.week_start.isoformat(),
        "failed",
    )
    assert data["error"] == "the solver crashed"
    scoped = _run(world, scope=["B002"])
    guard.fail(scoped.id, "no time")
    assert (len(b1.got), len(b2.got)) == (1, 2)


def test_run_applied_counts_the_changes_of_each_base(private_ok, world, receivers):
    b1, admin = receivers(), receivers()
    _add(world, "op1", b1.url, ["run.applied"], ["B001"])
    svc.register(
        world.users["admin"],
        svc.EndpointSpec(url=admin.url, events=["run.applied"], all_bases=True),
    )
    run = _run(world)
    s1, s2 = world.slot("B001-S1", 1, 10), world.slot("B002-S1", 1, 10)
    run.changes = [
        RunChange(change="added", request_code="R000001", after_slots=[s1], after_base="B001"),
        RunChange(
            change="moved",
            request_code="R000002",
            before_slots=[s2],
            after_slots=[s1],
            before_base="B002",
            after_base="B001",
        ),
        RunChange(change="dropped", request_code="R000003", before_slots=[s2], before_base="B002"),
    ]
    run.added, run.moved, run.dropped = 1, 1, 1
    guard.finish(run, "applied", "1 added, 1 moved, 1 dropped")
    db.session.commit()
    mine = b1.got[0].json()["data"]
    assert mine["bases"] == [{"base": "B001", "added": 1, "moved": 1, "dropped": 0}]
    every = admin.got[0].json()["data"]["bases"]
    assert every == [
        {"base": "B001", "added": 1, "moved": 1, "dropped": 0},
        {"base": "B002", "added": 0, "moved": 1, "dropped": 1},
    ]
