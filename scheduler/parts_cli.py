"""The parted solve's commands (``parts.py``), for the job queue's workers and for one machine.

    python -m scheduler split INSTANCE -o SPLIT --parts K [--time-limit S]
    python -m scheduler part INSTANCE SPLIT --part I -o ANSWER [--time-limit S] [--workers N]
    python -m scheduler merge INSTANCE SPLIT [ANSWER ...] -o PLAN
    python -m scheduler solve INSTANCE -o PLAN --start PLAN0      (the seam: from PLAN0)
    python -m scheduler solve INSTANCE -o PLAN --parts K          (all of it, here, in turn)

``split`` writes the warm start and the parts, ``part`` one part's answer, ``merge`` the week's
plan from the answers it is given (a part with no answer keeps the start's sessions). Bad input
ends as in every command: one line on stderr, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

from scheduler.candidates import eligibility
from scheduler.console import summary
from scheduler.domain import Assignment, Instance, Plan
from scheduler.io import FormatError, write_json
from scheduler.io.fields import read_json
from scheduler.parts import (
    PARTS_SHARE,
    PREPARE_SHARE,
    Part,
    merge,
    part_doc,
    read_part,
    read_split,
    solve_part,
    split,
    split_doc,
)
from scheduler.validate import validate

Positive = Callable[[str], float]


def _Bad(message: str) -> Exception:  # noqa: N802 - raised like the exception it makes
    """The CLI's UserError (imported here: ``cli`` imports this module)."""
    from scheduler.cli import UserError

    return UserError(message)


def add_parsers(sub: Any, positive: Callable[[Callable[[str], float]], Positive]) -> None:
    """Register ``split``, ``part`` and ``merge`` on the CLI's sub-parsers."""
    s = sub.add_parser("split", help="warm start and the week's parts, for a parted solve")
    s.add_argument("instance")
    s.add_argument("-o", "--output", required=True, metavar="SPLIT")
    s.add_argument("--parts", type=positive(int), required=True, metavar="K")
    s.add_argument("--time-limit", type=positive(float), default=60.0, metavar="S")
    s.add_argument("--workers", type=positive(int), default=1, help=argparse.SUPPRESS)
    s.set_defaults(run=cmd_split)

    p = sub.add_parser("part", help="solve one part of a split week")
    p.add_argument("instance")
    p.add_argument("split")
    p.add_argument("--part", type=int, required=True, metavar="I")
    p.add_argument("-o", "--output", required=True, metavar="ANSWER")
    p.add_argument("--time-limit", type=positive(float), default=60.0, metavar="S")
    p.add_argument("--workers", type=positive(int), default=1, metavar="N")
    p.add_argument("--seed", type=int, default=None, metavar="N")
    p.set_defaults(run=cmd_part)

    m = sub.add_parser("merge", help="the week's plan from its parts' answers")
    m.add_argument("instance")
    m.add_argument("split")
    m.add_argument("answers", nargs="*", metavar="ANSWER")
    m.add_argument("-o", "--output", required=True, metavar="PLAN")
    m.set_defaults(run=cmd_merge)


# ---------------------------------------------------------------------------- steps


def prepare(inst: Instance, k: int, deadline: float) -> tuple[Plan, list[Part], dict[str, Any]]:
    """The warm start (greedy, then better orders until ``deadline``) and ``k`` parts."""
    from scheduler.construct import best_start
    from scheduler.greedy import greedy

    t0 = time.monotonic()
    eligible = eligibility(inst)
    start, name = best_start(inst, (greedy(inst), "greedy"), deadline, eligible)
    parts = split(inst, start, k, eligible)
    stats = {
        "warm_start": name,
        "objective": sum(inst.weight_of(a.request) for a in start.assignments),
        "parts": len(parts),
        "bases": [len(p.bases) for p in parts],
        "participants": [len(p.participants) for p in parts],
        "wall_s": round(time.monotonic() - t0, 2),
    }
    return start, parts, stats


def merged_plan(
    inst: Instance, start: Plan, parts: list[Part], answers: dict[int, list[Assignment]]
) -> Plan:
    """The merge as a validated plan; the start (and why) if the merge broke a rule."""
    from scheduler.solve import plan_of

    sessions = merge(inst, start, parts, answers)
    stats: dict[str, Any] = {
        "status": "MERGED",
        "parts": len(parts),
        "answered": sorted(answers),
        "fallback": None,
    }
    plan = plan_of(inst, sessions, stats)
    broken = validate(inst, plan)
    if broken:  # never expected: parts share no base and no participant
        stats["fallback"] = f"start: the merge broke {len(broken)} rule(s), first {broken[0]}"
        plan = plan_of(inst, list(start.assignments), stats)
    plan.stats["violations"] = 0
    return plan


