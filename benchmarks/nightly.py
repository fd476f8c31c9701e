"""The nightly run of a whole-programme week through the job queue, on 1 and on 2 workers.

    python -m benchmarks.nightly [--week FILE | --seed-programme] [--workers 1 2] [--time-limit 300]
                                 [--parts 4] [--referee CHECK_PLAN] [--postgres URL] [--redis URL]

A scratch PostgreSQL database is migrated and loaded once (``flask import-week`` of ``--week``,
by default the exchange's ``sample-programme.json.gz`` beside the checkout; or ``flask seed-demo
--programme``). For each count of ``--workers`` a copy of it (``CREATE DATABASE … TEMPLATE``) gets
that many ``flask worker`` processes on a Redis queue of its own, and the nightly job is queued
as the clock queues it (``queue_nightly``). The run is solved in ``--parts`` parts
(``app/services/runs/parts.py``); every part gets the same time whatever the workers
(``SOLVER_PART_WORKERS=2``), so the runs do the same work and differ in how it is spread.

Measured: the run's wall time (queued → ended, from its row), its phases (split: the run's
start → the first part's start; parts: first part start → last part end; the rest: merge, seam,
checks, apply), each part's time and worker, the week's weighted served before and after, and the
peak resident memory of any one process of the run (a worker or a solver child, from
``/proc/*/status`` ``VmHWM``, sampled each second). Afterwards the week and its bookings are
exported (``flask export-week``, ``flask export-plan``) and checked by ``python -m scheduler
check`` and, when given or found, by the exchange's referee (``check_plan.py``). At the end: the
1 vs 2 workers ratio and Amdahl's law for 8 workers from the measured sequential share. The
databases are dropped unless ``--keep``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SHARED = next(
    (p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if p.exists()),
    ROOT.parent / "shared",
)
QUEUE_NIGHTLY = (
    "from wsgi import app\n"
    "from app.services.runs.nightly import queue_nightly\n"
    "with app.app_context():\n"
    "    print(' '.join(str(r.id) for r in queue_nightly()))\n"
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--week", type=Path, default=SHARED / "instances" / "sample-programme.json.gz")
    p.add_argument("--seed-programme", action="store_true", help="flask seed-demo --programme")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--time-limit", type=float, default=300.0)
    p.add_argument("--parts", type=int, default=4)
    p.add_argument("--referee", type=Path, default=SHARED / "tools" / "check_plan.py")
    p.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--redis", default="redis://127.0.0.1:6379")
    p.add_argument("--keep", action="store_true", help="keep the databases and files")
    return p.parse_args(argv)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.base = args.postgres.rstrip("/")
        self.tag = secrets.token_hex(4)
        self.tmp = Path(tempfile.mkdtemp(prefix="chunlei-nightly-"))
        self.databases: list[str] = []

    def env(self, db_name: str, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": f"{self.base}/{db_name}",
            "QUEUE_URL": f"{self.args.redis.rstrip('/')}/0",
            "QUEUE_NAME": f"bench-nightly-{self.tag}-{db_name}",
            "SECRET_KEY": secrets.token_hex(16),
            "FLASK_APP": "wsgi",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }

    def admin(self, sql: str) -> None:
        with psycopg.connect(f"{self.base}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    def flask(self, env: dict[str, str], *argv: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "flask", *argv], cwd=ROOT, env=env, capture_output=True,
            text=True, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            raise SystemExit(f"flask {' '.join(argv)} failed: {out.stderr.strip()[-400:]}")
        return out.stdout

    def create(self, name: str, template: str | None = None) -> None:
        extra = f' TEMPLATE "{template}"' if template else ""
        self.admin(f'CREATE DATABASE "{name}"{extra}')
        self.databases.append(name)

    def load(self) -> str:
        name = f"chunlei_bench_nightly_{self.tag}"
        self.create(name)
        env = self.env(name)
        self.flask(env, "db", "upgrade")
        t0 = time.monotonic()
        if self.args.seed_programme:
            self.flask(env, "seed-demo", "--programme")
            how = "seed-demo --programme"
        else:
            week = self.args.week
            if week.suffix == ".gz":
                plain = self.tmp / week.stem
                with gzip.open(week, "rb") as src, open(plain, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                week = plain
            self.flask(env, "import-week", str(week))
            how = f"import-week {self.args.week.name}"
        print(f"loaded the week ({how}) in {time.monotonic() - t0:.1f} s", flush=True)
        return name

    def cleanup(self) -> None:
        if self.args.keep:
            print(f"kept: databases {self.databases}, files {self.tmp}")
            return
        for name in reversed(self.databases):
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(self.tmp, ignore_errors=True)


def descendants(pids: list[int]) -> set[int]:
    """The processes and all their children, from /proc."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parent[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    out, todo = set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.add(pid)
        todo.extend(c for c, p in parent.items() if p == pid)
    return out


def hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def one_run(bench: Bench, template: str, n_workers: int) -> dict:
    args = bench.args
    name = f"{template}_w{n_workers}"
    bench.create(name, template)
    runs_dir = bench.tmp / f"runs-{n_workers}"
    env = bench.env(
        name,
        RUNS_DIR=str(runs_dir),
        SOLVER_TIME_LIMIT_S=f"{args.time_limit:g}",
        SOLVER_PARTS=str(args.parts),
        SOLVER_PART_WORKERS="2",
        SOLVER_PARTS_MIN_REQUESTS="1",
    )
    procs = []
    for k in range(n_workers):
        log = open(bench.tmp / f"worker-{n_workers}-{k}.log", "w")  # noqa: SIM115
        procs.append(subprocess.Popen([sys.executable, "-m", "flask", "worker"], cwd=ROOT,
                                      env=env, stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
    peak = 0.0
    try:
        time.sleep(3)  # the workers start
        out = subprocess.run([sys.executable, "-c", QUEUE_NIGHTLY], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
        run_id = int(out.stdout.split()[0])
        print(f"  {n_workers} worker(s): nightly run #{run_id} queued", flush=True)
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            while True:
                for pid in descendants([p.pid for p in procs]):
                    peak = max(peak, hwm_mb(pid))
                state = conn.execute(
                    "SELECT state FROM optimization_runs WHERE id = %s", (run_id,)
                ).fetchone()[0]
                if state not in ("queued", "running"):
                    break
                time.sleep(1.0)
            row = conn.execute(
                "SELECT state, message, started_at, finished_at, kpis_before, kpis, wall_s, "
                "job_id FROM optimization_runs WHERE id = %s",
                (run_id,),
            ).fetchone()
            state, message, started, finished, before, after, solve_s, job_id = row
            run_job = conn.execute(
                "SELECT started_at, enqueued_at FROM jobs WHERE id = %s", (job_id,)
            ).fetchone()
            parts = conn.execute(
                "SELECT payload, worker, started_at, finished_at, status, result FROM jobs "
                "WHERE kind = 'runs.part' ORDER BY id"
            ).fetchall()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    week = bench.tmp / f"week-{n_workers}.json"
    plan = bench.tmp / f"plan-{n_workers}.json"
    monday = json.loads(
        subprocess.run([sys.executable, "-c", _WEEK_START], cwd=ROOT, env=env,
                       capture_output=True, text=True, check=True).stdout
    )  # fmt: skip
    bench.flask(env, "export-week", "--week", monday, "-o", str(week))
    bench.flask(env, "export-plan", "--week", monday, "-o", str(plan))
    ours = subprocess.run([sys.executable, "-m", "scheduler", "check", str(week), str(plan),
                           "--json"], cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip
    figures = json.loads(ours.stdout.strip().splitlines()[-1]) if ours.stdout.strip() else {}
    referee = None
    if args.referee and args.referee.exists():
        ref = subprocess.run([sys.executable, str(args.referee), str(week), str(plan)],
                             capture_output=True, text=True, check=False)  # fmt: skip
        line = next((x for x in reversed(ref.stdout.splitlines()) if x.startswith("{")), "")
        ref_doc = json.loads(line[: line.rindex("}") + 1]) if line else {}
        referee = (ref.returncode, ref_doc.get("violations"))
    part_rows = [
        {
            "part": payload["part"],
            "worker": worker,
            "s": (end - start).total_seconds() if start and end else None,
            "status": status,
            "skipped": (result or {}).get("skipped"),
        }
        for payload, worker, start, end, status, result in parts
    ]
    starts = [r[2] for r in parts if r[2]]
    ends = [r[3] for r in parts if r[3]]
    wall = (finished - run_job[1]).total_seconds()
    split_s = (min(starts) - run_job[0]).total_seconds() if starts else None
    parts_s = (max(ends) - min(starts)).total_seconds() if starts and ends else None
    rest_s = (finished - max(ends)).total_seconds() if ends else None
    return {
        "workers": n_workers,
        "run": run_id,
        "state": state,
        "message": message,
        "wall_s": wall,
        "solve_s": solve_s,
        "split_s": split_s,
        "parts_s": parts_s,
        "rest_s": rest_s,
        "parts": part_rows,
        "before": (before or {}).get("weighted_served"),
        "after": (after or {}).get("weighted_served"),
        "violations": figures.get("violations"),
        "referee": referee,
        "min_region": figures.get("min_region_ratio"),
        "util_stdev": figures.get("utilization_stdev"),
        "peak_mb": round(peak),
    }


_WEEK_START = (
    "import json\n"
    "from wsgi import app\n"
    "from app.services.runs.nightly import nightly_weeks\n"
    "with app.app_context():\n"
    "    print(json.dumps(nightly_weeks()[0].week_start.isoformat()))\n"
)


def report(rows: list[dict], parts: int) -> None:
    print()
    print("| workers | state | wall s | split s | parts s | each part s (median) | merge + seam + apply s "
          "| weighted served before → after | violations (ours / referee) | worst region | util stdev "
          "| peak MB |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        each = [p["s"] for p in r["parts"] if p["s"] is not None and not p["skipped"]]
        referee = "-" if r["referee"] is None else f"{r['referee'][1]} (exit {r['referee'][0]})"
        print(
            f"| {r['workers']} | {r['state']} | {r['wall_s']:.1f} | {_f(r['split_s'])} | "
            f"{_f(r['parts_s'])} | {_f(statistics.median(each) if each else None)} | "
            f"{_f(r['rest_s'])} | {r['before']:,} → {r['after']:,} | {r['violations']} / {referee} | "
            f"{r['min_region']} | {r['util_stdev']} | {r['peak_mb']} |"
        )
    for r in rows:
        where = ", ".join(
            f"{p['part']}:{p['worker'].split(':')[-1]} {_f(p['s'])} s" for p in r["parts"]
        )
        print(
            f"  {r['workers']} worker(s), run #{r['run']}: parts (part:pid time) {where}; {r['message']}"
        )
    by = {r["workers"]: r for r in rows}
    if 1 in by and 2 in by:
        one, two = by[1], by[2]
        print(f"\nwall, 2 workers / 1 worker: {two['wall_s'] / one['wall_s']:.2f}")
        if one["parts_s"]:
            serial = one["wall_s"] - one["parts_s"]
            share = serial / one["wall_s"]
            each = one["parts_s"] / parts
            for n in (2, 4, 8):
                rounds = -(-parts // n)
                print(
                    f"  {n} workers, {parts} parts: {serial:.0f} s sequential + {rounds} × "
                    f"{each:.0f} s = {serial + rounds * each:.0f} s (Amdahl with the measured "
                    f"sequential share {share:.2f}, {parts} parts: speed-up ≤ "
                    f"{1 / (share + (1 - share) / min(n, parts)):.2f})"
                )


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.seed_programme and not args.week.exists():
        print(
            f"error: {args.week} not found (give --week FILE or --seed-programme)", file=sys.stderr
        )
        return 2
    bench = Bench(args)
    rows = []
    try:
        template = bench.load()
        for n in args.workers:
            rows.append(one_run(bench, template, n))
            print(json.dumps(rows[-1], default=str), flush=True)
    finally:
        bench.cleanup()
    report(rows, args.parts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
