"""A week in parts that share little: split it, solve the parts apart (on many workers), merge.

A week of the whole programme (1,100 bases, 30,000 requests) is solved in four steps, the middle
one spread over the job queue's workers:

1. ``prepare``: the warm start (greedy, then greedy in better orders: ``construct.best_start``)
   and the split (:func:`split`). Bases are cut into ``k`` compact groups of about equal slots
   (recursive bisection on longitude / latitude); each participant goes to the part where most
   of its start's sessions are, else to the part of its nearest eligible base.
2. ``solve_part`` (one job per part): the large-neighbourhood search of ``lns.py`` from the
   start, with ``Search.scope`` = the part's bases and ``Search.movable`` = its participants'
   requests, then the level-4 pass (``polish.py``) over the same. Only those sessions move,
   only to those bases; everything else is held as it is.
3. ``merge``: every participant's sessions come from its own part's answer (from the start when
   its part failed or it has none). That is always a valid plan: two parts never touch the same
   base (rules 2 and 9 are per slot and per base) nor the same participant (rules 3-8, 10 are
   per request or per participant), and what a part holds still was checked against what it
   moved. The merge is validated all the same, and falls back to the start if a rule broke.
4. the seam: ``solve.solve(previous=merged, start_orders=False)`` over the whole week for the
   rest of the time: areas around the requests still short cross the parts' borders, and the
   level-4 pass (``polish.py``) runs over every base.

So with one worker the parts run one after another on one machine; with N workers on N hosts
(one Redis, one PostgreSQL) they run side by side and the wall time of step 2 falls by about N.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scheduler.candidates import eligibility
from scheduler.domain import Assignment, Base, Instance, Plan, haversine_km

#: Shares of a parted solve's time: the warm start and split, the parts, the seam.
PREPARE_SHARE = 0.15
PARTS_SHARE = 0.55
SEAM_SHARE = 0.30
#: Format name of the split document and of a part's answer.
SPLIT_FORMAT = "chunlei-split/1"
PART_FORMAT = "chunlei-part/1"


@dataclass(frozen=True)
class Part:
    """One part of a week: the bases it may change and the participants whose sessions move."""

    index: int
    bases: frozenset[str]
    participants: frozenset[str]


def part_seconds(time_limit_s: float, parts: int, workers: int) -> float:
    """Each part's time, so that ``parts`` parts on ``workers`` workers take ``PARTS_SHARE``."""
    rounds = math.ceil(parts / max(1, min(workers, parts)))
    return PARTS_SHARE * time_limit_s / rounds


# ---------------------------------------------------------------------------- the split


def split_bases(inst: Instance, k: int) -> list[list[str]]:
    """The bases in ``k`` compact groups of about equal slots (recursive coordinate bisection:
    each cut along the longer side, longitude scaled by the cosine of the latitude)."""
    slots = inst.slot_count_by_base
    groups: list[list[str]] = []

    def cut(bases: list[Base], k: int) -> None:
        if k <= 1 or len(bases) <= 1:
            groups.append(sorted(b.id for b in bases))
            return
        lat0 = sum(b.lat for b in bases) / len(bases)
        lats, lons = [b.lat for b in bases], [b.lon for b in bases]
        wide = (max(lons) - min(lons)) * math.cos(math.radians(lat0)) >= max(lats) - min(lats)
        order = sorted(bases, key=lambda b: ((b.lon if wide else b.lat), b.id))
        left_k = k // 2
        target = sum(slots.get(b.id, 0) for b in order) * left_k / k
        acc, at = 0, 0
        for at, b in enumerate(order):  # noqa: B007 - ``at`` is used after the loop
            if acc + slots.get(b.id, 0) / 2 > target and at > 0:
                break
            acc += slots.get(b.id, 0)
        else:
            at = len(order) - 1
        at = min(max(at, 1), len(order) - 1)
        cut(order[:at], left_k)
        cut(order[at:], k - left_k)

    cut(list(inst.bases), max(1, min(k, len(inst.bases))))
    return [g for g in groups if g]


def split(
    inst: Instance,
    start: Plan,
    k: int,
    eligible: Sequence[Sequence[str]] | None = None,
) -> list[Part]:
    """``k`` parts of the week around the ``start`` plan (see the module's docstring)."""
    eligible = eligible if eligible is not None else eligibility(inst)
    groups = split_bases(inst, k)
    part_of = {b: i for i, g in enumerate(groups) for b in g}
    base_of_slot = {s.id: inst.base_of_slot(s.id) for s in inst.slots}
    where: dict[str, Counter[int]] = defaultdict(Counter)
    for a in start.assignments:
        who = inst.participant_by_id[inst.request_by_id[a.request].participant].id
        where[who][part_of[base_of_slot[a.slots[0]]]] += 1
    reach: dict[str, set[str]] = defaultdict(set)
    for r, bases in zip(inst.requests, eligible, strict=True):
        reach[r.participant].update(bases)
    base_by_id = {b.id: b for b in inst.bases}
    members: list[set[str]] = [set() for _ in groups]
    for p in inst.participants:
        if where[p.id]:
            best = max(where[p.id].items(), key=lambda kv: (kv[1], -kv[0]))[0]
        elif reach[p.id]:
            near = min(
                reach[p.id],
                key=lambda b: (haversine_km(p.lat, p.lon, base_by_id[b].lat, base_by_id[b].lon), b),
            )
            best = part_of[near]
        else:
            continue  # nothing it may use: no part can serve it
        members[best].add(p.id)
    return [
        Part(i, frozenset(g), frozenset(m))
        for i, (g, m) in enumerate(zip(groups, members, strict=True))
    ]


