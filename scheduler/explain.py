"""Why a request got what it got: the binding reason for each session it was denied, 中文 and English.

``explain(instance, plan)`` looks at every request the plan leaves short and returns one
:class:`Explanation` per request with one :class:`Reason` per denied session. Reasons come in two
kinds:

* **Static** — no run of ``length`` consecutive slots could ever serve it. The binding reason is
  the one constraint whose relaxation alone would open a run, tried in the order harvest lot
  (past its best-before, or no run inside its dates), frozen horizon, window, features, distance,
  allowed bases; if no single one does, the first filter (allowed bases → distance → features →
  window → harvest lot → frozen horizon) that leaves nothing.
* **Dynamic** — eligible runs exist, but in this plan: a free run the plan did not use (for as
  many sessions as the free runs can still hold), then the participant's own rules (daily cap,
  same day same base, overlap with its own sessions) and category separation (a same-category
  session of someone else at that base then) when they block free slots, else every
  eligible slot is taken — by kept bookings, or by other sessions (counted by their priority).

The codes are stable (the web app keys its own texts on them); ``zh`` and ``en`` are ready to show.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from scheduler.domain import Instance, Plan, Request, Slot, day_refusal
from scheduler.greedy import Calendar
from scheduler.placement import allowed_base
from scheduler.validate import KM_TOLERANCE, sessions_of

#: Consecutive slots of one studio, in order.
Run = tuple[Slot, ...]
#: Who holds each used slot: slot id -> (request, whether it is an input booking kept as it is).
Owners = dict[str, tuple[str, bool]]

#: Reason codes, in the order a reader meets them.
CODES = (
    "not_allowed_base",
    "too_far",
    "features_missing",
    "no_studio_in_window",
    "frozen",
    "harvest_past",
    "harvest_window",
    "free_run_unused",
    "daily_cap",
    "same_day_same_base",
    "own_overlap",
    "category_clash",
    "taken_by_bookings",
    "slots_taken",
)


#: The codes of static reasons: they read every base's slots, never the plan.
STATIC = frozenset(CODES[:7])


@dataclass(frozen=True)
class Reason:
    """Why one session was denied: a stable code, the sentence in Chinese and English, and the
    figures the sentence names (``run``: the free slots' ids; ``base``/``km``: the nearest base;
    ``higher``/``same``/``lower``: the sessions in the way by priority), for readers that word
    it their own way."""

    code: str
    zh: str
    en: str
    detail: tuple[tuple[str, str], ...] = ()

    @property
    def info(self) -> dict[str, str]:
        """``detail`` as a dictionary."""
        return dict(self.detail)


@dataclass(frozen=True)
class Explanation:
    """One request: what it asked, what it got, and a reason per denied session."""

    request: str
    participant: str
    asked: int
    served: int
    denials: tuple[Reason, ...]

    @property
    def missing(self) -> int:
        return self.asked - self.served


def explain(inst: Instance, plan: Plan, requests: Iterable[str] | None = None) -> list[Explanation]:
    """Explanations for the requests ``plan`` leaves short, or for the given request ids (served
    in full ones included, with no denial). Assumes ``plan`` is valid for ``inst``."""
    sessions = sessions_of(inst, plan)
    served = Counter(s.request for s in sessions)
    cal = Calendar(inst)
    owner: Owners = {}
    booked = {(b.request, b.slots) for b in inst.bookings}
    for s in sessions:
        cal.take(inst.request_by_id[s.request], s.slots)
        for slot in s.slots:
            owner[slot.id] = (s.request, s.key in booked)
    if requests is None:
        chosen = [r for r in inst.requests if served[r.id] < r.sessions]
    else:
        chosen = [inst.request_by_id[rid] for rid in requests]
    out = []
    for r in chosen:
        missing = max(0, r.sessions - served[r.id])
        denials = _denials(inst, cal, owner, r, missing) if missing else ()
        out.append(Explanation(r.id, r.participant, r.sessions, served[r.id], denials))
    return out


def reachable(inst: Instance, r: Request) -> list[str]:
    """The bases rule 5 lets the request reach, features aside: its allowed list and max_km."""
    return [b.id for b in inst.bases if _passes(inst, r, b.id, allowed=True, near=True)]


def neighbourhood(inst: Instance, request_id: str) -> Instance:
    """The part of the week that explaining one request reads, when some run is open to it (no
    static reason): every base, the slots of the bases it may reach and of its participant's
    sessions, the bookings there and its participant's own, and their requests and
    participants. Its dynamic reasons are the whole week's: the runs it may use, who holds
    them, its participant's daily cap, day's base and sessions, and the sessions at those bases
    that category separation reads are all in it. Its static reasons are not (they relax the
    filters to every base): explain those on the whole week."""
    r = inst.request_by_id[request_id]
    near = set(reachable(inst, r))
    mine = {q.id for q in inst.requests if q.participant == r.participant}
    bookings = tuple(
        b for b in inst.bookings if b.request in mine or inst.base_of_slot(b.slots[0]) in near
    )
    held = {s for b in bookings for s in b.slots}
    requests = {b.request for b in bookings} | {r.id}
    people = {inst.request_by_id[q].participant for q in requests}
    return replace(
        inst,
        slots=tuple(s for s in inst.slots if s.id in held or inst.base_of_slot(s.id) in near),
        participants=tuple(p for p in inst.participants if p.id in people),
        requests=tuple(q for q in inst.requests if q.id in requests),
        bookings=bookings,
    )


def _passes(inst: Instance, r: Request, base: str, *, allowed: bool, near: bool) -> bool:
    """Rule 5's allowed list and max_km, each only when asked for."""
    if allowed and not allowed_base(r, base):
        return False
    return not (
        near
        and r.max_km is not None
        and inst.distance_km(r.participant, base) > r.max_km + KM_TOLERANCE
    )


