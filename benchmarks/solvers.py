"""Greedy, the CP-SAT solver and the HiGHS MIP side by side: ``python -m benchmarks.solvers``.

    python -m benchmarks.solvers [--instances S M L FILE ...] [--solvers greedy cpsat highs]
                                 [--repeats 3] [--time-limit 60] [--highs-time-limit 300]
                                 [--workers 2] [--markdown] [--save FILE] [--load FILE ...]

By default it runs generated S / M / L weeks (``scheduler.generate``, seed 1) and the shared
samples (``../shared/instances/*.json``) when they are there. Every run is a child process
(``--child``) so that its wall time includes loading and building, and its peak memory is the
child's own ``ru_maxrss`` (from ``os.wait4``), not this process's. That figure cannot be lower than
this process's resident set at the fork (about 20 MB: it imports nothing of the solver). Each child validates its plan
with ``scheduler.validate``; a broken plan shows in the ``valid`` column.

The table gives medians over the repeats (HiGHS, deterministic, runs ``--highs-repeats`` times):
weighted served, worst-region ratio, utilization spread, the solver's objective / bound / gap
(greedy has no bound; CP-SAT's and HiGHS's are in weighted-served units), wall seconds, peak MB,
then weighted served and wall time as ratios to HiGHS. HiGHS starts from greedy's plan (a MIP
start; ``--highs-no-start`` for none) and is skipped (``out of reach``) when a week has more than
``--highs-max-placements`` placements. ``--save`` writes the rows as JSON and ``--load`` shows
saved rows with a run's own (say, a long HiGHS run beside a CP-SAT run). Never part of the
test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_INSTANCES = ROOT.parent / "shared" / "instances"
SOLVERS = ("greedy", "cpsat", "highs")
GENERATED = ("S", "M", "L")
SIZES = ("tiny", "S", "M", "L")  # scheduler.generate's, named here to keep this process small
#: A child still running after KILL_FACTOR x its time limit + KILL_GRACE_S seconds is killed.
KILL_FACTOR, KILL_GRACE_S = 2.0, 120.0


# ---------------------------------------------------------------------------- one run (child)


def child(args: argparse.Namespace) -> int:
    """Run one solver on one instance and write its result as JSON."""
    from scheduler.io import load_instance
    from scheduler.metrics import figures
    from scheduler.validate import validate

    inst = load_instance(args.instance)
    out: dict = {"solver": args.solver}
    if args.solver == "greedy":
        from scheduler.greedy import greedy

        plan = greedy(inst)
        out.update(status="GREEDY", objective=plan.stats["weighted_served"], bound=None)
    elif args.solver == "cpsat":
        from scheduler.solve import solve

        plan = solve(inst, time_limit_s=args.time_limit, workers=args.workers, seed=args.seed)
        out.update(
            status=plan.stats.get("status"),
            objective=plan.stats.get("objective"),
            bound=plan.stats.get("bound"),
            fallback=plan.stats.get("fallback"),
        )
    else:
        from benchmarks.highs_mip import TooBig, solve_highs

        start = None
        if not args.highs_no_start:
            from scheduler.greedy import greedy

            start = greedy(inst)
        try:
            res = solve_highs(
                inst,
                time_limit_s=args.time_limit,
                threads=args.workers,
                max_placements=args.highs_max_placements,
                start=start,
            )
        except TooBig as e:
            out.update(status="out of reach", note=str(e))
            Path(args.result).write_text(json.dumps(out), encoding="utf-8")
            return 0
        if res.plan is None:
            out.update(status=res.status, bound=res.bound)
            Path(args.result).write_text(json.dumps(out), encoding="utf-8")
            return 0
        plan = res.plan
        out.update(status=res.status, objective=res.best, bound=res.bound)
    f = figures(inst, plan)
    out.update(
        valid=not validate(inst, plan),
        weighted_served=f["weighted_served"],
        weighted_asked=f["weighted_asked"],
        min_region_ratio=f["min_region_ratio"],
        utilization_stdev=f["utilization_stdev"],
    )
    Path(args.result).write_text(json.dumps(out), encoding="utf-8")
    return 0


def run_child(solver: str, instance: Path, opts: argparse.Namespace) -> dict:
    """One child run: its result, wall seconds and peak resident memory (MB)."""
    limit = opts.highs_time_limit if solver == "highs" else opts.time_limit
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result = Path(f.name)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.solvers",
        "--child",
        solver,
        str(instance),
        str(result),
        "--time-limit",
        str(limit),
        "--workers",
        str(opts.workers),
        "--seed",
        str(opts.seed),
        "--highs-max-placements",
        str(opts.highs_max_placements),
        *(["--highs-no-start"] if opts.highs_no_start else []),
    ]
    t0 = time.monotonic()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=devnull, stderr=subprocess.PIPE)
        # A solver that overruns its limit this much (HiGHS's presolve does not look at the
        # clock) is stopped, and the row says so.
        watchdog = threading.Timer(KILL_FACTOR * limit + KILL_GRACE_S, proc.kill)
        watchdog.start()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        _, status, usage = os.wait4(proc.pid, 0)
        watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    try:
        out = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        if proc.returncode == -signal.SIGKILL:
            last = f"killed after {wall:.0f} s"
        else:
            last = err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"
        out = {"solver": solver, "status": f"failed: {last}", "error": err[-4000:]}
    finally:
        result.unlink(missing_ok=True)
    out.update(wall_s=wall, peak_mb=usage.ru_maxrss / 1024)  # Linux: ru_maxrss in KiB
    return out


# ---------------------------------------------------------------------------- table


def _median(rows: list[dict], key: str):
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def summarize(label: str, solver: str, runs: list[dict]) -> dict:
    first = runs[0]
    row = {"instance": label, "solver": solver, "runs": len(runs)}
    for key in (
        "weighted_served",
        "min_region_ratio",
        "utilization_stdev",
        "objective",
        "bound",
        "wall_s",
        "peak_mb",
    ):
        row[key] = _median(runs, key)
    planned = [r for r in runs if "valid" in r]
    row["valid"] = all(r["valid"] for r in planned) if planned else None
    failed = [r["status"] for r in runs if str(r.get("status", "")).startswith("failed")]
    if failed:
        row["status"] = f"{failed[0]} ({len(failed)} of {len(runs)} runs)"
        row["errors"] = [r.get("error") for r in runs if r.get("error")]
    else:
        row["status"] = planned[0]["status"] if planned else first.get("status")
    obj, bound = row["objective"], row["bound"]
    row["gap"] = abs(bound - obj) / abs(bound) if obj is not None and bound else None
    return row


def add_ratios(rows: list[dict]) -> None:
    """Weighted served as a share of HiGHS's best and of its bound; wall time over HiGHS's."""
    highs = {r["instance"]: r for r in rows if r["solver"] == "highs"}
    for r in rows:
        h = highs.get(r["instance"])
        if h is None or r["weighted_served"] is None:
            continue
        if h["weighted_served"]:
            r["served_vs_highs"] = r["weighted_served"] / h["weighted_served"]
        if h["bound"]:
            r["served_vs_highs_bound"] = r["weighted_served"] / h["bound"]
        if h["weighted_served"] or h["bound"]:
            r["time_vs_highs"] = r["wall_s"] / h["wall_s"]


RATIOS = ("served_vs_highs", "served_vs_highs_bound", "time_vs_highs")
COLUMNS = (
    ("instance", "instance", "{}"),
    ("solver", "solver", "{}"),
    ("weighted_served", "w. served", "{:,.0f}"),
    ("min_region_ratio", "min region", "{:.3f}"),
    ("utilization_stdev", "util stdev", "{:.4f}"),
    ("objective", "objective", "{:,.0f}"),
    ("bound", "bound", "{:,.0f}"),
    ("gap", "gap", "{:.2%}"),
    ("wall_s", "wall s", "{:.1f}"),
    ("peak_mb", "peak MB", "{:,.0f}"),
    ("valid", "valid", "{}"),
    ("served_vs_highs", "served/HiGHS", "{:.4f}"),
    ("served_vs_highs_bound", "served/bound", "{:.4f}"),
    ("time_vs_highs", "time/HiGHS", "{:.3f}"),
    ("status", "status", "{}"),
)


def render(rows: list[dict], markdown: bool) -> str:
    def cell(row, key, fmt):
        v = row.get(key)
        return "-" if v is None else fmt.format(v)

    table = [[head for _, head, _ in COLUMNS]]
    table += [[cell(r, k, f) for k, _, f in COLUMNS] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(r) + " |" for r in table[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in table)


# ---------------------------------------------------------------------------- main


def instances(names: list[str] | None, workdir: Path, seed: int) -> list[tuple[str, Path]]:
    """(label, path) of the weeks to run: generated sizes by name, files by path."""
    if not names:
        names = list(GENERATED) + sorted(str(p) for p in SHARED_INSTANCES.glob("*.json"))
    out = []
    for name in names:
        if name in SIZES:
            path = workdir / f"generated-{name}-seed{seed}.json"
            # In a child too: this process must stay small, for a child's ru_maxrss starts
            # from its parent's resident set at the fork.
            generate = ["-m", "scheduler", "generate", "--size", name, "--seed", str(seed)]
            subprocess.run(
                [sys.executable, *generate, "-o", str(path)],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            out.append((f"gen-{name}", path))
        else:
            out.append((Path(name).stem, Path(name)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.solvers", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "--child", nargs=3, metavar=("SOLVER", "INSTANCE", "RESULT"), help=argparse.SUPPRESS
    )
    p.add_argument("--instances", nargs="*", help="S, M, L, tiny (generated) or instance files")
    p.add_argument("--solvers", nargs="*", default=list(SOLVERS), choices=SOLVERS)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--highs-repeats", type=int, default=1, help="HiGHS is deterministic")
    p.add_argument("--time-limit", type=float, default=60.0, help="CP-SAT seconds")
    p.add_argument("--highs-time-limit", type=float, default=300.0)
    p.add_argument("--highs-max-placements", type=int, default=2_000_000)
    p.add_argument("--highs-no-start", action="store_true", help="no greedy MIP start for HiGHS")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1, help="generated weeks' and CP-SAT's seed")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--save", metavar="FILE", help="also write the table's rows as JSON")
    p.add_argument(
        "--load",
        nargs="*",
        default=[],
        metavar="FILE",
        help="rows saved by earlier runs, shown with this run's (a later row of the same "
        "instance and solver wins); with no --instances, nothing new is run",
    )
    args = p.parse_args(argv)

    if args.child:
        args.solver, args.instance, args.result = args.child
        return child(args)

    rows = [row for f in args.load for row in json.loads(Path(f).read_text(encoding="utf-8"))]
    only_load = bool(args.load) and args.instances is None
    with tempfile.TemporaryDirectory(prefix="chunlei-bench-") as tmp:
        weeks = [] if only_load else instances(args.instances, Path(tmp), args.seed)
        for label, path in weeks:
            for solver in args.solvers:
                repeats = args.highs_repeats if solver == "highs" else args.repeats
                if solver == "greedy":
                    repeats = max(1, args.repeats)
                runs = []
                for k in range(repeats):
                    r = run_child(solver, path, args)
                    runs.append(r)
                    print(
                        f"{label:>14} {solver:>6} #{k + 1}: {r.get('status')} "
                        f"served {r.get('weighted_served')} in {r['wall_s']:.1f} s, "
                        f"{r['peak_mb']:.0f} MB",
                        file=sys.stderr,
                        flush=True,
                    )
                    if r.get("weighted_served") is None:
                        break  # out of reach or failed: repeating will not change that
                rows.append(summarize(label, solver, runs))
    latest = {(r["instance"], r["solver"]): r for r in rows}
    order = {label: k for k, label in enumerate(dict.fromkeys(r["instance"] for r in rows))}
    rows = sorted(latest.values(), key=lambda r: (order[r["instance"]], SOLVERS.index(r["solver"])))
    for r in rows:
        for key in RATIOS:
            r.pop(key, None)
    if args.save:
        Path(args.save).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    add_ratios(rows)
    print(render(rows, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
