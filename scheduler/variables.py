"""The decision variables of the CP-SAT model, in one small container with lookups.

``x[i]`` is one boolean per candidate placement ``i`` (see ``candidates.py``): request, studio
class and start position, named ``x[R000381@B017/d3/kitchen#12:p4]`` so that a dumped model reads
like the week. ``at_base[(participant, day, base)]`` are the same-day-same-base indicators, created
only where a participant has candidates at more than one base on one day. Everything a rule needs
to sum over (a request's candidates, a participant's day, a class position) is a lookup here, built
once, so each rule module stays a few lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates


@dataclass
class Vars:
    """Booleans per candidate plus the auxiliary variables the rules add."""

    cands: Candidates
    x: list[cp_model.IntVar]
    at_base: dict[tuple[str, int, str], cp_model.IntVar] = field(default_factory=dict)
    #: auxiliary variables with the function giving their value from a set of chosen candidates
    derived: list[tuple[cp_model.IntVar, Callable[[set[int]], int]]] = field(default_factory=list)

    @classmethod
    def create(cls, model: cp_model.CpModel, cands: Candidates) -> Vars:
        """One named boolean per candidate placement."""
        reqs, classes = cands.instance.requests, cands.classes
        x = [
            model.new_bool_var(
                f"x[{reqs[cands.req[i]].id}@{classes[cands.cls[i]].name}:p{cands.pos[i]}]"
            )
            for i in range(len(cands))
        ]
        return cls(cands=cands, x=x)

    # Constraints over candidates by index, written straight into the model's proto: on an area
    # of a national week (~25k candidates) that is about 3x faster than ``model.add``, and
    # building, not solving, is what limits how many areas the search gets through.

    def at_most(self, model: cp_model.CpModel, idx: list[int], bound: int, name: str) -> None:
        """``sum(x[i] for i in idx) <= bound``."""
        c = model.proto.constraints.add()
        c.name = name
        if bound == 1:
            c.at_most_one.literals.extend(self.x[i].index for i in idx)
            return
        c.linear.vars.extend(self.x[i].index for i in idx)
        c.linear.coeffs.extend([1] * len(idx))
        c.linear.domain.extend((0, bound))

    def implies(self, model: cp_model.CpModel, idx: list[int], flag: cp_model.IntVar) -> None:
        """``x[i] => flag`` for every ``i`` in ``idx``."""
        constraints = model.proto.constraints
        for i in idx:
            c = constraints.add()
            c.enforcement_literal.append(self.x[i].index)
            c.bool_and.literals.append(flag.index)

    @cached_property
    def by_request(self) -> dict[int, list[int]]:
        """Candidate indices of each request (by index in ``instance.requests``)."""
        out: dict[int, list[int]] = defaultdict(list)
        for i, r in enumerate(self.cands.req):
            out[r].append(i)
        return out

    @cached_property
    def by_participant_day(self) -> dict[tuple[str, int], list[int]]:
        """Candidate indices of each participant's day (all of its requests)."""
        reqs = self.cands.instance.requests
        out: dict[tuple[str, int], list[int]] = defaultdict(list)
        for i, (r, d) in enumerate(zip(self.cands.req, self.cands.day, strict=True)):
            out[(reqs[r].participant, d)].append(i)
        return out

    @cached_property
    def by_class_position(self) -> dict[tuple[int, int], list[int]]:
        """Candidates covering each position of each studio class."""
        out: dict[tuple[int, int], list[int]] = defaultdict(list)
        c = self.cands
        for i in range(len(c)):
            for q in range(c.pos[i], c.pos[i] + c.length[i]):
                out[(c.cls[i], q)].append(i)
        return out

    @cached_property
    def by_base(self) -> dict[str, list[int]]:
        """Candidate indices per base."""
        out: dict[str, list[int]] = defaultdict(list)
        for i in range(len(self.cands)):
            out[self.cands.base(i)].append(i)
        return out

    def hint(self, model: cp_model.CpModel, chosen: set[int]) -> None:
        """A complete solution hint: the chosen candidates and every derived variable's value."""
        model.clear_hints()  # type: ignore[no-untyped-call]  # OR-Tools leaves it unannotated
        for i, v in enumerate(self.x):
            model.add_hint(v, i in chosen)
        for var, value in self.derived:
            model.add_hint(var, value(chosen))

    def extract(self, solver: cp_model.CpSolver) -> list[int]:
        """The chosen candidates of a solved model."""
        return [i for i, v in enumerate(self.x) if solver.boolean_value(v)]
