"""A what-if run: the week as it is and a changed copy, each solved, side by side.

The week is read once (``build_instance``); the copy is ``scheduler.scenario``'s pure changes
on that snapshot; both are solved with the same limits, so the comparison is like for like.
Nothing is written: live bookings stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from app.extensions import AnySession
from app.models import PlanningWeek
from app.services.exchange.export import build_instance
from scheduler import scenario
from scheduler.domain import FEATURES, Instance
from scheduler.solve import solve

Change = Callable[[Instance], Instance]


class WhatIfError(ValueError):
    """A change that cannot be read or applied; one line for the user."""


@dataclass(frozen=True)
class WhatIf:
    """The comparison and the changes it was made for (as the user wrote them)."""

    changes: tuple[str, ...]
    comparison: scenario.Comparison


def parse_changes(
    *,
    add_studio: tuple[str, ...] = (),
    open_evenings: tuple[str, ...] = (),
    block_day: tuple[str, ...] = (),
    close_base: tuple[str, ...] = (),
    add_demand: tuple[str, ...] = (),
) -> list[tuple[str, Change]]:
    """``B017:kitchen,cold_chain``, ``B017``, ``B017:2026-12-09``, ``B017``, ``B017:20`` into
    changes."""
    out: list[tuple[str, Change]] = []
    for text in add_studio:
        base, _, feats = text.partition(":")
        features = frozenset(f for f in feats.split(",") if f)
        unknown = sorted(features - set(FEATURES))
        if not base or unknown:
            raise WhatIfError(
                f"--add-studio {text}: BASE:feature,... with features from {FEATURES}"
            )
        out.append(
            (
                f"add studio {base}:{','.join(sorted(features))}",
                _bind(scenario.add_studio, base, features),
            )
        )
    for base in open_evenings:
        out.append((f"open evenings {base}", _bind(scenario.open_evenings, base)))
    for text in block_day:
        base, _, day = text.partition(":")
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise WhatIfError(f"--block-day {text}: BASE:YYYY-MM-DD") from None
        out.append((f"block {base} on {when.isoformat()}", _bind(scenario.block_day, base, when)))
    for base in close_base:
        out.append((f"close {base}", _bind(scenario.close_base, base)))
    for text in add_demand:
        base, _, n = text.partition(":")
        if not n.isdigit():
            raise WhatIfError(f"--add-demand {text}: BASE:NUMBER of requests")
        out.append((f"add {int(n)} requests near {base}", _bind(scenario.add_demand, base, int(n))))
    if not out:
        raise WhatIfError(
            "name at least one change (--add-studio, --open-evenings, --block-day, --close-base, "
            "--add-demand)"
        )
    return out  # fmt: skip


def _bind(change: Callable[..., Instance], *args: object) -> Change:
    return lambda inst: change(inst, *args)


def run_what_if(
    session: AnySession,
    week: PlanningWeek,
    changes: list[tuple[str, Change]],
    *,
    freeze_until: datetime,
    timezone: str,
    time_limit_s: float,
    workers: int,
) -> WhatIf:
    """Solve the week and its changed copy (``time_limit_s`` each) and compare the plans."""
    before = build_instance(session, week, freeze_until=freeze_until, timezone=timezone)
    after = before
    try:
        for _, change in changes:
            after = change(after)
    except scenario.ScenarioError as error:
        raise WhatIfError(str(error)) from None
    plan_before = solve(before, time_limit_s=time_limit_s, workers=workers, seed=1)
    plan_after = solve(after, time_limit_s=time_limit_s, workers=workers, seed=1)
    return WhatIf(
        changes=tuple(name for name, _ in changes),
        comparison=scenario.compare(before, plan_before, after, plan_after),
    )