# ---------------------------------------------------------------------------- one part


def solve_part(
    inst: Instance,
    start: Plan,
    part: Part,
    *,
    time_limit_s: float,
    workers: int,
    seed: int | None = None,
    eligible: Sequence[Sequence[str]] | None = None,
) -> list[Assignment]:
    """The part's participants' sessions (kept bookings included) after searching the part for
    ``time_limit_s`` seconds from ``start``; nothing else of the week changes."""
    from scheduler.lns import Search, run  # OR-Tools is loaded here only
    from scheduler.polish import polish
    from scheduler.solve import POLISH_SHARE, STAGE1_SHARE, new_sessions

    t0 = time.monotonic()
    eligible = eligible if eligible is not None else eligibility(inst)
    mine = frozenset(r.id for r in inst.requests if r.participant in part.participants)
    scoped = [
        [b for b in bases if b in part.bases] if r.id in mine else []
        for r, bases in zip(inst.requests, eligible, strict=True)
    ]
    search = Search(
        inst,
        new_sessions(inst, start),
        workers,
        random.Random(seed),
        eligible=scoped,
        scope=part.bases,
        movable=mine,
    )
    deadline = t0 + time_limit_s
    run(search, deadline - POLISH_SHARE * time_limit_s, STAGE1_SHARE)
    # The level-4 pass over the part: its participants' sessions at its bases only.
    kept = [Assignment(b.request, b.slots) for b in search.kept]
    sessions = polish(inst, kept + search.sessions, deadline, movers=mine, bases=part.bases)
    return [a for a in sessions if a.request in mine]


# ---------------------------------------------------------------------------- the merge


def merge(
    inst: Instance,
    start: Plan,
    parts: Sequence[Part],
    answers: Mapping[int, Iterable[Assignment]],
) -> list[Assignment]:
    """Every participant's sessions from its part's answer, or from ``start`` where its part
    has no answer (failed, or never run)."""
    owner = {p: part.index for part in parts for p in part.participants}
    answered = set(answers)
    who = {r.id: r.participant for r in inst.requests}
    out = [a for a in start.assignments if owner.get(who[a.request]) not in answered]
    for i, sessions in answers.items():
        part = parts[i]
        out.extend(a for a in sessions if who[a.request] in part.participants)
    return out


# ---------------------------------------------------------------------------- documents


def split_doc(
    inst: Instance, start: Plan, parts: Sequence[Part], stats: Mapping[str, Any]
) -> dict[str, Any]:
    """The split as one JSON document: the start's sessions and each part's bases and members."""
    return {
        "format": SPLIT_FORMAT,
        "instance": inst.name,
        "start": [{"request": a.request, "slots": list(a.slots)} for a in start.assignments],
        "parts": [
            {"bases": sorted(p.bases), "participants": sorted(p.participants)} for p in parts
        ],
        "stats": dict(stats),
    }


def read_split(doc: Mapping[str, Any], inst: Instance) -> tuple[Plan, list[Part]]:
    """The start plan and the parts of a split document; ValueError when it does not fit."""
    _same_week(doc, inst, SPLIT_FORMAT, "a split document", "the split")
    start = Plan(inst.name, tuple(_assignments(doc.get("start"), inst)))
    raw = doc.get("parts")
    if not isinstance(raw, list):
        raise ValueError("the split has no list of parts")
    parts = []
    for i, p in enumerate(raw):
        bases = frozenset(_strings(p.get("bases") if isinstance(p, dict) else None, "bases"))
        members = frozenset(_strings(p.get("participants"), "participants"))
        unknown = bases - {b.id for b in inst.bases}
        if unknown:
            raise ValueError(f"part {i} names unknown bases: {sorted(unknown)[:3]}")
        parts.append(Part(i, bases, members))
    return start, parts


def part_doc(
    inst: Instance, part: Part, sessions: Sequence[Assignment], stats: Mapping[str, Any]
) -> dict[str, Any]:
    """One part's answer: its participants' sessions."""
    return {
        "format": PART_FORMAT,
        "instance": inst.name,
        "part": part.index,
        "assignments": [{"request": a.request, "slots": list(a.slots)} for a in sessions],
        "stats": dict(stats),
    }


def read_part(doc: Mapping[str, Any], inst: Instance) -> tuple[int, list[Assignment]]:
    """The part's index and sessions of a part's answer; ValueError when it does not fit."""
    _same_week(doc, inst, PART_FORMAT, "a part's answer", "the answer")
    index = doc.get("part")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError("the answer names no part")
    return index, _assignments(doc.get("assignments"), inst)


def _same_week(doc: Mapping[str, Any], inst: Instance, fmt: str, kind: str, it: str) -> None:
    if doc.get("format") != fmt:
        raise ValueError(f"not {kind} (format {doc.get('format')!r})")
    if doc.get("instance") != inst.name:
        raise ValueError(f"{it} is of week {doc.get('instance')!r}, not {inst.name!r}")


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValueError(f"a part's {what} must be a list of ids")
    return value


def _assignments(value: Any, inst: Instance) -> list[Assignment]:
    if not isinstance(value, list):
        raise ValueError("sessions must be a list")
    out = []
    for a in value:
        if not isinstance(a, dict):
            raise ValueError("a session must be an object")
        request, slots = a.get("request"), a.get("slots")
        if request not in inst.request_by_id:
            raise ValueError(f"unknown request {request!r}")
        if not isinstance(slots, list) or not slots or any(s not in inst.slot_by_id for s in slots):
            raise ValueError(f"session of {request}: unknown or no slots")
        out.append(Assignment(request, tuple(slots)))
    return out
