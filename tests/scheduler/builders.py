"""Tiny hand-built weeks for tests: a few studios, a few days, readable ids.

    from tests.scheduler.builders import week, req, slot, plan

    inst = week(
        studios={"B1-S1": ["kitchen"], "B2-S1": []},   # studio id "<base>-<name>" -> features
        days=2, hours=(18, 20),                         # 2-hour slots starting 18:00 and 20:00
        requests=[req("R1", "P1", sessions=2), req("R2", "P2", needs=["kitchen"], priority=3)],
        bookings=[("R1", [slot("B1-S1", 0, 18)], "locked")],
        policy={"freeze_until": None},                  # merged over DEFAULT_POLICY
    )
    p = plan(inst, ("R1", [slot("B1-S1", 0, 18)]), ("R2", ["B1-S1/d1/20"]))

* Slot ids are ``"<studio>/d<day>/<hour:02d>"`` (``slot("B1-S1", 1, 20) == "B1-S1/d1/20"``); day 0
  is ``START`` (2026-12-07, Asia/Shanghai); slots from 18:00 to 22:00 are prime.
* Bases are the studio-id prefixes. ``base_at={"B2": (lat, lon)}`` places a base (default: all at
  ``HOME``, 0 km from every default participant); ``base_region={"B2": "south"}`` sets its region.
* ``req(...)`` builds one request; its keywords ``priority``/``region``/``at``/``category``/
  ``prime_recent`` describe the participant, created on first mention (the first mention wins).
  ``harvest=(ready, best_before)`` gives the request a harvest lot. Windows are given as day
  offsets ``days=(first, end)`` (end exclusive) or as ``window=(start_dt, end_dt)``; default: the
  whole week. Pass ``participants={"P1": {...}}`` to ``week`` to set participants explicitly.
* ``week`` goes through ``scheduler.io.load_instance``, so the result is a real ``Instance``;
  ``week_doc`` returns the ``livehub-instance/1`` dict instead (for io tests and files).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.domain import Assignment, Instance, Plan
from scheduler.io import load_instance

START = date(2026, 12, 7)
TZ = ZoneInfo("Asia/Shanghai")
HOME = (30.0, 120.0)
DEFAULT_POLICY = {
    "max_sessions_per_day": 2,
    "same_day_same_base": True,
    "freeze_until": None,
    "target_utilization": 0.85,
}


def at(day: int, hour: int = 0) -> datetime:
    """The instant ``hour``:00 on day ``day`` of the test week, in Asia/Shanghai."""
    return datetime.combine(START + timedelta(days=day), time(hour), TZ)


def slot(studio: str, day: int, hour: int) -> str:
    """The id of the slot of ``studio`` starting at ``hour``:00 on day ``day``."""
    return f"{studio}/d{day}/{hour:02d}"


def req(
    rid: str,
    participant: str,
    *,
    sessions: int = 1,
    length: int = 1,
    days: tuple[int, int] | None = None,
    window: tuple[datetime, datetime] | None = None,
    bases: Iterable[str] | None = None,
    max_km: float | None = None,
    needs: Iterable[str] = (),
    prefer: Iterable[str] = (),
    prime: bool = False,
    priority: int = 1,
    region: str = "east",
    kind: str = "producer",
    at: tuple[float, float] = HOME,
    category: str | None = None,
    prime_recent: int | None = None,
    harvest: tuple[datetime, datetime] | None = None,
) -> dict[str, Any]:
    """One request (as an exchange-format dict) plus how to create its participant."""
    lot = (
        {}
        if harvest is None
        else {
            "harvest": {
                k: t.isoformat() for k, t in zip(("ready", "best_before"), harvest, strict=True)
            }
        }
    )
    who = {"priority": priority, "region": region, "kind": kind, "at": at}
    who |= {"category": category, "prime_recent": prime_recent}
    return {
        **lot,
        "id": rid,
        "participant": participant,
        "sessions": sessions,
        "length": length,
        "_days": days,
        "_window": window,
        "bases": None if bases is None else list(bases),
        "max_km": max_km,
        "needs": list(needs),
        "prefer": {"bases": list(prefer), "prime": prime},
        "_participant": who,
    }


def week_doc(
    studios: Mapping[str, Iterable[str]] | None = None,
    *,
    days: int = 1,
    hours: Iterable[int] = (18, 20),
    requests: Iterable[Mapping[str, Any]] = (),
    bookings: Iterable[tuple[str, Iterable[str], str]] = (),
    participants: Mapping[str, Mapping[str, Any]] | None = None,
    base_at: Mapping[str, tuple[float, float]] | None = None,
    base_region: Mapping[str, str] | None = None,
    policy: Mapping[str, Any] | None = None,
    name: str = "test-week",
) -> dict[str, Any]:
    """A ``livehub-instance/1`` document; see the module docstring for the arguments."""
    studios = dict(studios or {"B1-S1": []})
    base_at, base_region = dict(base_at or {}), dict(base_region or {})
    bases: dict[str, dict[str, Any]] = {}
    for sid, features in studios.items():
        bid = sid.split("-")[0]
        lat, lon = base_at.get(bid, HOME)
        b = bases.setdefault(
            bid,
            {
                "id": bid,
                "name": f"{bid} 基地",
                "city": "",
                "province": "",
                "region": base_region.get(bid, "east"),
                "lat": lat,
                "lon": lon,
                "studios": [],
            },
        )
        b["studios"].append({"id": sid, "features": sorted(features)})
    slots = [
        {
            "id": slot(sid, d, h),
            "studio": sid,
            "start": at(d, h).isoformat(),
            "end": (at(d, h) + timedelta(hours=2)).isoformat(),
            "prime": 18 <= h < 22,
        }
        for sid in studios
        for d in range(days)
        for h in sorted(hours)
    ]
    people: dict[str, dict[str, Any]] = {}
    for pid, p in (participants or {}).items():
        people[pid] = _participant(pid, **p)
    reqs = []
    for r in requests:
        r = dict(r)
        who = r.pop("_participant", {})
        if r["participant"] not in people:
            people[r["participant"]] = _participant(r["participant"], **who)
        first, end = r.pop("_days", None) or (0, days)
        w0, w1 = r.pop("_window", None) or (at(first), at(end))
        r["window"] = {"start": w0.isoformat(), "end": w1.isoformat()}
        reqs.append(r)
    return {
        "format": "livehub-instance/1",
        "name": name,
        "timezone": "Asia/Shanghai",
        "horizon": {"start": START.isoformat(), "days": days},
        "bases": list(bases.values()),
        "slots": slots,
        "participants": list(people.values()),
        "requests": reqs,
        "bookings": [
            {"request": rid, "slots": list(ss), "status": status} for rid, ss, status in bookings
        ],
        "policy": {**DEFAULT_POLICY, **(policy or {})},
    }


def week(*args: Any, **kwargs: Any) -> Instance:
    """A tiny hand-built :class:`Instance`; same arguments as :func:`week_doc`."""
    return load_instance(week_doc(*args, **kwargs))


def plan(inst: Instance, *sessions: tuple[str, Iterable[str]]) -> Plan:
    """A plan of the given ``(request, slot ids)`` sessions."""
    return Plan(inst.name, tuple(Assignment(r, tuple(ss)) for r, ss in sessions))


def bookings_plan(inst: Instance) -> Plan:
    """The plan that keeps exactly the instance's bookings."""
    return Plan(inst.name, tuple(Assignment(b.request, b.slots) for b in inst.bookings))


def _participant(
    pid: str,
    *,
    priority: int = 1,
    region: str = "east",
    kind: str = "producer",
    at: tuple[float, float] = HOME,
    category: str | None = None,
    prime_recent: int | None = None,
) -> dict[str, Any]:
    optional = {"category": category, "prime_recent": prime_recent}
    return {
        **{k: v for k, v in optional.items() if v is not None},
        "id": pid,
        "name": f"{pid} 合作社",
        "kind": kind,
        "province": "",
        "region": region,
        "lat": at[0],
        "lon": at[1],
        "priority": priority,
    }