# ---------------------------------------------------------------------------- static reasons


def _runs(inst: Instance, studio: str, length: int, lo: datetime, hi: datetime) -> Iterator[Run]:
    """Runs of ``length`` consecutive slots of ``studio`` starting at or after ``lo`` and ending
    by ``hi``, in time order."""
    slots = inst.slots_by_studio[studio]
    first = bisect_left(slots, lo, key=lambda s: s.start)
    for i in range(first, len(slots) - length + 1):
        run = slots[i : i + length]
        if run[-1].end > hi:
            return
        if all(x.end == y.start for x, y in zip(run, run[1:], strict=False)):
            yield run


def _studios(
    inst: Instance, r: Request, *, allowed: bool = True, near: bool = True, features: bool = True
) -> list[str]:
    """Studios passing the chosen filters of rule 5 (allowed base, ``max_km``, features)."""
    out = []
    for base in inst.bases:
        if _passes(inst, r, base.id, allowed=allowed, near=near):
            out += [s.id for s in base.studios if not features or r.needs <= s.features]
    return out


def _has_run(
    inst: Instance,
    r: Request,
    studios: list[str],
    *,
    window: bool = True,
    frozen: bool = True,
    harvest: bool = True,
) -> bool:
    """Whether one of ``studios`` has a run of the request's length, inside its window (or
    anywhere), not before ``freeze_until`` (or also before) and inside its harvest lot (or not)."""
    freeze = inst.policy.freeze_until
    for sid in studios:
        slots = inst.slots_by_studio[sid]
        if not slots:
            continue
        lo, hi = (r.window_start, r.window_end) if window else (slots[0].start, slots[-1].end)
        if frozen and freeze is not None:
            lo = max(lo, freeze)
        if harvest and r.harvest is not None:
            lo, hi = max(lo, r.harvest.ready), min(hi, r.harvest.best_before)
        if next(_runs(inst, sid, r.length, lo, hi), None) is not None:
            return True
    return False


def _static_reason(inst: Instance, r: Request) -> Reason | None:
    """The binding static reason, or None when some eligible run exists."""
    if _has_run(inst, r, _studios(inst, r)):
        return None
    relaxations: tuple[tuple[str, Callable[[], bool]], ...] = (
        ("harvest_window", lambda: _has_run(inst, r, _studios(inst, r), harvest=False)),
        ("frozen", lambda: _has_run(inst, r, _studios(inst, r), frozen=False)),
        ("no_studio_in_window", lambda: _has_run(inst, r, _studios(inst, r), window=False)),
        ("features_missing", lambda: _has_run(inst, r, _studios(inst, r, features=False))),
        ("too_far", lambda: _has_run(inst, r, _studios(inst, r, near=False))),
        ("not_allowed_base", lambda: _has_run(inst, r, _studios(inst, r, allowed=False))),
    )
    for code, opens in relaxations:
        if opens():
            return _text(inst, r, _harvest_code(inst, r) if code == "harvest_window" else code)
    # Two or more constraints bind together: name the first filter that leaves nothing.
    if not _studios(inst, r, near=False, features=False):
        return _text(inst, r, "not_allowed_base")
    if not _studios(inst, r, features=False):
        return _text(inst, r, "too_far")
    if not _studios(inst, r):
        return _text(inst, r, "features_missing")
    if not _has_run(inst, r, _studios(inst, r), frozen=False, harvest=False):
        return _text(inst, r, "no_studio_in_window")
    if r.harvest is not None and not _has_run(inst, r, _studios(inst, r), frozen=False):
        return _text(inst, r, _harvest_code(inst, r))
    return _text(inst, r, "frozen")


