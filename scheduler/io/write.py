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

    The text is exactly ``json.dump(doc, ensure_ascii=False, indent=1)``'s, built by
    :func:`indented` (json's own ``indent`` runs its pure-Python encoder: seconds on a
    whole-programme week)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(indented(doc))
        f.write("\n")
    os.replace(tmp, target)


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_STR: Any = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring


def _SCALAR(v: Any) -> str:
    """One string, number, boolean or null as json writes it (strings by its C function)."""
    t = type(v)
    if t is str:
        text: str = _STR(v)
        return text
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if t is int:
        return int.__repr__(v)
    text = _ENCODE(v)
    return text


def indented(doc: Any) -> str:
    """``json.dumps(doc, ensure_ascii=False, indent=1)``, character for character: the layout
    is laid out here, every string and number is encoded by json's C encoder."""
    return _text(doc, "\n")


_FLAT = (str, int, float, bool, type(None))


def _text(value: Any, nl: str) -> str:
    """``value`` laid out at the indentation ``nl`` (a newline and one space per level)."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = nl + " "
        enc = _SCALAR
        return (
            "{"
            + inner
            + ("," + inner).join(
                [
                    (_STR(k) if type(k) is str else enc(_key(k)))
                    + ": "
                    + (
                        _STR(v)
                        if type(v) is str
                        else enc(v)
                        if isinstance(v, _FLAT)
                        else _text(v, inner)
                    )
                    for k, v in value.items()
                ]
            )
            + nl
            + "}"
        )
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = nl + " "
        enc = _SCALAR
        return (
            "["
            + inner
            + ("," + inner).join(
                [
                    _STR(v)
                    if type(v) is str
                    else enc(v)
                    if isinstance(v, _FLAT)
                    else _text(v, inner)
                    for v in value
                ]
            )
            + nl
            + "]"
        )
    return _SCALAR(value)


def _key(k: Any) -> str:
    """A non-string key as json writes it (``True`` -> ``"true"``, numbers by their repr)."""
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    text: str = _SCALAR(k)
    return text
