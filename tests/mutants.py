"""Drop each rule of the solver in turn and check that a test turns red (``make mutants``).

    python -m tests.mutants              # every rule; exit 1 if any survives
    python -m tests.mutants -k balance   # only the rules whose name contains "balance"

A *mutant* is the product with one rule taken out from the outside, in a child process: the
rule's function is replaced, wherever the scheduler or the tests hold it, by a stand-in that does
nothing (a hard rule of the model adds no constraint, a soft term costs 0, a rule decided per
candidate in ``placement.py`` lets everything through or keeps nothing). The product code is not
touched. The child then runs the rule tests and the solve tests (``-x``: the first failure is
enough); a mutant is *caught* when a test of its own rule family fails
(``tests/scheduler/rules/test_<family>.py``). If those pass, the other rule tests and the solve
tests run too, to tell "survived its own tests" (another test noticed) from "survived" (nothing
did); neither counts as caught. The same tests also run without a mutant, and must pass, or every
catch would mean nothing.

The table lists every rule, the first test that caught it and its status; the last line says
``N/N rules caught``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Every test a mutant is run against once its own rule tests let it through.
TESTS = ["tests/scheduler/rules", "tests/scheduler/test_solve.py"]
PYTEST = ["-x", "-q", "-p", "no:cacheprovider", "--noconftest", "-o", "addopts="]
PARALLEL = 2  # two cores, shared: never more children than that
VERDICT = "MUTANT-VERDICT"


# ---------------------------------------------------------------------------- the stand-ins


def no_constraint(rule: Callable[..., Any]) -> Callable[..., Any]:
    """A hard rule of the model that adds nothing."""

    def dropped(model: Any, vars: Any, week: Any) -> None:
        return None

    return dropped


def no_cost(rule: Callable[..., Any]) -> Callable[..., Any]:
    """A soft term of the model that always costs 0."""
    from scheduler.rules import Penalty

    def dropped(model: Any, vars: Any, week: Any) -> Penalty:
        return Penalty(f"{rule.__name__} (dropped)", 0, 0)

    return dropped


def always(value: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A per-candidate check that answers ``value`` whatever it is asked."""

    def make(rule: Callable[..., Any]) -> Callable[..., Any]:
        def dropped(*args: Any, **kwargs: Any) -> bool:
            return value

        return dropped

    return make


def everywhere(rule: Callable[..., Any]) -> Callable[..., Any]:
    """A vectorised per-base check (``within_reach``) that keeps every base it is given."""

    def dropped(inst: Any, r: Any, bases: Any, km: Any) -> Any:
        import numpy as np

        return np.ones(len(bases), dtype=bool)

    return dropped


def every_start(rule: Callable[..., Any]) -> Callable[..., Any]:
    """A per-class filter of start positions that keeps every one it is given."""

    def dropped(limit: Any, c: Any, length: int, starts: list[int]) -> list[int]:
        return starts

    return dropped


def any_positions(rule: Callable[..., Any]) -> Callable[..., Any]:
    """``runs_of`` without the consecutive check: every start that leaves ``length`` positions."""

    def dropped(c: Any, length: int) -> list[int]:
        return list(range(len(c.starts) - length + 1))

    return dropped


@dataclass(frozen=True)
class Mutant:
    """One rule taken out: its name, where its function lives, and what stands in for it."""

    rule: str
    target: str  # "module:function"
    stand_in: Callable[[Callable[..., Any]], Callable[..., Any]]
    family: str  # its own test module, tests/scheduler/rules/test_<family>.py


