"""Domain objects back into documents (``dump_instance``, ``dump_plan``) and files
(``write_json``, atomic). Optional fields are written only when they are known."""

from __future__ import annotations

import json
import os
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from scheduler.domain import (
    INSTANCE_FORMAT,
    PLAN_FORMAT,
    Base,
    Instance,
    Participant,
    Plan,
    Policy,
    Request,
    Slot,
)


def _iso(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).isoformat()


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def dump_instance(inst: Instance) -> dict[str, Any]:
    """The instance as a ``livehub-instance/1`` document, times in the instance's zone."""
    tz = inst.tz
    return {
        "format": INSTANCE_FORMAT,
        "name": inst.name,
        "timezone": inst.timezone,
        "horizon": {"start": inst.horizon_start.isoformat(), "days": inst.horizon_days},
        "bases": [_base(b) for b in inst.bases],
        "slots": [_slot(s, tz) for s in inst.slots],
        "participants": [_participant(p) for p in inst.participants],
        "requests": [_request(r, tz) for r in inst.requests],
        "bookings": [
            {"request": b.request, "slots": list(b.slots), "status": b.status}
            for b in inst.bookings
        ],
        "policy": _policy(inst.policy, tz),
    }


def _base(b: Base) -> dict[str, Any]:
    return {
        "id": b.id,
        "name": b.name,
        "city": b.city,
        "province": b.province,
        "region": b.region,
        "lat": b.lat,
        "lon": b.lon,
        "studios": [{"id": s.id, "features": sorted(s.features)} for s in b.studios],
    }


def _slot(s: Slot, tz: tzinfo) -> dict[str, Any]:
    return {
        "id": s.id,
        "studio": s.studio,
        "start": _iso(s.start, tz),
        "end": _iso(s.end, tz),
        "prime": s.prime,
    }


def _participant(p: Participant) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "kind": p.kind,
        "province": p.province,
        "region": p.region,
        "lat": p.lat,
        "lon": p.lon,
        "priority": p.priority,
    }
    if p.category is not None:
        out["category"] = p.category
    if p.prime_recent is not None:
        out["prime_recent"] = p.prime_recent
    return out


def _request(r: Request, tz: tzinfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "participant": r.participant,
        "sessions": r.sessions,
        "length": r.length,
        "window": {"start": _iso(r.window_start, tz), "end": _iso(r.window_end, tz)},
        "bases": None if r.bases is None else list(r.bases),
        "max_km": None if r.max_km is None else _number(r.max_km),
        "needs": sorted(r.needs),
        "prefer": {"bases": list(r.prefer_bases), "prime": r.prefer_prime},
    }
    if r.harvest is not None:
        out["harvest"] = {
            "ready": _iso(r.harvest.ready, tz),
            "best_before": _iso(r.harvest.best_before, tz),
        }
    return out


def _policy(policy: Policy, tz: tzinfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if policy.max_sessions_per_day is not None:
        out["max_sessions_per_day"] = policy.max_sessions_per_day
    out["same_day_same_base"] = policy.same_day_same_base
    if policy.freeze_until is not None:
        out["freeze_until"] = _iso(policy.freeze_until, tz)
    out["target_utilization"] = policy.target_utilization
    if policy.category_separation is not None:
        out["category_separation"] = policy.category_separation
    return out


def dump_plan(plan: Plan) -> dict[str, Any]:
    """The plan as a ``livehub-plan/1`` document."""
    return {
        "format": PLAN_FORMAT,
        "instance": plan.instance,
        "assignments": [{"request": a.request, "slots": list(a.slots)} for a in plan.assignments],
        "unassigned": [
            {"request": u.request, "missing": u.missing, "reason": u.reason}
            for u in plan.unassigned
        ],
        "stats": dict(plan.stats),
    }


def write_json(doc: Any, path: str | os.PathLike[str]) -> None:
    """Write a document atomically (a half-written plan must never be read by anyone).

    A top-level object is written one key per line and its lists one item per line (each item on
    one line): readable and diffable, and encoded by json's C encoder (``indent`` would use the
    pure-Python one: seconds on a whole-programme week)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(_lines(doc))
        f.write("\n")
    os.replace(tmp, target)


def _lines(doc: Any) -> str:
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    if not isinstance(doc, dict) or not doc:
        return dumps(doc)

    def value(v: Any) -> str:
        if isinstance(v, list) and v:
            return "[\n  " + ",\n  ".join(dumps(x) for x in v) + "\n ]"
        return dumps(v)

    return "{\n" + ",\n".join(f" {dumps(str(k))}: {value(v)}" for k, v in doc.items()) + "\n}"