def solve_in_parts(
    inst: Instance, *, k: int, time_limit_s: float, workers: int, seed: int | None
) -> Plan:
    """The whole parted solve in this process, the parts one after another."""
    from scheduler.solve import solve

    t0 = time.monotonic()
    start, parts, _ = prepare(inst, k, t0 + PREPARE_SHARE * time_limit_s)
    each = PARTS_SHARE * time_limit_s / max(1, len(parts))
    rng = random.Random(seed)
    answers = {
        p.index: solve_part(
            inst, start, p, time_limit_s=each, workers=workers, seed=rng.randrange(1 << 30)
        )
        for p in parts
    }
    merged = merged_plan(inst, start, parts, answers)
    left = time_limit_s - (time.monotonic() - t0)
    plan = solve(
        inst,
        time_limit_s=max(1.0, left),
        workers=workers,
        seed=seed,
        previous=merged,
        start_orders=False,
    )
    plan.stats["parts"] = len(parts)
    plan.stats["wall_s"] = round(time.monotonic() - t0, 2)
    return plan


# ---------------------------------------------------------------------------- commands


def _split_of(path: str, inst: Instance) -> tuple[Plan, list[Part]]:
    try:
        return read_split(read_json(path), inst)
    except (FormatError, ValueError) as e:
        raise _Bad(f"{path}: {e}") from None


def _answers(
    paths: Iterable[str], inst: Instance, parts: list[Part]
) -> dict[int, list[Assignment]]:
    out: dict[int, list[Assignment]] = {}
    for path in paths:
        try:
            index, sessions = read_part(read_json(path), inst)
        except (FormatError, ValueError) as e:
            raise _Bad(f"{path}: {e}") from None
        if index >= len(parts) or index in out:
            raise _Bad(f"{path}: part {index} is not in the split or comes twice")
        out[index] = sessions
    return out


def _write(doc: Any, path: str) -> None:
    try:
        write_json(doc, path)
    except OSError as e:
        raise _Bad(f"{path}: cannot write ({e.strerror})") from None


def cmd_split(args: argparse.Namespace) -> int:
    from scheduler.cli import _consistent_instance

    t0 = time.monotonic()
    inst = _consistent_instance(args.instance)
    start, parts, stats = prepare(inst, args.parts, t0 + args.time_limit)
    _write(split_doc(inst, start, parts, stats), args.output)
    print(
        f"{inst.name}: start {stats['warm_start']} (weighted served {stats['objective']:,}), "
        f"{len(parts)} parts of {stats['bases']} bases -> {args.output}"
    )
    return 0


def cmd_part(args: argparse.Namespace) -> int:
    from scheduler.cli import _instance

    t0 = time.monotonic()
    inst = _instance(args.instance)
    start, parts = _split_of(args.split, inst)
    if not 0 <= args.part < len(parts):
        raise _Bad(f"--part {args.part}: the split has parts 0 to {len(parts) - 1}")
    part = parts[args.part]
    sessions = solve_part(
        inst,
        start,
        part,
        time_limit_s=max(0.5, args.time_limit - (time.monotonic() - t0)),
        workers=args.workers,
        seed=args.seed,
    )
    weighted = sum(inst.weight_of(a.request) for a in sessions)
    before = sum(
        inst.weight_of(a.request)
        for a in start.assignments
        if inst.request_by_id[a.request].participant in part.participants
    )
    stats = {
        "weighted_before": before,
        "weighted": weighted,
        "wall_s": round(time.monotonic() - t0, 2),
    }
    _write(part_doc(inst, part, sessions, stats), args.output)
    print(f"part {part.index}: weighted served {before:,} -> {weighted:,} -> {args.output}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from scheduler.cli import _instance, _write_plan

    t0 = time.monotonic()
    inst = _instance(args.instance)
    start, parts = _split_of(args.split, inst)
    plan = merged_plan(inst, start, parts, _answers(args.answers, inst, parts))
    _write_plan(inst, plan, args.output)
    print(summary(inst, plan, wall_s=time.monotonic() - t0))
    print(f"plan written to {args.output}")
    return 0
