"""The rules of the week, one module per family, each a named function.

Hard rules are ``add_<rule>(model, vars, week)`` and add constraints. Soft rules are
``soft_<rule>(model, vars, week) -> Penalty``: a non-negative linear expression to minimise and its
worst possible value, so that ``model.py`` can weigh the levels strictly (a lower level can never
outweigh one unit of a higher one). Rules 1, 4, 5, 7, 8 and 10 of the spec are decided per candidate
in ``placement.py``: a placement that would break them never becomes a variable.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model


@dataclass(frozen=True)
class Penalty:
    """A soft rule's cost: ``expr`` in ``[0, worst]``, in the unit its docstring names."""

    name: str
    expr: cp_model.LinearExprT
    worst: int
