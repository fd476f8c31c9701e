"""Documents into domain objects: ``load_instance`` and ``load_plan``, checking structure, types
and references (whether the bookings obey the hard rules is ``validate.py``'s question)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.domain import (
    CATEGORY_SEPARATIONS,
    INSTANCE_FORMAT,
    KINDS,
    PLAN_FORMAT,
    REGIONS,
    STATUSES,
    Assignment,
    Base,
    Booking,
    Harvest,
    Instance,
    Participant,
    Plan,
    Policy,
    Request,
    Slot,
    Studio,
    Unassigned,
)
from scheduler.heap import collector_paused
from scheduler.io.fields import (
    FormatError,
    Source,
    document,
    get,
    instant,
    list_of,
    parse_time,
    str_list,
    unique,
)

# ---------------------------------------------------------------------------- instance


def load_instance(source: Source) -> Instance:
    """Parse a ``livehub-instance/1`` document (a path or an already-parsed dict)."""
    with collector_paused():
        return _instance(document(source))


def _instance(doc: Mapping[str, Any]) -> Instance:
    if doc.get("format") != INSTANCE_FORMAT:
        raise FormatError(f"format is {doc.get('format')!r}, expected {INSTANCE_FORMAT!r}")
    name = get(doc, "name", str, "instance")
    tz_name = get(doc, "timezone", str, "instance")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FormatError(f"unknown timezone {tz_name!r}") from None
    horizon = get(doc, "horizon", dict, "instance")
    try:
        horizon_start = date.fromisoformat(get(horizon, "start", str, "horizon"))
    except ValueError:
        raise FormatError(f"horizon.start {horizon['start']!r} is not a date") from None
    horizon_days = get(horizon, "days", int, "horizon")
    if horizon_days < 1:
        raise FormatError("horizon.days must be at least 1")

    bases = tuple(_base(b, f"bases[{i}]") for i, b in enumerate(list_of(doc, "bases")))
    unique((b.id for b in bases), "base")
    unique((s.id for b in bases for s in b.studios), "studio")
    studio_ids = {s.id for b in bases for s in b.studios}
    base_ids = {b.id for b in bases}

    slots = tuple(_slot(s, f"slots[{i}]", studio_ids) for i, s in enumerate(list_of(doc, "slots")))
    unique((s.id for s in slots), "slot")
    slot_ids = {s.id for s in slots}

    participants = tuple(
        _participant(p, f"participants[{i}]") for i, p in enumerate(list_of(doc, "participants"))
    )
    unique((p.id for p in participants), "participant")
    participant_ids = {p.id for p in participants}

    requests = tuple(
        _request(r, f"requests[{i}]", participant_ids, base_ids)
        for i, r in enumerate(list_of(doc, "requests"))
    )
    unique((r.id for r in requests), "request")
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
    bid = get(b, "id", str, where)
    where = f"{where} ({bid})"
    region = get(b, "region", str, where)
    if region not in REGIONS:
        raise FormatError(f"{where}: region {region!r} is not one of {', '.join(REGIONS)}")
    studios = []
    for j, s in enumerate(get(b, "studios", list, where)):
        sw = f"{where}.studios[{j}]"
        studios.append(
            Studio(
                id=get(s, "id", str, sw),
                base=bid,
                features=frozenset(str_list(s.get("features", []), f"{sw}.features")),
            )
        )
    return Base(
        id=bid,
        name=get(b, "name", str, where),
        city=get(b, "city", str, where, optional=True) or "",
        province=get(b, "province", str, where, optional=True) or "",
        region=region,
        lat=float(get(b, "lat", (int, float), where)),
        lon=float(get(b, "lon", (int, float), where)),
        studios=tuple(studios),
    )


def _slot(s: Any, where: str, studio_ids: set[str]) -> Slot:
    # A week has tens of thousands of slots: a well-formed one is read in one go, and only a slot
    # that fails some check goes through the field-by-field reading that names what is wrong.
    if type(s) is dict:
        sid, studio, start, end = s.get("id"), s.get("studio"), s.get("start"), s.get("end")
        if (
            type(sid) is str
            and type(studio) is str
            and studio in studio_ids
            and type(start) is str
            and type(end) is str
        ):
            try:
                t0, t1 = parse_time(start), parse_time(end)
            except ValueError:
                pass
            else:
                if t0.tzinfo is not None and t1.tzinfo is not None and t0 < t1:
                    return Slot(sid, studio, t0, t1, prime=bool(s.get("prime", False)))
    sid = get(s, "id", str, where)
    where = f"{where} ({sid})"
    studio = get(s, "studio", str, where)
    if studio not in studio_ids:
        raise FormatError(f"{where}: unknown studio {studio!r}")
    start = instant(get(s, "start", str, where), f"{where}.start")
    end = instant(get(s, "end", str, where), f"{where}.end")
    if end <= start:
        raise FormatError(f"{where}: end {s['end']} is not after start {s['start']}")
    return Slot(id=sid, studio=studio, start=start, end=end, prime=bool(s.get("prime", False)))


def _participant(p: Any, where: str) -> Participant:
    pid = get(p, "id", str, where)
    where = f"{where} ({pid})"
    kind = get(p, "kind", str, where)
    if kind not in KINDS:
        raise FormatError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    region = get(p, "region", str, where)
    if region not in REGIONS:
        raise FormatError(f"{where}: region {region!r} is not one of {', '.join(REGIONS)}")
    priority = get(p, "priority", int, where)
    if priority not in (1, 2, 3):
        raise FormatError(f"{where}: priority must be 1, 2 or 3, got {priority}")
    category = get(p, "category", str, where, optional=True)
    if category is not None and not category.strip():
        raise FormatError(f"{where}: 'category' must not be empty (leave it out when not known)")
    prime_recent = get(p, "prime_recent", int, where, optional=True)
    if prime_recent is not None and prime_recent < 0:
        raise FormatError(f"{where}: 'prime_recent' must not be negative, got {prime_recent}")
    return Participant(
        id=pid,
        name=get(p, "name", str, where),
        kind=kind,
        province=get(p, "province", str, where, optional=True) or "",
        region=region,
        lat=float(get(p, "lat", (int, float), where)),
        lon=float(get(p, "lon", (int, float), where)),
        priority=priority,
        category=category,
        prime_recent=prime_recent,
    )


def _request(r: Any, where: str, participant_ids: set[str], base_ids: set[str]) -> Request:
    rid = get(r, "id", str, where)
    where = f"{where} ({rid})"
    participant = get(r, "participant", str, where)
    if participant not in participant_ids:
        raise FormatError(f"{where}: unknown participant {participant!r}")
    sessions = get(r, "sessions", int, where)
    length = get(r, "length", int, where)
    if sessions < 1 or length < 1:
        raise FormatError(f"{where}: sessions and length must be at least 1")
    window = get(r, "window", dict, where)
    w0 = instant(window.get("start"), f"{where}.window.start")
    w1 = instant(window.get("end"), f"{where}.window.end")
    if w1 <= w0:
        raise FormatError(f"{where}: window ends before it starts")
    bases = r.get("bases")
    if bases is not None:
        bases = str_list(bases, f"{where}.bases")
        unknown = [b for b in bases if b not in base_ids]
        if unknown:
            raise FormatError(f"{where}: unknown base(s) {', '.join(unknown)} in 'bases'")
    max_km = get(r, "max_km", (int, float), where, optional=True)
    if max_km is not None and max_km < 0:
        raise FormatError(f"{where}: max_km must not be negative")
    prefer = r.get("prefer") or {}
    if not isinstance(prefer, Mapping):
        raise FormatError(f"{where}: 'prefer' must be an object")
    prefer_bases = str_list(prefer.get("bases") or [], f"{where}.prefer.bases")
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
        needs=frozenset(str_list(r.get("needs") or [], f"{where}.needs")),
        prefer_bases=prefer_bases,
        prefer_prime=bool(prefer.get("prime", False)),
        harvest=_harvest(r, where),
    )


def _harvest(r: Mapping[str, Any], where: str) -> Harvest | None:
    lot = get(r, "harvest", dict, where, optional=True)
    if lot is None:
        return None
    ready = instant(lot.get("ready"), f"{where}.harvest.ready")
    best_before = instant(lot.get("best_before"), f"{where}.harvest.best_before")
    if best_before <= ready:
        raise FormatError(f"{where}: harvest.best_before is not after harvest.ready")
    return Harvest(ready=ready, best_before=best_before)


def _booking(b: Any, where: str, request_ids: set[str], slot_ids: set[str]) -> Booking:
    request = get(b, "request", str, where)
    where = f"{where} ({request})"
    if request not in request_ids:
        raise FormatError(f"{where}: unknown request {request!r}")
    slots = str_list(get(b, "slots", list, where), f"{where}.slots")
    if not slots:
        raise FormatError(f"{where}: holds no slot")
    unknown = [s for s in slots if s not in slot_ids]
    if unknown:
        raise FormatError(f"{where}: unknown slot(s) {', '.join(unknown)}")
    status = get(b, "status", str, where)
    if status not in STATUSES:
        raise FormatError(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    return Booking(request=request, slots=slots, status=status)


def _policy(p: Any) -> Policy:
    if not isinstance(p, Mapping):
        raise FormatError("'policy' must be an object")
    cap = get(p, "max_sessions_per_day", int, "policy", optional=True)
    if cap is not None and cap < 1:
        raise FormatError("policy.max_sessions_per_day must be at least 1")
    freeze = p.get("freeze_until")
    target = get(p, "target_utilization", (int, float), "policy", optional=True)
    separation = get(p, "category_separation", str, "policy", optional=True)
    if separation is not None and separation not in CATEGORY_SEPARATIONS:
        allowed = ", ".join(repr(s) for s in CATEGORY_SEPARATIONS)
        raise FormatError(
            f"policy.category_separation {separation!r} is not {allowed} (or null for none)"
        )
    return Policy(
        max_sessions_per_day=cap,
        same_day_same_base=bool(p.get("same_day_same_base", False)),
        freeze_until=None if freeze is None else instant(freeze, "policy.freeze_until"),
        target_utilization=1.0 if target is None else float(target),
        category_separation=separation,
    )


# ---------------------------------------------------------------------------- plan


def load_plan(source: Source) -> Plan:
    """Parse a ``livehub-plan/1`` document. Ids are checked against an instance by validate.py."""
    doc = document(source)
    if doc.get("format") != PLAN_FORMAT:
        raise FormatError(f"format is {doc.get('format')!r}, expected {PLAN_FORMAT!r}")
    assignments = []
    for i, a in enumerate(list_of(doc, "assignments")):
        where = f"assignments[{i}]"
        request = get(a, "request", str, where)
        slots = str_list(get(a, "slots", list, f"{where} ({request})"), f"{where}.slots")
        assignments.append(Assignment(request=request, slots=slots))
    unassigned = []
    for i, u in enumerate(doc.get("unassigned") or []):
        where = f"unassigned[{i}]"
        unassigned.append(
            Unassigned(
                request=get(u, "request", str, where),
                missing=get(u, "missing", int, where, optional=True) or 0,
                reason=get(u, "reason", str, where, optional=True) or "",
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
