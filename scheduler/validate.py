"""Every hard rule of the spec, checked without the solver: a readable specification.

``validate(instance, plan)`` returns the broken rules of a plan as :class:`Violation` records,
numbered as in the spec's "Hard rules" (1–10); an empty list means the plan is valid. It shares no
code with the CP-SAT model on purpose, and gives the same verdict as the shared referee
(``shared/tools/check_plan.py``): valid or not, and which rule. ``check_instance(instance)``
checks the input itself: its bookings, taken together, must already obey rules 1–6 (two bookings
on one slot, a booking outside its window, a participant booked twice at once …) and the slots of
one studio must not overlap.

Each ``rule_*`` function checks one rule and yields violations; :data:`RULES` lists them in the
spec's order. They work on :class:`Session` records: an assignment resolved against the instance.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from scheduler.domain import Assignment, Booking, Instance, Plan, Slot, Studio
from scheduler.memo import WeekMemo

#: Tolerance on ``max_km``, as the referee uses: a base at exactly the limit is allowed.
KM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Violation:
    """One broken hard rule: its number in the spec (1–10) and one line naming the culprits."""

    rule: int
    message: str

    def __str__(self) -> str:
        return f"rule {self.rule}: {self.message}"


@dataclass(frozen=True, slots=True)
class Session:
    """An assignment whose request and slots exist and lie in one studio (rule 1's first half).
    Its base, times and key are stored, not derived: every rule reads them, a week has tens of
    thousands of sessions."""

    index: int
    request: str
    participant: str
    slots: tuple[Slot, ...]
    studio: Studio
    #: the studio's base
    base: str
    #: the first slot's start and the last slot's end
    start: datetime
    end: datetime
    #: (request, slot ids): how an input booking is matched
    key: tuple[str, tuple[str, ...]]

    def where(self) -> str:
        return f"assignment #{self.index} ({self.request})"


# ---------------------------------------------------------------------------- rule 1


def rule_1_slots_exist_consecutive_in_one_studio(
    inst: Instance, assignments: tuple[Assignment, ...]
) -> tuple[list[Violation], list[Session]]:
    """Rule 1: each assignment names a request and ``length`` existing consecutive slots of one
    studio, in order. Returns the violations and the assignments that can be checked further
    (known request, known slots, one studio) as sessions."""
    bad: list[Violation] = []
    sessions: list[Session] = []
    request_by_id, slot_by_id, studio_by_id = inst.request_by_id, inst.slot_by_id, inst.studio_by_id
    for k, a in enumerate(assignments):
        req = request_by_id.get(a.request)
        if req is None:
            bad.append(Violation(1, f"assignment #{k} ({a.request}): unknown request"))
            continue
        found = tuple(map(slot_by_id.get, a.slots))
        if not found or None in found:
            unknown = [s for s in a.slots if s not in slot_by_id]
            what = ", ".join(unknown) if unknown else "no slot"
            bad.append(
                Violation(1, f"assignment #{k} ({a.request}): {what} — not existing slot ids")
            )
            continue
        slots: tuple[Slot, ...] = found  # type: ignore[assignment]  # no None left
        if len(slots) != req.length:
            bad.append(
                Violation(
                    1,
                    f"assignment #{k} ({a.request}): {len(slots)} slots, "
                    f"request length is {req.length}",
                )
            )
        studio_id = slots[0].studio
        if len(slots) > 1:
            if any(s.studio != studio_id for s in slots):
                studios = sorted({s.studio for s in slots})
                bad.append(
                    Violation(
                        1,
                        f"assignment #{k} ({a.request}): slots in more than one studio "
                        f"({', '.join(studios)})",
                    )
                )
                continue
            if any(x.end != y.start for x, y in zip(slots, slots[1:], strict=False)):
                bad.append(
                    Violation(
                        1,
                        f"assignment #{k} ({a.request}): slots {', '.join(a.slots)} are not "
                        "consecutive and in order",
                    )
                )
        studio = studio_by_id[studio_id]
        sessions.append(
            Session(
                k,
                req.id,
                req.participant,
                slots,
                studio,
                studio.base,
                slots[0].start,
                slots[-1].end,
                (req.id, tuple(a.slots)),
            )
        )
    return bad, sessions


# ---------------------------------------------------------------------------- rules 2–6


def rule_2_no_slot_used_twice(inst: Instance, sessions: list[Session]) -> Iterator[Violation]:
    """Rule 2: no slot is used twice (by two sessions, or twice in one)."""
    used = [slot.id for s in sessions for slot in s.slots]
    if len(set(used)) == len(used):
        return  # no slot twice: the common case, found without a list per slot
    users: dict[str, list[str]] = defaultdict(list)
    for s in sessions:
        for slot in s.slots:
            users[slot.id].append(s.request)
    for slot_id, by in users.items():
        if len(by) > 1:
            who = ", ".join(sorted(set(by)))
            yield Violation(2, f"slot {slot_id} used {len(by)} times (by {who})")


def rule_3_at_most_sessions_per_request(
    inst: Instance, sessions: list[Session]
) -> Iterator[Violation]:
    """Rule 3: a request gets at most ``sessions`` sessions."""
    count = Counter(s.request for s in sessions)
    for rid, n in count.items():
        asked = inst.request_by_id[rid].sessions
        if n > asked:
            yield Violation(3, f"request {rid}: {n} sessions, asked for {asked}")


def rule_4_inside_window(inst: Instance, sessions: list[Session]) -> Iterator[Violation]:
    """Rule 4: every session lies inside its request's window."""
    for s in sessions:
        req = inst.request_by_id[s.request]
        if s.start < req.window_start or s.end > req.window_end:
            yield Violation(
                4,
                f"{s.where()}: {s.start.isoformat()}..{s.end.isoformat()} outside the window "
                f"{req.window_start.isoformat()}..{req.window_end.isoformat()}",
            )


def rule_5_allowed_base_distance_features(
    inst: Instance, sessions: list[Session]
) -> Iterator[Violation]:
    """Rule 5: allowed base (``bases``), within ``max_km``, studio has every feature in ``needs``."""
    for s in sessions:
        req = inst.request_by_id[s.request]
        if req.bases is not None and s.base not in req.bases:
            yield Violation(5, f"{s.where()}: base {s.base} not allowed")
        if req.max_km is not None:
            km = inst.distance_km(req.participant, s.base)
            if km > req.max_km + KM_TOLERANCE:
                yield Violation(
                    5, f"{s.where()}: base {s.base} is {km:.0f} km away, max {req.max_km:g}"
                )
        missing = req.needs - s.studio.features
        if missing:
            yield Violation(5, f"{s.where()}: studio {s.studio.id} lacks {sorted(missing)}")


def rule_6_participant_no_overlap(inst: Instance, sessions: list[Session]) -> Iterator[Violation]:
    """Rule 6a: a participant (over all its requests) is never in two overlapping sessions."""
    for pid, mine in _by_participant(sessions).items():
        mine = sorted(mine, key=lambda s: (s.start, s.end))
        latest: Session | None = None  # the session reaching furthest so far
        for s in mine:
            if latest is not None and s.start < latest.end:
                yield Violation(
                    6, f"participant {pid}: sessions of {latest.request} and {s.request} overlap"
                )
            if latest is None or s.end > latest.end:
                latest = s


def rule_6_daily_cap(inst: Instance, sessions: list[Session]) -> Iterator[Violation]:
    """Rule 6b: at most ``policy.max_sessions_per_day`` sessions starting on one local day."""
    cap = inst.policy.max_sessions_per_day
    if cap is None:
        return
    for pid, days in _by_participant_day(inst, sessions).items():
        for day, mine in days.items():
            if len(mine) > cap:
                yield Violation(6, f"participant {pid}: {len(mine)} sessions on {day}, max {cap}")


def rule_6_same_day_same_base(inst: Instance, sessions: list[Session]) -> Iterator[Violation]:
    """Rule 6c: with ``policy.same_day_same_base``, all of a participant's sessions of one day are
    at one base."""
    if not inst.policy.same_day_same_base:
        return
    for pid, days in _by_participant_day(inst, sessions).items():
        for day, mine in days.items():
            bases = sorted({s.base for s in mine})
            if len(bases) > 1:
                yield Violation(6, f"participant {pid}: sessions at {', '.join(bases)} on {day}")


# ---------------------------------------------------------------------------- rules 7–8


def rule_7_locked_and_confirmed_kept(
    inst: Instance, sessions: list[Session]
) -> Iterator[Violation]:
    """Rule 7: every ``locked`` and ``confirmed`` booking is in the plan, unchanged."""
    yield from _missing_bookings(
        inst, sessions, lambda b: b.status in ("locked", "confirmed"), rule=7
    )


def rule_8_frozen_horizon(inst: Instance, sessions: list[Session]) -> Iterator[Violation]:
    """Rule 8: nothing new starts before ``freeze_until``, and every input booking starting
    before it is kept unchanged (locked/confirmed ones are already rule 7's)."""
    freeze = inst.policy.freeze_until
    if freeze is None:
        return
    yield from _missing_bookings(
        inst,
        sessions,
        lambda b: b.status == "tentative" and inst.slot_by_id[b.slots[0]].start < freeze,
        rule=8,
    )
    booked = Counter((b.request, b.slots) for b in inst.bookings)
    for s in sessions:
        if s.start < freeze and booked[s.key] == 0:
            yield Violation(
                8, f"request {s.request}: new session at {s.start.isoformat()} before freeze_until"
            )


# ---------------------------------------------------------------------------- rules 9–10


def rule_9_category_separation(inst: Instance, sessions: list[Session]) -> Iterator[Violation]:
    """Rule 9: with ``policy.category_separation == "base"``, two sessions of different
    participants that share a category never overlap in time at one base. A pair of input
    bookings that already clash is exempt (they stay as they are); a plan may add no new clash."""
    if inst.policy.category_separation != "base":
        return
    booked = {(b.request, b.slots) for b in inst.bookings}
    groups: dict[tuple[str, str], list[Session]] = defaultdict(list)
    for s in sessions:
        category = inst.participant_by_id[s.participant].category
        if category:
            groups[(s.base, category)].append(s)
    for (base, category), mine in groups.items():
        for a, b in overlapping_pairs(mine):
            if a.participant == b.participant or (a.key in booked and b.key in booked):
                continue
            yield Violation(
                9, f"base {base}: {category} sessions of {a.request} and {b.request} overlap"
            )


def rule_10_harvest_window(inst: Instance, sessions: list[Session]) -> Iterator[Violation]:
    """Rule 10: every session of a request with a harvest lot starts at or after ``ready`` and
    ends by ``best_before``; an input booking that already breaks this is exempt."""
    booked = {(b.request, b.slots) for b in inst.bookings}
    for s in sessions:
        lot = inst.request_by_id[s.request].harvest
        if lot is None or s.key in booked:
            continue
        if s.start < lot.ready or s.end > lot.best_before:
            yield Violation(
                10,
                f"{s.where()}: {s.start.isoformat()}..{s.end.isoformat()} outside the harvest's "
                f"{lot.ready.isoformat()}..{lot.best_before.isoformat()}",
            )


def overlapping_pairs(sessions: Iterable[Session]) -> Iterator[tuple[Session, Session]]:
    """Every pair of sessions whose times overlap (the earlier-starting one first)."""
    active: list[Session] = []
    for s in sorted(sessions, key=lambda s: s.start):
        active = [a for a in active if a.end > s.start]
        for a in active:
            yield a, s
        active.append(s)


#: The checks run on resolved sessions, in the spec's order (rule 1 runs first, on assignments).
RULES: tuple[Callable[[Instance, list[Session]], Iterable[Violation]], ...] = (
    rule_2_no_slot_used_twice,
    rule_3_at_most_sessions_per_request,
    rule_4_inside_window,
    rule_5_allowed_base_distance_features,
    rule_6_participant_no_overlap,
    rule_6_daily_cap,
    rule_6_same_day_same_base,
    rule_7_locked_and_confirmed_kept,
    rule_8_frozen_horizon,
    rule_9_category_separation,
    rule_10_harvest_window,
)
#: Rules that speak of a plan against the input bookings; the input itself is not checked by them.
PLAN_ONLY = (
    rule_7_locked_and_confirmed_kept,
    rule_8_frozen_horizon,
    rule_9_category_separation,
    rule_10_harvest_window,
)


def validate(inst: Instance, plan: Plan) -> list[Violation]:
    """Every hard rule the plan breaks, in rule order; empty when the plan is valid."""
    bad, sessions = _rule_1(inst, plan.assignments)
    bad = list(bad)
    for rule in RULES:
        bad.extend(rule(inst, sessions))
    return bad


#: The last plan's rule-1 answer: a plan is validated, then its figures counted (``metrics``),
#: and both start from its sessions.
_RULE_1: WeekMemo[tuple[list[Violation], list[Session]]] = WeekMemo()


def _rule_1(
    inst: Instance, assignments: tuple[Assignment, ...]
) -> tuple[list[Violation], list[Session]]:
    found = _RULE_1.get(inst, assignments)
    if found is None:
        found = _RULE_1.put(
            inst, assignments, rule_1_slots_exist_consecutive_in_one_studio(inst, assignments)
        )
    return found


def is_valid(inst: Instance, plan: Plan) -> bool:
    return not validate(inst, plan)


def sessions_of(inst: Instance, plan: Plan) -> list[Session]:
    """The plan's assignments that name a known request and known slots of one studio."""
    return _rule_1(inst, plan.assignments)[1]


# ---------------------------------------------------------------------------- the input itself


def rule_studio_slots_do_not_overlap(inst: Instance) -> Iterator[Violation]:
    """The instance's own shape: slots of one studio never overlap (else one studio could hold
    two sessions at once, which is rule 2's sense), reported under rule 2."""
    for studio, slots in inst.slots_by_studio.items():
        for x, y in zip(slots, slots[1:], strict=False):
            if y.start < x.end:
                yield Violation(2, f"studio {studio}: slots {x.id} and {y.id} overlap")


def check_instance(inst: Instance) -> list[Violation]:
    """Input consistency: overlapping slots of a studio, and bookings that, taken together as a
    plan, break rules 1–6 (two bookings on one slot, a booking outside its window or at a base
    its request excludes, more bookings than sessions, a participant double-booked …). Input
    bookings are exempt from rules 9 and 10 by the spec, so those are not checked here."""
    bad = list(rule_studio_slots_do_not_overlap(inst))
    as_plan = tuple(Assignment(b.request, b.slots) for b in inst.bookings)
    found, sessions = rule_1_slots_exist_consecutive_in_one_studio(inst, as_plan)
    bad.extend(found)
    for rule in RULES:
        if rule not in PLAN_ONLY:
            bad.extend(rule(inst, sessions))
    # Messages speak of bookings, not of a plan's assignments.
    return [Violation(v.rule, v.message.replace("assignment #", "booking #")) for v in bad]


# ---------------------------------------------------------------------------- helpers


def _by_participant(sessions: Iterable[Session]) -> dict[str, list[Session]]:
    out: dict[str, list[Session]] = defaultdict(list)
    for s in sessions:
        out[s.participant].append(s)
    return out


#: Rule 6's daily cap and its same day same base both group the same sessions by day.
_BY_DAY: WeekMemo[dict[str, dict[date, list[Session]]]] = WeekMemo()


def _by_participant_day(
    inst: Instance, sessions: Iterable[Session]
) -> dict[str, dict[date, list[Session]]]:
    grouped = _BY_DAY.get(inst, sessions)
    if grouped is not None:
        return grouped
    out: dict[str, dict[date, list[Session]]] = defaultdict(lambda: defaultdict(list))
    day_of = inst.day_of_slot
    for s in sessions:
        out[s.participant][day_of[s.slots[0].id]].append(s)
    return _BY_DAY.put(inst, sessions, out)


def _missing_bookings(
    inst: Instance,
    sessions: list[Session],
    must_keep: Callable[[Booking], bool],
    *,
    rule: int,
) -> Iterator[Violation]:
    planned = Counter(s.key for s in sessions)
    booked = Counter((b.request, b.slots) for b in inst.bookings)
    for b in inst.bookings:
        if must_keep(b) and planned[(b.request, b.slots)] < booked[(b.request, b.slots)]:
            yield Violation(
                rule, f"{b.status} booking of {b.request} at {', '.join(b.slots)} is missing"
            )
