"""From studio classes back to concrete studios, after the solve.

The model places sessions on a class of ``k`` identical studio-days and only counts, per position,
that at most ``k`` sessions cover it. Sessions are intervals, and interval graphs are perfect: taking
them by start time and giving each one any studio that is free by then never fails when the count
holds. Tentative bookings the model kept in their class are first put back into their own studio,
so they stay unchanged; if that pre-placement ever blocks the greedy pass, the class is redone
without it (the sessions are still all placed, only the "unchanged" bonus is lost).
"""

from __future__ import annotations

from collections import defaultdict

from scheduler.candidates import Candidates, StudioClass
from scheduler.domain import Assignment


def assign_studios(week: Candidates, chosen: list[int]) -> list[Assignment]:
    """Concrete sessions (request, slots) for the chosen candidates."""
    inst = week.instance
    wanted: dict[tuple[int, int, int], int] = {}
    req_index = {r.id: k for k, r in enumerate(inst.requests)}
    for b in inst.bookings:
        place = week.where.get(b.slots[0])
        if b.status == "tentative" and place is not None:
            ci, j = place
            row = next(
                m for m, slots in enumerate(week.classes[ci].slots) if slots[j] == b.slots[0]
            )
            wanted[(req_index[b.request], ci, j)] = row
    per_class: dict[int, list[int]] = defaultdict(list)
    for i in chosen:
        per_class[week.cls[i]].append(i)
    out: list[Assignment] = []
    for ci, members in per_class.items():
        c = week.classes[ci]
        rows = _rows(week, c, members, wanted) or _rows(week, c, members, {})
        if rows is None:  # pragma: no cover - impossible when the capacity rule holds
            raise RuntimeError(f"class {c.name}: sessions exceed its studios")
        for i, m in rows.items():
            j, n = week.pos[i], week.length[i]
            out.append(
                Assignment(request=inst.requests[week.req[i]].id, slots=c.slots[m][j : j + n])
            )
    return out


def _rows(
    week: Candidates, c: StudioClass, members: list[int], wanted: dict[tuple[int, int, int], int]
) -> dict[int, int] | None:
    """Studio row per candidate, by start time; ``None`` if the pre-placed rows get in the way."""
    busy = [[False] * len(c.starts) for _ in c.studios]
    rows: dict[int, int] = {}
    for i in members:
        m = wanted.get(week.key(i))
        span = range(week.pos[i], week.pos[i] + week.length[i])
        if m is not None and not any(busy[m][q] for q in span):
            rows[i] = m
            for q in span:
                busy[m][q] = True
    for i in sorted(members, key=lambda i: week.pos[i]):
        if i in rows:
            continue
        span = range(week.pos[i], week.pos[i] + week.length[i])
        free = [m for m in range(c.size) if not any(busy[m][q] for q in span)]
        if not free:
            return None
        rows[i] = free[0]
        for q in span:
            busy[free[0]][q] = True
    return rows