RULES = "scheduler.rules"
PLACEMENT = "scheduler.placement"
MUTANTS = [
    # Hard rules of the CP-SAT model (model.HARD_RULES).
    Mutant("no slot twice (2)", f"{RULES}.capacity:add_studio_capacity", no_constraint, "capacity"),
    Mutant(
        "sessions per request (3)", f"{RULES}.sessions:add_session_count", no_constraint, "sessions"
    ),
    Mutant("no overlap (6a)", f"{RULES}.participant:add_no_overlap", no_constraint, "participant"),
    Mutant("daily cap (6b)", f"{RULES}.participant:add_daily_cap", no_constraint, "participant"),
    Mutant(
        "same day same base (6c)",
        f"{RULES}.participant:add_same_day_same_base",
        no_constraint,
        "participant",
    ),
    Mutant(
        "category separation (9)",
        f"{RULES}.category:add_category_separation",
        no_constraint,
        "category",
    ),
    # Soft terms of the objective (model.SOFT_RULES), in the spec's order.
    Mutant("weighted served (level 1)", f"{RULES}.served:soft_weighted_served", no_cost, "served"),
    Mutant(
        "regional coverage (level 2)",
        f"{RULES}.coverage:soft_regional_coverage",
        no_cost,
        "coverage",
    ),
    Mutant("base balance (level 3)", f"{RULES}.balance:soft_base_balance", no_cost, "balance"),
    Mutant(
        "preferences (level 4)", f"{RULES}.preferences:soft_preferences", no_cost, "preferences"
    ),
    Mutant(
        "harvest freshness (level 4)",
        f"{RULES}.harvest:soft_harvest_freshness",
        no_cost,
        "harvest",
    ),
    Mutant(
        "category clashes in a province (level 4)",
        f"{RULES}.category:soft_category_clashes_province",
        no_cost,
        "category",
    ),
    Mutant(
        "tentative stability (level 5)",
        f"{RULES}.stability:soft_tentative_stability",
        no_cost,
        "stability",
    ),
    # Hard rules decided per candidate (placement.py, applied by candidates.py).
    Mutant("consecutive slots (1)", f"{PLACEMENT}:runs_of", any_positions, "placement"),
    Mutant("inside the window (4)", f"{PLACEMENT}:inside_window", every_start, "placement"),
    Mutant("allowed base (5a)", f"{PLACEMENT}:allowed_base", always(True), "placement"),
    Mutant("max_km (5b)", f"{PLACEMENT}:within_reach", everywhere, "placement"),
    Mutant("features (5c)", f"{PLACEMENT}:has_features", always(True), "placement"),
    Mutant("locked/confirmed kept (7)", f"{PLACEMENT}:kept_by_status", always(False), "placement"),
    Mutant("frozen horizon (8)", f"{PLACEMENT}:frozen", always(False), "placement"),
    Mutant("no overlap with kept (6a)", f"{PLACEMENT}:clear_of_kept", every_start, "placement"),
    Mutant("kept fill/fix the day (6b-c)", f"{PLACEMENT}:day_open", always(True), "placement"),
    Mutant("inside the harvest lot (10)", f"{PLACEMENT}:inside_harvest", every_start, "harvest"),
    Mutant(
        "apart from kept same category (9)",
        f"{PLACEMENT}:apart_from_kept_rivals",
        every_start,
        "category",
    ),
    Mutant(
        "exempt bookings kept (9, 10)",
        f"{PLACEMENT}:exempt_bookings",
        lambda rule: lambda inst: set(),
        "category",
    ),
]


# ---------------------------------------------------------------------------- in the child


def apply(mutant: Mutant) -> None:
    """Replace the rule's function in every loaded scheduler and test module (names imported
    with ``from ... import`` and tuples such as ``model.HARD_RULES`` included)."""
    import scheduler

    for info in pkgutil.walk_packages(scheduler.__path__, "scheduler."):
        if info.name != "scheduler.__main__":
            importlib.import_module(info.name)
    module_name, name = mutant.target.split(":")
    original = getattr(importlib.import_module(module_name), name)
    replacement = mutant.stand_in(original)
    replaced = 0
    for mod_name, module in list(sys.modules.items()):
        if module is None or not mod_name.startswith(("scheduler", "tests")):
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                setattr(module, attr, replacement)
                replaced += 1
            elif isinstance(value, tuple) and any(v is original for v in value):
                setattr(module, attr, tuple(replacement if v is original else v for v in value))
                replaced += 1
    if not replaced:  # pragma: no cover - a renamed rule must not pass as "caught"
        raise SystemExit(f"mutant {mutant.rule}: {mutant.target} is not used anywhere")