def _harvest_code(inst: Instance, r: Request) -> str:
    """``harvest_past`` when the lot's best-before comes before anything new may start (the
    freeze, or the window's start), else ``harvest_window``."""
    assert r.harvest is not None
    first = r.window_start
    if inst.policy.freeze_until is not None:
        first = max(first, inst.policy.freeze_until)
    return "harvest_past" if r.harvest.best_before <= first else "harvest_window"


# ---------------------------------------------------------------------------- dynamic reasons


def _denials(
    inst: Instance, cal: Calendar, owner: Owners, r: Request, missing: int
) -> tuple[Reason, ...]:
    static = _static_reason(inst, r)
    if static is not None:
        return (static,) * missing
    freeze = inst.policy.freeze_until
    lo = r.window_start if freeze is None else max(r.window_start, freeze)
    hi = r.window_end
    if r.harvest is not None:
        lo, hi = max(lo, r.harvest.ready), min(hi, r.harvest.best_before)
    runs = [
        (inst.studio_by_id[sid].base, run)
        for sid in _studios(inst, r)
        for run in _runs(inst, sid, r.length, lo, hi)
    ]
    out: list[Reason] = []
    # Free runs first: place what still fits, on a scratch copy of the calendar.
    scratch = cal.copy()
    for base, run in runs:
        if len(out) == missing:
            break
        if any(s.id in scratch.used for s in run) or _participant_rule(scratch, r, base, run):
            continue
        scratch.take(r, run)
        out.append(_text(inst, r, "free_run_unused", run=", ".join(s.id for s in run)))
    if len(out) < missing:
        out += [_blocked_reason(inst, scratch, owner, r, runs)] * (missing - len(out))
    return tuple(out)


def _blocked_reason(
    inst: Instance, cal: Calendar, owner: Owners, r: Request, runs: list[tuple[str, Run]]
) -> Reason:
    """No free run is usable (``cal`` holds the plan plus the free runs just counted): a
    participant rule if it blocks free slots, else who holds them."""
    rules: Counter[str] = Counter()
    all_by_bookings = True
    blockers: set[str] = set()
    any_taken = False
    for base, run in runs:
        if any(s.id in cal.used and s.id not in owner for s in run):
            continue  # one of the free runs counted above
        taken = [owner[s.id] for s in run if s.id in cal.used]
        if taken:
            any_taken = True
            blockers |= {rid for rid, is_booking in taken if not is_booking}
            all_by_bookings &= any(is_booking for _, is_booking in taken)
        elif rule := _participant_rule(cal, r, base, run):
            rules[rule] += 1
    if rules:
        return _text(inst, r, rules.most_common(1)[0][0])
    if not any_taken:  # the window holds fewer runs than sessions asked
        return _text(inst, r, "no_studio_in_window")
    if all_by_bookings:
        return _text(inst, r, "taken_by_bookings")
    mine = inst.participant_by_id[r.participant].priority
    prio = Counter(
        inst.participant_by_id[inst.request_by_id[b].participant].priority for b in blockers
    )
    return _text(
        inst,
        r,
        "slots_taken",
        higher=sum(n for p, n in prio.items() if p > mine),
        same=prio[mine],
        lower=sum(n for p, n in prio.items() if p < mine),
    )


def _participant_rule(cal: Calendar, r: Request, base: str, run: Run) -> str | None:
    """Which of the participant's own rules forbids ``run`` (None: none does)."""
    pid, day = r.participant, cal.day_of_slot[run[0].id]
    held = cal.base_of_day.get((pid, day))
    refusal = day_refusal(
        cal.inst.policy, cal.per_day[pid, day], () if held is None else (held,), base
    )
    if refusal is not None:
        return refusal
    start, end = run[0].start, run[-1].end
    if not cal.free_of_own_sessions(pid, start, end):
        return "own_overlap"
    if not cal.category_free(pid, base, start, end):
        return "category_clash"
    return None


# ---------------------------------------------------------------------------- texts


