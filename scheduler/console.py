"""What a person or a parent process reads while and after the solver runs: the one-screen
summary of a plan (``summary``), progress on a terminal (``Progress``) and in a file that a run of
the app polls (``ProgressFile``)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any, TextIO

from scheduler.domain import Instance, Plan
from scheduler.io import write_json
from scheduler.metrics import figures

# ---------------------------------------------------------------------------- summary


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def summary(inst: Instance, plan: Plan, wall_s: float | None = None) -> str:
    """A one-screen summary of a plan: status, the figures in the spec's order, the solver's
    objective and bound, wall time."""
    f = figures(inst, plan)
    st = plan.stats
    worst = min(f["region_served_ratio"].items(), key=lambda kv: kv[1], default=("-", None))
    lines = [
        f"instance            {inst.name}",
        f"status              {st.get('status', '-')}",
        f"weighted served     {f['weighted_served']:,} / {f['weighted_asked']:,} asked "
        f"({_pct(f['weighted_served'] / f['weighted_asked'] if f['weighted_asked'] else None)})",
        f"sessions served     {f['sessions_served']:,} / {f['sessions_asked']:,}",
        f"min region ratio    {_pct(f['min_region_ratio'])} ({worst[0]})",
        f"utilization         max {_pct(f['utilization_max'])}, min {_pct(f['utilization_min'])}, "
        f"stdev {f['utilization_stdev']}, {f['bases_over_target']} base(s) over target "
        f"{_pct(inst.policy.target_utilization)}",
        f"preferred base      {_pct(f['preferred_base_share'])} of sessions; "
        f"prime time {_pct(f['prime_satisfaction'])} of those asking",
        f"tentative moved     {f['tentative_moved_or_dropped']} (moved or dropped)",
        f"mean distance       {f['mean_km']} km",
    ]
    spotlight = [  # only when the week carries their inputs
        ("prime winners", "mean prime_recent {}", f["prime_winners_mean_recent"]),
        ("harvest freshness", "{} h after ready (mean)", f["harvest_mean_hours_after_ready"]),
        ("category clashes", "{} (same time, one province)", f["category_clashes_province"]),
    ]
    lines += [f"{label:<19} {text.format(v)}" for label, text, v in spotlight if v is not None]
    if st.get("fallback"):
        lines.append(f"fallback            {st['fallback']}")
    obj, bound = st.get("objective"), st.get("bound")
    if bound is not None:
        gap = _gap(obj, bound)
        lines.append(f"objective / bound   {obj} / {bound}" + (f" (gap {gap})" if gap else ""))
    elif obj is not None:
        lines.append(f"objective           {obj}")
    wall = wall_s if wall_s is not None else st.get("wall_s")
    if wall is not None:
        lines.append(f"wall time           {wall:.1f} s")
    return "\n".join(lines)


def _gap(obj: Any, bound: Any) -> str | None:
    """The relative gap between the objective and the bound (stats of any type: None if not
    numbers)."""
    try:
        o, b = float(obj), float(bound)
    except (TypeError, ValueError):
        return None
    if b == 0:
        return None
    return f"{100 * abs(b - o) / abs(b):.2f} %"


# ---------------------------------------------------------------------------- progress


class Progress:
    """The solver's progress on a terminal: one updating line on a tty, a line every
    ``every_s`` seconds (and at each new best) otherwise."""

    def __init__(self, out: TextIO = sys.stderr, every_s: float = 5.0) -> None:
        self.out, self.every_s = out, every_s
        self.tty = out.isatty()
        self.last_print = -1e9
        self.best: float | None = None
        self.started = time.monotonic()

    def __call__(self, elapsed_s: float, objective: float, bound: float) -> None:
        now = time.monotonic()
        line = f"{elapsed_s:7.1f} s  objective {objective:,.0f}  bound {bound:,.0f}" + (
            f"  gap {g}" if (g := _gap(objective, bound)) else ""
        )
        improved = self.best is None or objective != self.best
        self.best = objective
        if self.tty:
            self.out.write("\r\033[K" + line)
            self.out.flush()
        elif improved and now - self.last_print >= self.every_s or now - self.last_print >= 30:
            self.out.write(line + "\n")
            self.out.flush()
            self.last_print = now

    def close(self) -> None:
        if self.tty and self.best is not None:
            self.out.write("\n")
            self.out.flush()


class ProgressFile:
    """The solver's progress for a parent process: one JSON object in a file, rewritten
    atomically (pid, phase, elapsed seconds, objective and bound). Progress is informative:
    a write that fails never fails the solve."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.started = time.monotonic()

    def write(self, phase: str, **figures: object) -> None:
        if not self.path:
            return
        doc = {
            "pid": os.getpid(),
            "phase": phase,
            "elapsed_s": round(time.monotonic() - self.started, 2),
            **figures,
        }
        with contextlib.suppress(OSError):
            write_json(doc, self.path)

    def __call__(self, elapsed_s: float, objective: float, bound: float) -> None:
        self.write(
            "solving", solver_elapsed_s=round(float(elapsed_s), 2), objective=objective, bound=bound
        )