class Verdicts:
    """A pytest plugin that tells the parent how each failing test failed: only a failed
    assertion is a catch (a stand-in with the wrong signature would raise TypeError instead)."""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        outcome = yield
        report = outcome.get_result()
        if report.failed and call.excinfo is not None:
            kind = "assertion" if call.excinfo.errisinstance(AssertionError) else "error"
            sys.__stdout__.write(f"\n{VERDICT} {kind} {item.nodeid}\n")
            sys.__stdout__.flush()


def child(rule: str | None, pytest_args: list[str]) -> int:
    """Run pytest in this process, with one rule taken out (or none, for the baseline)."""
    if rule is not None:
        apply(next(m for m in MUTANTS if m.rule == rule))
    return int(pytest.main(pytest_args, plugins=[Verdicts()]))


# ---------------------------------------------------------------------------- in the parent


@dataclass
class Outcome:
    rule: str
    caught_by: str
    status: str
    seconds: float


def pytest_child(rule: str | None, tests: list[str]) -> tuple[int, list[str], str]:
    """One child process: pytest's exit code, the tests that failed, and its last line."""
    argv = [sys.executable, "-m", "tests.mutants", "--child"]
    argv += [] if rule is None else ["--rule", rule]
    done = subprocess.run(
        [*argv, "--", *tests, *PYTEST], cwd=ROOT, capture_output=True, text=True, check=False
    )
    failed, other = [], []
    for line in done.stdout.splitlines():
        if line.startswith(VERDICT):
            _, kind, nodeid = line.split(maxsplit=2)
            (failed if kind == "assertion" else other).append(nodeid)
    last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["-"]
    return done.returncode, failed, other[0] if other else last[0]


def run(mutant: Mutant | None) -> Outcome:
    """A mutant is caught when its own rule tests fail; if they pass, the other tests are run
    too, to say whether anything at all would have noticed (that does not count as caught)."""
    t0 = time.monotonic()
    if mutant is None:
        code, failed, last = pytest_child(None, TESTS)
        status = "passed" if code == 0 else f"failed (exit {code})"
        return Outcome("(no mutant)", failed[0] if failed else last, status, time.monotonic() - t0)
    own = f"tests/scheduler/rules/test_{mutant.family}.py"
    for tests, verdict in (([own], "caught"), (TESTS, "SURVIVED its own tests")):
        code, failed, last = pytest_child(mutant.rule, tests)
        if code == 1 and failed:
            return Outcome(mutant.rule, failed[0], verdict, time.monotonic() - t0)
        if code != 0:  # an error rather than a failed assertion, a crash: not a catch
            return Outcome(mutant.rule, last, f"broken run (exit {code})", time.monotonic() - t0)
    return Outcome(mutant.rule, "-", "SURVIVED", time.monotonic() - t0)


def table(outcomes: list[Outcome]) -> str:
    """``rule | caught by | status`` as a plain-text table."""
    rows = [("rule", "caught by", "status")]
    rows += [(o.rule, o.caught_by.removeprefix("tests/scheduler/"), o.status) for o in outcomes]
    widths = [max(len(r[k]) for r in rows) for k in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.mutants", description=__doc__.split("\n")[0]
    )
    parser.add_argument("-k", dest="only", help="only rules whose name contains this text")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rule", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.child:
        return child(args.rule, [a for a in rest if a != "--"])

    t0 = time.monotonic()
    chosen = [m for m in MUTANTS if args.only is None or args.only in m.rule]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        outcomes = list(pool.map(run, [None, *chosen]))
    baseline, outcomes = outcomes[0], outcomes[1:]
    if baseline.status != "passed":
        print(f"the tests fail without any mutant ({baseline.caught_by}): fix them first")
        return 2
    print(table(outcomes))
    caught = sum(o.status == "caught" for o in outcomes)
    print(f"{caught}/{len(outcomes)} rules caught ({time.monotonic() - t0:.0f} s)")
    return 0 if caught == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
