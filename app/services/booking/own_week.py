"""The participant's own week (rule 6) as search asks it: the booking service's own function,
once per time, end, week and base, and once for every base none of their sessions is at."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from app.services.booking.open_slots import Group, OpenSlot, OpenSlots
from app.services.booking.rules import Session, WeekPolicy, participant_week_refusal

_A_DAY = timedelta(days=1)
#: A base no session is at: a time's answer for every such base (rule 6 compares bases only
#: with the bases of the participant's sessions that day).
_ANOTHER_BASE = -1


class OwnWeek:
    """A participant's active sessions and the rule-6 policy of each planning week."""

    def __init__(self, sessions: Sequence[Session], policies: dict[date, WeekPolicy]) -> None:
        self.sessions, self.policies = sessions, policies
        self.starts = sorted(s.start for s in sessions)
        self.hubs = {s.hub_id for s in sessions}
        self.near: dict[datetime, bool] = {}
        self.answers: dict[tuple, str | None] = {}

    def is_near(self, start: datetime) -> bool:
        """Whether a session starts less than a day from ``start`` (only then can it refuse)."""
        if start not in self.near:
            k = bisect_left(self.starts, start - _A_DAY)
            self.near[start] = k < len(self.starts) and self.starts[k] <= start + _A_DAY
        return self.near[start]

    def refusal(self, start: datetime, end: datetime, hub_id: int, week_start: date) -> str | None:
        """The rule a session ``start``..``end`` at base ``hub_id`` breaks, or None."""
        base = hub_id if hub_id in self.hubs else _ANOTHER_BASE
        asks = (start, end, base, week_start)
        if asks not in self.answers:
            refusal = participant_week_refusal(
                self.sessions, start, end, base, self.policies[week_start]
            )
            self.answers[asks] = refusal[0] if refusal is not None else None
        return self.answers[asks]

    def allowed(
        self, g: Group, studios: tuple[OpenSlot, ...], hidden: Counter[str]
    ) -> tuple[OpenSlot, ...]:
        """The studios of ``studios`` (free, of group ``g``) the participant's week allows."""
        if not studios or not self.starts or not self.is_near(g.start):
            return studios
        kept = []
        for s in studios:
            rule = self.refusal(g.start, g.end, g.hub_id, s.week_start)
            if rule is None:
                kept.append(s)
            else:
                hidden[rule] += 1
        return studios if len(kept) == len(studios) else tuple(kept)

    def allowed_slots(
        self, index: OpenSlots, pos: int, ks: tuple[int, ...], hidden: Counter[str]
    ) -> tuple[int, ...]:
        """``allowed`` for the slots ``ks`` (free, their k) of kept group ``pos``."""
        start = index.starts[pos]
        if not self.starts or not self.is_near(start):
            return ks
        kept = []
        for k in ks:
            rule = self.refusal(start, index.ends[pos], index.hub[pos], index.slot_week[k])
            if rule is None:
                kept.append(k)
            else:
                hidden[rule] += 1
        return ks if len(kept) == len(ks) else tuple(kept)

    def apply_to_window(
        self, index: OpenSlots, i: int, j: int, held: set[int], hidden: Counter[str]
    ) -> tuple[set[int], dict[int, tuple[OpenSlot, ...]]]:
        """The groups of positions ``i:j`` the participant's week rules out whole, and those
        it trims (studios of two planning weeks at one time), counting ``hidden``."""
        refused: set[int] = set()
        trimmed: dict[int, tuple[OpenSlot, ...]] = {}
        starts, ids, done = index.starts, index.slot_id, -1
        for session_start in self.starts:
            lo = max(i, done, bisect_left(starts, session_start - _A_DAY, i, j))
            hi = bisect_right(starts, session_start + _A_DAY, i, j)
            for pos in range(lo, hi):
                free = sum(1 for k in index.members[pos] if ids[k] not in held)
                if not free:
                    continue
                if index.one_week[pos]:
                    rule = self.refusal(
                        starts[pos], index.ends[pos], index.hub[pos], index.week[pos]
                    )
                    if rule is not None:
                        hidden[rule] += free
                        refused.add(pos)
                    continue
                g = index.group(pos)
                studios = tuple(s for s in g.slots if s.id not in held)
                kept = self.allowed(g, studios, hidden)
                if not kept:
                    refused.add(pos)
                elif kept is not studios:
                    trimmed[pos] = kept
            done = max(done, hi)
        return refused, trimmed