def _text(inst: Instance, r: Request, code: str, **extra: object) -> Reason:
    def hm(t: datetime) -> str:
        return t.astimezone(inst.tz).strftime("%m-%d %H:%M")

    needs = ", ".join(sorted(r.needs)) or "-"
    w = f"{hm(r.window_start)} – {hm(r.window_end)}"
    freeze = hm(inst.policy.freeze_until) if inst.policy.freeze_until else "-"
    allowed = ", ".join(r.bases) if r.bases is not None else "-"
    if code == "too_far":
        extra |= _nearest(inst, r)
    lot = r.harvest
    ready = hm(lot.ready) if lot else "-"
    best_before = hm(lot.best_before) if lot else "-"
    category = inst.participant_by_id[r.participant].category or "-"
    texts = {
        "not_allowed_base": (
            f"只有申请未允许的基地能提供合适的直播间（允许的基地：{allowed}）",
            f"only bases it does not allow have a fitting studio (allowed: {allowed})",
        ),
        "too_far": (
            f"合适的基地都超出 {r.max_km:g} 公里（最近的 {extra.get('base')} 为 {extra.get('km')} 公里）"
            if r.max_km is not None
            else "合适的基地都太远",
            f"every fitting base is farther than max_km {r.max_km:g} km "
            f"(nearest: {extra.get('base')} at {extra.get('km')} km)"
            if r.max_km is not None
            else "every fitting base is too far",
        ),
        "features_missing": (
            f"可选基地中没有具备 {needs} 的直播间",
            f"no studio within reach has {needs}",
        ),
        "no_studio_in_window": (
            f"时段 {w} 内没有符合条件的直播间能提供连续 {r.length} 个时段",
            f"no eligible studio has {r.length} consecutive slot(s) inside the window {w}",
        ),
        "frozen": (
            f"可用时段都在冻结期内（{freeze} 之前），冻结期内不能新增场次",
            f"its eligible slots all lie in the frozen horizon (before {freeze}): "
            "nothing new may start there",
        ),
        "harvest_past": (
            f"这批货的最佳销售期（{best_before} 前）已过，无法再安排新场次",
            f"the harvest lot is past its best-before ({best_before}): no new session can sell it",
        ),
        "harvest_window": (
            f"批次可售期 {ready} – {best_before} 内没有符合条件的连续 {r.length} 个时段",
            f"no eligible run of {r.length} slot(s) lies inside the harvest lot's "
            f"{ready} – {best_before}",
        ),
        "free_run_unused": (
            f"仍有可用的空闲时段（{extra.get('run')}），本方案未安排",
            f"a free eligible run ({extra.get('run')}) is still open; this plan did not use it",
        ),
        "daily_cap": (
            f"尚有空闲时段的日子里，该参与方已达每日 {inst.policy.max_sessions_per_day} 场上限",
            "on the days with free eligible slots the participant already has "
            f"{inst.policy.max_sessions_per_day} sessions (daily cap)",
        ),
        "same_day_same_base": (
            "尚有空闲时段的日子里，该参与方当天已在其他基地直播（同日同基地规则）",
            "on the days with free eligible slots the participant is already at another base "
            "(same day, same base)",
        ),
        "own_overlap": (
            "空闲的可用时段与该参与方自己的其他场次时间重叠",
            "the free eligible slots overlap the participant's own other sessions",
        ),
        "category_clash": (
            f"仅剩的空闲时段与该基地同品类（{category}）其他商家的场次同时，品类分隔规则不允许",
            f"the only free eligible slots run at the same time as another {category} seller's "
            "session at that base (category separation)",
        ),
        "taken_by_bookings": (
            "所有符合条件的时段都已被保留的预订占用",
            "every eligible slot is held by a kept booking",
        ),
        "slots_taken": (
            "所有符合条件的时段都已被其他场次占用"
            f"（优先级更高 {extra.get('higher')} 场、相同 {extra.get('same')} 场、"
            f"更低 {extra.get('lower')} 场）",
            "every eligible slot is taken by other sessions "
            f"({extra.get('higher')} of higher, {extra.get('same')} of equal and "
            f"{extra.get('lower')} of lower priority)",
        ),
    }
    zh, en = texts[code]
    return Reason(code, zh, en, tuple((k, str(v)) for k, v in sorted(extra.items())))


def _nearest(inst: Instance, r: Request) -> dict[str, str]:
    """The nearest allowed base (one with the needed features if any), for the too-far text."""
    allowed = [b for b in inst.bases if r.bases is None or b.id in r.bases]
    fitting = [b for b in allowed if any(r.needs <= s.features for s in b.studios)] or allowed
    km, base = min((inst.distance_km(r.participant, b.id), b.id) for b in fitting)
    return {"km": f"{km:.0f}", "base": base}
