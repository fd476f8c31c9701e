"""Read and write ``livehub-instance/1`` and ``livehub-plan/1`` (see the exchange-format spec).

Reading checks structure, types and references and raises :class:`FormatError` with one line
that names the offending item (``slots[12] (SL000013): unknown studio 'B001-S9'``). Whether a
plan or the instance's own bookings obey the hard rules is ``validate.py``'s business.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.domain import (
    INSTANCE_FORMAT,
    KINDS,
    PLAN_FORMAT,
    REGIONS,
    STATUSES,
    Assignment,
    Base,
    Booking,
    Instance,
    Participant,
    Plan,
    Policy,
    Request,
    Slot,
    Studio,
    Unassigned,
)

Source = str | os.PathLike | Mapping[str, Any]


class FormatError(ValueError):
    """A file that is not a valid instance or plan; the message is one line for the user."""


# ---------------------------------------------------------------------------- reading helpers


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file, turning every way it can fail into a :class:`FormatError`."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise FormatError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from None


def _document(source: Source) -> Mapping[str, Any]:
    doc = source if isinstance(source, Mapping) else read_json(source)
    if not isinstance(doc, Mapping):
        raise FormatError("the file holds a JSON value that is not an object")
    return doc


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str, *, optional=False) -> Any:
    if not isinstance(obj, Mapping):
        raise FormatError(f"{where}: expected an object")
    if key not in obj or obj[key] is None:
        if optional:
            return None
        raise FormatError(f"{where}: missing '{key}'")
    value = obj[key]
    # bool is an int in Python; a JSON true is never a count or a coordinate.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise FormatError(f"{where}: '{key}' must be {_kind_name(kind)}, got {value!r}")
    if not isinstance(value, kind):
        raise FormatError(f"{where}: '{key}' must be {_kind_name(kind)}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise FormatError(f"{where}: '{key}' must be a finite number")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "an object",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _instant(text: Any, where: str) -> datetime:
    if not isinstance(text, str):
        raise FormatError(f"{where}: expected an ISO 8601 time, got {text!r}")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(f"{where}: {text!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise FormatError(f"{where}: {text!r} has no UTC offset")
    return value


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FormatError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def _unique(ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise FormatError(f"duplicate {what} id {i!r}")
        seen.add(i)


def _list(doc: Mapping[str, Any], key: str) -> list:
    value = doc.get(key)
    if not isinstance(value, list):
        raise FormatError(f"'{key}' must be a list")
    return value


# ---------------------------------------------------------------------------- instance


def load_instance(source: Source) -> Instance:
    """Parse a ``livehub-instance/1`` document (a path or an already-parsed dict)."""
    doc = _document(source)
    if doc.get("format") != INSTANCE_FORMAT:
        raise FormatError(f"format is {doc.get('format')!r}, expected {INSTANCE_FORMAT!r}")
    name = _get(doc, "name", str, "instance")
    tz_name = _get(doc, "timezone", str, "instance")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FormatError(f"unknown timezone {tz_name!r}") from None
    horizon = _get(doc, "horizon", dict, "instance")
    try:
        horizon_start = date.fromisoformat(_get(horizon, "start", str, "horizon"))
    except ValueError:
        raise FormatError(f"horizon.start {horizon['start']!r} is not a date") from None
    horizon_days = _get(horizon, "days", int, "horizon")
    if horizon_days < 1:
        raise FormatError("horizon.days must be at least 1")

    bases = tuple(_base(b, f"bases[{i}]") for i, b in enumerate(_list(doc, "bases")))
    _unique((b.id for b in bases), "base")
    _unique((s.id for b in bases for s in b.studios), "studio")
    studio_ids = {s.id for b in bases for s in b.studios}
    base_ids = {b.id for b in bases}

    slots = tuple(_slot(s, f"slots[{i}]", studio_ids) for i, s in enumerate(_list(doc, "slots")))
    _unique((s.id for s in slots), "slot")
    slot_ids = {s.id for s in slots}

    participants = tuple(
        _participant(p, f"participants[{i}]") for i, p in enumerate(_list(doc, "participants"))
    )
    _unique((p.id for p in participants), "participant")
    participant_ids = {p.id for p in participants}

    requests = tuple(
        _request(r, f"requests[{i}]", participant_ids, base_ids)
        for i, r in enumerate(_list(doc, "requests"))
    )
    _unique((r.id for r in requests), "request")
    request_ids = {r.id for r in requests}

    bookings = tuple(
        _booking(b, f"bookings[{i}]", request_ids, slot_ids)
        for i, b in enumerate(doc.get("bookings") or [])
    )
    policy = _policy(doc.get("policy") or {})
    return Instance(
        name=name,
        timezone=tz_name,
        horizon_start=horizon_start,
        horizon_days=horizon_days,
        bases=bases,
        slots=slots,
        participants=participants,
        requests=requests,
        bookings=bookings,
        policy=policy,
    )


def _base(b: Any, where: str) -> Base:
    bid = _get(b, "id", str, where)
    where = f"{where} ({bid})"
    region = _get(b, "region", str, where)
    if region not in REGIONS:
        raise FormatError(f"{where}: region {region!r} is not one of {', '.join(REGIONS)}")
    studios = []
    for j, s in enumerate(_get(b, "studios", list, where)):
        sw = f"{where}.studios[{j}]"
        studios.append(
            Studio(
                id=_get(s, "id", str, sw),
                base=bid,
                features=frozenset(_str_list(s.get("features", []), f"{sw}.features")),
            )
        )
    return Base(
        id=bid,
        name=_get(b, "name", str, where),
        city=_get(b, "city", str, where, optional=True) or "",
        province=_get(b, "province", str, where, optional=True) or "",
        region=region,
        lat=float(_get(b, "lat", (int, float), where)),
        lon=float(_get(b, "lon", (int, float), where)),
        studios=tuple(studios),
    )


def _slot(s: Any, where: str, studio_ids: set[str]) -> Slot:
    sid = _get(s, "id", str, where)
    where = f"{where} ({sid})"
    studio = _get(s, "studio", str, where)
    if studio not in studio_ids:
        raise FormatError(f"{where}: unknown studio {studio!r}")
    start = _instant(_get(s, "start", str, where), f"{where}.start")
    end = _instant(_get(s, "end", str, where), f"{where}.end")
    if end <= start:
        raise FormatError(f"{where}: end {s['end']} is not after start {s['start']}")
    return Slot(id=sid, studio=studio, start=start, end=end, prime=bool(s.get("prime", False)))


def _participant(p: Any, where: str) -> Participant:
    pid = _get(p, "id", str, where)
    where = f"{where} ({pid})"
    kind = _get(p, "kind", str, where)
    if kind not in KINDS:
        raise FormatError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    region = _get(p, "region", str, where)
    if region not in REGIONS:
        raise FormatError(f"{where}: region {region!r} is not one of {', '.join(REGIONS)}")
    priority = _get(p, "priority", int, where)
    if priority not in (1, 2, 3):
        raise FormatError(f"{where}: priority must be 1, 2 or 3, got {priority}")
    return Participant(
        id=pid,
        name=_get(p, "name", str, where),
        kind=kind,
        province=_get(p, "province", str, where, optional=True) or "",
        region=region,
        lat=float(_get(p, "lat", (int, float), where)),
        lon=float(_get(p, "lon", (int, float), where)),
        priority=priority,
    )


def _request(r: Any, where: str, participant_ids: set[str], base_ids: set[str]) -> Request:
    rid = _get(r, "id", str, where)
    where = f"{where} ({rid})"
    participant = _get(r, "participant", str, where)
    if participant not in participant_ids:
        raise FormatError(f"{where}: unknown participant {participant!r}")
    sessions = _get(r, "sessions", int, where)
    length = _get(r, "length", int, where)
    if sessions < 1 or length < 1:
        raise FormatError(f"{where}: sessions and length must be at least 1")
    window = _get(r, "window", dict, where)
    w0 = _instant(window.get("start"), f"{where}.window.start")
    w1 = _instant(window.get("end"), f"{where}.window.end")
    if w1 <= w0:
        raise FormatError(f"{where}: window ends before it starts")
    bases = r.get("bases")
    if bases is not None:
        bases = _str_list(bases, f"{where}.bases")
        unknown = [b for b in bases if b not in base_ids]
        if unknown:
            raise FormatError(f"{where}: unknown base(s) {', '.join(unknown)} in 'bases'")
    max_km = _get(r, "max_km", (int, float), where, optional=True)
    if max_km is not None and max_km < 0:
        raise FormatError(f"{where}: max_km must not be negative")
    prefer = r.get("prefer") or {}
    if not isinstance(prefer, Mapping):
        raise FormatError(f"{where}: 'prefer' must be an object")
    prefer_bases = _str_list(prefer.get("bases") or [], f"{where}.prefer.bases")
    unknown = [b for b in prefer_bases if b not in base_ids]
    if unknown:
        raise FormatError(f"{where}: unknown base(s) {', '.join(unknown)} in 'prefer.bases'")
    return Request(
        id=rid,
        participant=participant,
        sessions=sessions,
        length=length,
        window_start=w0,
        window_end=w1,
        bases=bases,
        max_km=None if max_km is None else float(max_km),
        needs=frozenset(_str_list(r.get("needs") or [], f"{where}.needs")),
        prefer_bases=prefer_bases,
        prefer_prime=bool(prefer.get("prime", False)),
    )


def _booking(b: Any, where: str, request_ids: set[str], slot_ids: set[str]) -> Booking:
    request = _get(b, "request", str, where)
    where = f"{where} ({request})"
    if request not in request_ids:
        raise FormatError(f"{where}: unknown request {request!r}")
    slots = _str_list(_get(b, "slots", list, where), f"{where}.slots")
    if not slots:
        raise FormatError(f"{where}: holds no slot")
    unknown = [s for s in slots if s not in slot_ids]
    if unknown:
        raise FormatError(f"{where}: unknown slot(s) {', '.join(unknown)}")
    status = _get(b, "status", str, where)
    if status not in STATUSES:
        raise FormatError(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    return Booking(request=request, slots=slots, status=status)


def _policy(p: Any) -> Policy:
    if not isinstance(p, Mapping):
        raise FormatError("'policy' must be an object")
    cap = _get(p, "max_sessions_per_day", int, "policy", optional=True)
    if cap is not None and cap < 1:
        raise FormatError("policy.max_sessions_per_day must be at least 1")
    freeze = p.get("freeze_until")
    target = _get(p, "target_utilization", (int, float), "policy", optional=True)
    return Policy(
        max_sessions_per_day=cap,
        same_day_same_base=bool(p.get("same_day_same_base", False)),
        freeze_until=None if freeze is None else _instant(freeze, "policy.freeze_until"),
        target_utilization=1.0 if target is None else float(target),
    )


# ---------------------------------------------------------------------------- plan


def load_plan(source: Source) -> Plan:
    """Parse a ``livehub-plan/1`` document. Ids are checked against an instance by validate.py."""
    doc = _document(source)
    if doc.get("format") != PLAN_FORMAT:
        raise FormatError(f"format is {doc.get('format')!r}, expected {PLAN_FORMAT!r}")
    assignments = []
    for i, a in enumerate(_list(doc, "assignments")):
        where = f"assignments[{i}]"
        request = _get(a, "request", str, where)
        slots = _str_list(_get(a, "slots", list, f"{where} ({request})"), f"{where}.slots")
        assignments.append(Assignment(request=request, slots=slots))
    unassigned = []
    for i, u in enumerate(doc.get("unassigned") or []):
        where = f"unassigned[{i}]"
        unassigned.append(
            Unassigned(
                request=_get(u, "request", str, where),
                missing=_get(u, "missing", int, where, optional=True) or 0,
                reason=_get(u, "reason", str, where, optional=True) or "",
            )
        )
    stats = doc.get("stats") or {}
    if not isinstance(stats, Mapping):
        raise FormatError("'stats' must be an object")
    return Plan(
        instance=str(doc.get("instance") or ""),
        assignments=tuple(assignments),
        unassigned=tuple(unassigned),
        stats=dict(stats),
    )


# ---------------------------------------------------------------------------- writing


def _iso(instant: datetime, tz: Any) -> str:
    return instant.astimezone(tz).isoformat()


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def dump_instance(inst: Instance) -> dict[str, Any]:
    """The instance as a ``livehub-instance/1`` document, times in the instance's zone."""
    tz = inst.tz
    policy: dict[str, Any] = {}
    if inst.policy.max_sessions_per_day is not None:
        policy["max_sessions_per_day"] = inst.policy.max_sessions_per_day
    policy["same_day_same_base"] = inst.policy.same_day_same_base
    if inst.policy.freeze_until is not None:
        policy["freeze_until"] = _iso(inst.policy.freeze_until, tz)
    policy["target_utilization"] = inst.policy.target_utilization
    return {
        "format": INSTANCE_FORMAT,
        "name": inst.name,
        "timezone": inst.timezone,
        "horizon": {"start": inst.horizon_start.isoformat(), "days": inst.horizon_days},
        "bases": [
            {
                "id": b.id,
                "name": b.name,
                "city": b.city,
                "province": b.province,
                "region": b.region,
                "lat": b.lat,
                "lon": b.lon,
                "studios": [{"id": s.id, "features": sorted(s.features)} for s in b.studios],
            }
            for b in inst.bases
        ],
        "slots": [
            {
                "id": s.id,
                "studio": s.studio,
                "start": _iso(s.start, tz),
                "end": _iso(s.end, tz),
                "prime": s.prime,
            }
            for s in inst.slots
        ],
        "participants": [
            {
                "id": p.id,
                "name": p.name,
                "kind": p.kind,
                "province": p.province,
                "region": p.region,
                "lat": p.lat,
                "lon": p.lon,
                "priority": p.priority,
            }
            for p in inst.participants
        ],
        "requests": [
            {
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
            for r in inst.requests
        ],
        "bookings": [
            {"request": b.request, "slots": list(b.slots), "status": b.status}
            for b in inst.bookings
        ],
        "policy": policy,
    }


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


def write_json(doc: Any, path: str | os.PathLike) -> None:
    """Write a document atomically (a half-written plan must never be read by anyone)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, target)
