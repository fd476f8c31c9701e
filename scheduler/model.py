"""The CP-SAT model of one week, built from the rule modules; this file is the whole policy.

Hard rules (always; a plan that breaks one is never returned):

====  =======================================  ============================================
spec  rule                                     where
====  =======================================  ============================================
1     consecutive slots of one studio          ``placement.runs_of`` (runs of a class)
2     no slot used twice                       ``rules/capacity.add_studio_capacity``
3     at most ``sessions`` per request         ``rules/sessions.add_session_count``
4     inside the window                        ``placement.inside_window``
5     allowed base, ``max_km``, features       ``placement.allowed_base``, ``within_reach``,
                                               ``has_features``
6     participant: no overlap, daily cap,      ``rules/participant.add_no_overlap``,
      one base per day                         ``add_daily_cap``, ``add_same_day_same_base``
                                               (``placement.clear_of_kept``, ``day_open``
                                               against kept sessions)
7     locked / confirmed bookings kept         ``placement.kept_by_status`` (constants)
8     frozen horizon                           ``placement.frozen`` (kept; nothing new)
9     same category, same base, same time:     ``rules/category.add_category_separation``
      never (with ``category_separation``)     (``placement.apart_from_kept_rivals``
                                               against kept sessions)
10    inside the harvest lot's dates           ``placement.inside_harvest``
====  =======================================  ============================================

Rules decided per candidate live in ``placement.py`` and are applied by ``candidates.py``: a
placement that would break one never becomes a variable.

Objective, in the spec's order (each a :class:`~scheduler.rules.Penalty` to minimise):

1. ``soft_weighted_served`` — weighted sessions not served (priority 1/2/3 = 1/2/4);
2. ``soft_regional_coverage`` — how far the worst macro-region's served ratio is below 1;
3. ``soft_base_balance`` — convex cost of each base's utilization, steep above the target;
4. the spotlight, one level in spotlight points: ``soft_preferences`` (preferred bases, prime
   time first to those with fewer ``prime_recent``), ``soft_harvest_freshness`` (hours a harvest
   session waits after its lot is ready) and ``soft_category_clashes_province`` (same-category
   sessions at once in one province);
5. ``soft_tentative_stability`` — tentative bookings moved or dropped.

**How the levels combine.** Within a stage, levels are weighed strictly lexicographically: level
``k`` is multiplied by the product of ``worst + 1`` of every level below it, so all lower levels
together can never outweigh one unit of a higher one. Doing that for all five levels at once
overflows 64-bit coefficients on a national week (about 10^20), so the solve is staged (see
``STAGES`` and ``lns.py``): stage 1 minimises levels 1-2 strictly; stage 2 keeps every
request's number of sessions from stage 1 (so levels 1 and 2 cannot get worse: the same sessions
of the same participants are served) and minimises levels 3-5 strictly by moving them. Mixing
levels 3-5 into stage 1 was tried twice: as a compressed tie-break the search spent itself on the
tie-break and stopped improving level 1 (746 instead of 765 on sample-small in 10 s); with
balance as a strict third level, national lost a few sessions and balanced no better. The result
is lexicographic in the spec's order up to what each stage finds in its time.

The same model serves a whole week (small weeks) and one area of a week (``lns.py``): an area is
just a smaller candidate set whose outside sessions are constants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.rules import Penalty
from scheduler.rules.balance import soft_base_balance
from scheduler.rules.capacity import add_studio_capacity
from scheduler.rules.category import add_category_separation, soft_category_clashes_province
from scheduler.rules.coverage import soft_regional_coverage
from scheduler.rules.harvest import soft_harvest_freshness
from scheduler.rules.participant import add_daily_cap, add_no_overlap, add_same_day_same_base
from scheduler.rules.preferences import soft_preferences
from scheduler.rules.served import soft_weighted_served
from scheduler.rules.sessions import add_session_count
from scheduler.rules.stability import soft_tentative_stability
from scheduler.variables import Vars

SoftRule = Callable[[cp_model.CpModel, Vars, Candidates], Penalty]

HARD_RULES = (
    add_studio_capacity,
    add_session_count,
    add_no_overlap,
    add_daily_cap,
    add_same_day_same_base,
    add_category_separation,
)
#: The soft rules in priority order, and the level (1-5, the spec's) each one belongs to; the rules
#: of one level share a unit and are summed (level 4: spotlight points).
SOFT_RULES: tuple[SoftRule, ...] = (
    soft_weighted_served,
    soft_regional_coverage,
    soft_base_balance,
    soft_preferences,
    soft_harvest_freshness,
    soft_category_clashes_province,
    soft_tentative_stability,
)
SOFT_LEVELS = (1, 2, 3, 4, 4, 4, 5)
#: The soft levels each stage minimises, strictly lexicographically (indices into ``levels``:
#: 0 is level 1).
STAGES = ((0, 1), (2, 3, 4))


@dataclass
class WeekModel:
    """A built model: the CP-SAT model, its variables, the week and the soft levels in order."""

    model: cp_model.CpModel
    vars: Vars
    week: Candidates
    #: one penalty per level 1-5, in order
    levels: list[Penalty]
    #: one penalty per soft rule, as ``SOFT_RULES``
    terms: list[Penalty]

    def lexicographic(self, stage: tuple[int, ...]) -> tuple[cp_model.LinearExprT, list[int]]:
        """The stage's levels as one expression, strictly weighted; also each level's weight.

        Level ``k`` weighs the product of ``worst + 1`` over the levels after it in the stage.
        """
        weights, w = [], 1
        for k in reversed(stage):
            weights.append(w)
            w *= self.levels[k].worst + 1
        weights.reverse()
        expr = sum(wk * self.levels[k].expr for wk, k in zip(weights, stage, strict=True))
        return expr, weights


def build(week: Candidates) -> WeekModel:
    """Every hard rule as constraints, every soft rule as a penalty, in priority order."""
    model = cp_model.CpModel()
    vars = Vars.create(model, week)
    for add_rule in HARD_RULES:
        add_rule(model, vars, week)
    terms = [soft_rule(model, vars, week) for soft_rule in SOFT_RULES]
    levels = [
        _level([t for t, lv in zip(terms, SOFT_LEVELS, strict=True) if lv == level])
        for level in sorted(set(SOFT_LEVELS))
    ]
    return WeekModel(model=model, vars=vars, week=week, levels=levels, terms=terms)


def _level(parts: list[Penalty]) -> Penalty:
    """One level from its rules' penalties (the same unit): their sum, and the sum of worsts."""
    if len(parts) == 1:
        return parts[0]
    return Penalty(
        "+".join(p.name for p in parts),
        cp_model.LinearExpr.sum([p.expr for p in parts]),
        sum(p.worst for p in parts),
    )
