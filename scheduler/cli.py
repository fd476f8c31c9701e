"""``python -m scheduler``: solve, check, greedy, explain and generate weeks from the command line.

    python -m scheduler solve INSTANCE -o PLAN [--time-limit S] [--workers N] [--seed N]
                                               [--progress-file F]
    python -m scheduler check INSTANCE PLAN          exit 0 valid, 1 a hard rule broken, 2 unreadable
    python -m scheduler greedy INSTANCE -o PLAN
    python -m scheduler explain INSTANCE PLAN [--request ID] [--json]
    python -m scheduler bound INSTANCE [--time-limit S]   the LP bound on weighted served
    python -m scheduler generate --size {tiny,S,M,L,P} --seed N [--programme] -o FILE
    python -m scheduler split | part | merge ...      a week solved in parts (``parts_cli.py``)

Bad input ends with one line on stderr and exit status 2, without a traceback and without writing
any file; a plan that breaks a hard rule is never written. ``solve`` is also the app's solver
child: a run starts it in a process of its own and reads its progress from the file named by
``--progress-file`` (or ``$CHUNLEI_PROGRESS_FILE``), one JSON object rewritten atomically. ``solve`` imports the CP-SAT solver
only when it runs, so the other commands work without it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import NoReturn, TypeVar

from scheduler.console import Progress, ProgressFile, summary
from scheduler.domain import Instance, Plan
from scheduler.io import (
    FormatError,
    dump_instance,
    dump_plan,
    load_instance,
    load_plan,
    write_json,
)
from scheduler.metrics import figures
from scheduler.validate import check_instance, validate

EXIT_OK, EXIT_BROKEN, EXIT_BAD_INPUT = 0, 1, 2
#: Defaults follow config.py's environment variables, so the CLI and the app agree.
DEFAULT_TIME_LIMIT_S = float(os.environ.get("SOLVER_TIME_LIMIT_S", 60.0))
DEFAULT_WORKERS = int(os.environ.get("SOLVER_WORKERS", 2))
MAX_LINES = 30
#: Environment variable naming the file where a solver child reports its progress.
PROGRESS_ENV = "CHUNLEI_PROGRESS_FILE"


class UserError(Exception):
    """Bad input: printed as one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + error
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


# ---------------------------------------------------------------------------- loading


T = TypeVar("T")


def _read(load: Callable[[str], T], path: str) -> T:
    """``load(path)``, with a FormatError turned into a one-line UserError naming the file."""
    try:
        return load(path)
    except FormatError as e:
        raise UserError(str(e) if str(e).startswith(str(path)) else f"{path}: {e}") from None


def _instance(path: str) -> Instance:
    return _read(load_instance, path)


def _consistent_instance(path: str) -> Instance:
    """The instance, refused when its own bookings break a hard rule (named in the message)."""
    inst = _instance(path)
    problems = check_instance(inst)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UserError(f"{path}: inconsistent input: {problems[0]}{more}")
    return inst


def _plan(path: str) -> Plan:
    return _read(load_plan, path)


def _write_plan(inst: Instance, plan: Plan, path: str) -> None:
    """Write the plan, but only a valid one (``solve`` marks the plan it validated itself)."""
    broken = [] if plan.stats.get("violations") == 0 else validate(inst, plan)
    if broken:
        raise UserError(f"refusing to write an invalid plan: {broken[0]} ({len(broken)} in all)")
    try:
        write_json(dump_plan(plan), path)
    except OSError as e:
        raise UserError(f"{path}: cannot write ({e.strerror})") from None


# ---------------------------------------------------------------------------- commands


def cmd_solve(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    report = ProgressFile(args.progress_file or os.environ.get(PROGRESS_ENV))
    report.write("loading")
    inst = _consistent_instance(args.instance)
    try:
        from scheduler.solve import solve  # ortools is loaded here only
    except ImportError as e:
        raise UserError(f"the CP-SAT solver is not available ({e})") from None

    progress = Progress(every_s=args.progress_every)

    def on_progress(elapsed_s: float, objective: float, bound: float) -> None:
        progress(elapsed_s, objective, bound)
        report(elapsed_s, objective, bound)

    report.write("solving")
    previous = _plan(args.start) if args.start else None
    try:
        if args.parts and args.parts > 1:
            from scheduler.parts_cli import solve_in_parts

            plan = solve_in_parts(
                inst,
                k=args.parts,
                time_limit_s=max(0.5, args.time_limit - (time.monotonic() - t0)),
                workers=args.workers,
                seed=args.seed,
            )
        else:
            # Without ``--start`` the solver starts from greedy, which keeps every current
            # booking and fills free slots first-come-first-served (never worse, no moves).
            plan = solve(
                inst,
                time_limit_s=max(0.5, args.time_limit - (time.monotonic() - t0)),
                workers=args.workers,
                seed=args.seed,
                on_progress=on_progress,
                previous=previous,
                start_orders=previous is None,
            )
    except ValueError as e:  # the solver's own input errors (FormatError is one)
        raise UserError(f"{args.instance}: {e}") from None
    finally:
        progress.close()
    _write_plan(inst, plan, args.output)
    report.write(
        "done",
        objective=plan.stats.get("objective"),
        bound=plan.stats.get("bound"),
        status=plan.stats.get("status"),
    )
    print(summary(inst, plan, wall_s=time.monotonic() - t0))
    print(f"plan written to {args.output}")
    return EXIT_OK


def cmd_greedy(args: argparse.Namespace) -> int:
    from scheduler.greedy import greedy

    t0 = time.monotonic()
    inst = _consistent_instance(args.instance)
    plan = greedy(inst)
    _write_plan(inst, plan, args.output)
    print(summary(inst, plan, wall_s=time.monotonic() - t0))
    print(f"plan written to {args.output}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    inst = _instance(args.instance)
    plan = _plan(args.plan)
    for v in check_instance(inst)[:MAX_LINES]:
        print(f"INPUT  {v}")
    broken = validate(inst, plan)
    for v in broken[:MAX_LINES]:
        print(f"BROKEN {v}")
    if len(broken) > MAX_LINES:
        print(f"BROKEN ... and {len(broken) - MAX_LINES} more")
    f = figures(inst, plan)
    f["violations"] = len(broken)
    if args.json:
        print(json.dumps(f, ensure_ascii=False, sort_keys=True))
    else:
        print(summary(inst, plan))
        print(
            f"verdict             {'VALID' if not broken else f'BROKEN ({len(broken)} violations)'}"
        )
    return EXIT_BROKEN if broken else EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from scheduler.explain import explain

    inst = _instance(args.instance)
    plan = _plan(args.plan)
    if args.request:
        unknown = [r for r in args.request if r not in inst.request_by_id]
        if unknown:
            raise UserError(f"unknown request(s): {', '.join(unknown)}")
    broken = validate(inst, plan)
    if broken:
        print(
            f"warning: the plan breaks hard rules ({broken[0]}); reasons may mislead",
            file=sys.stderr,
        )
    found = explain(inst, plan, args.request or None)
    if args.json:
        doc = [
            {
                "request": e.request,
                "participant": e.participant,
                "asked": e.asked,
                "served": e.served,
                "missing": e.missing,
                "denials": [{"code": d.code, "zh": d.zh, "en": d.en} for d in e.denials],
            }
            for e in found
        ]
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return EXIT_OK
    for e in found:
        print(f"{e.request} ({e.participant}): asked {e.asked}, served {e.served}")
        grouped: dict[tuple[str, str, str], int] = {}
        for d in e.denials:
            grouped[(d.code, d.zh, d.en)] = grouped.get((d.code, d.zh, d.en), 0) + 1
        for (code, zh, en), n in grouped.items():
            print(f"  {n} × {code}")
            print(f"      {zh}")
            print(f"      {en}")
    if not found:
        print("every request is served in full")
    else:
        short = sum(1 for e in found if e.missing)
        print(f"{short} request(s) left short, {sum(e.missing for e in found)} session(s) missing")
    return EXIT_OK


def cmd_bound(args: argparse.Namespace) -> int:
    from scheduler.bound import served_bound
    from scheduler.candidates import eligibility
    from scheduler.greedy import greedy
    from scheduler.solve import new_sessions

    t0 = time.monotonic()
    inst = _consistent_instance(args.instance)
    deadline = None if args.time_limit is None else t0 + args.time_limit
    # Greedy's plan (seconds, even on the programme week) gives the first columns.
    start = new_sessions(inst, greedy(inst))
    value = served_bound(inst, eligibility(inst), deadline=deadline, start=start)
    if value is None:
        raise UserError("the LP solver found no dual solution for this week")
    stopped = deadline is not None and time.monotonic() >= deadline
    how = (
        "stopped by the time limit: the looser Lagrangian bound" if stopped else "the LP's optimum"
    )
    print(f"weighted served ≤ {value}  ({how}, {time.monotonic() - t0:.1f} s)")
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    from scheduler.generate import SIZES, generate

    if args.size not in SIZES:
        raise UserError(f"unknown size {args.size!r}; one of {', '.join(SIZES)}")
    inst = generate(args.size, seed=args.seed, programme=args.programme)
    try:
        write_json(dump_instance(inst), args.output)
    except OSError as e:
        raise UserError(f"{args.output}: cannot write ({e.strerror})") from None
    print(
        f"{inst.name}: {len(inst.bases)} bases, {len(inst.slots)} slots, "
        f"{len(inst.participants)} participants, {len(inst.requests)} requests, "
        f"{len(inst.bookings)} bookings -> {args.output}"
    )
    return EXIT_OK


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m scheduler", description="Chunlei's week scheduler (春雷排期).")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("solve", help="CP-SAT: place the week, write a valid plan")
    s.add_argument("instance")
    s.add_argument("-o", "--output", required=True, metavar="PLAN")
    s.add_argument("--time-limit", type=_positive(float), default=DEFAULT_TIME_LIMIT_S, metavar="S")
    s.add_argument("--workers", type=_positive(int), default=DEFAULT_WORKERS, metavar="N")
    s.add_argument("--seed", type=int, default=None, metavar="N")
    s.add_argument("--progress-every", type=float, default=5.0, help=argparse.SUPPRESS)
    s.add_argument("--progress-file", metavar="F", help="report progress as JSON to this file")
    s.add_argument("--start", metavar="PLAN", help="start from this plan (a parted solve's seam)")
    s.add_argument("--parts", type=_positive(int), metavar="K", help="solve in K parts, in turn")
    s.set_defaults(run=cmd_solve)

    c = sub.add_parser("check", help="validate a plan: every hard rule, then its figures")
    c.add_argument("instance")
    c.add_argument("plan")
    c.add_argument("--json", action="store_true", help="figures as one JSON line")
    c.set_defaults(run=cmd_check)

    g = sub.add_parser("greedy", help="first-come-first-served baseline plan")
    g.add_argument("instance")
    g.add_argument("-o", "--output", required=True, metavar="PLAN")
    g.set_defaults(run=cmd_greedy)

    e = sub.add_parser("explain", help="why each request left short got what it got")
    e.add_argument("instance")
    e.add_argument("plan")
    e.add_argument("--request", action="append", metavar="ID", help="this request (repeatable)")
    e.add_argument("--json", action="store_true", help="structured output for programs")
    e.set_defaults(run=cmd_explain)

    b = sub.add_parser("bound", help="an upper bound on weighted served (the LP relaxation)")
    b.add_argument("instance")
    b.add_argument("--time-limit", type=_positive(float), default=None, metavar="S")
    b.set_defaults(run=cmd_bound)

    n = sub.add_parser("generate", help="a random but realistic week, deterministic per seed")
    n.add_argument("--size", default="M", help="tiny, S, M, L or P (the whole programme)")
    n.add_argument("--seed", type=int, default=0)
    n.add_argument(
        "--programme",
        action="store_true",
        help="with categories, prime_recent, harvest lots and category separation",
    )
    n.add_argument("-o", "--output", required=True, metavar="FILE")
    n.set_defaults(run=cmd_generate)

    from scheduler.parts_cli import add_parsers

    add_parsers(sub, _positive)
    return p


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value

    parse.__name__ = kind.__name__
    return parse


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
