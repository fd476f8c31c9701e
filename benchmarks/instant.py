"""Instant placement under load: request -> proposal and cancellation -> refill, end to end.

    make bench-instant            # or: python benchmarks/instant.py [--requests 200] [--cancels 100]

On a scratch PostgreSQL database (dropped at the end unless --keep) it seeds the national demo
week (``seed-demo --seed 5``), starts the web server (gunicorn, gthread) and ``--workers`` real
job workers on Redis, then

1. files ``--requests`` requests through the API, half one after another and half in waves of
   ``--wave`` at once, and times each from its POST to the moment ``GET /requests/<id>`` says
   its placement is ``done`` (or ``failed``);
2. cancels ``--cancels`` bookings through the API (base staff, with a reason) and times each
   from its DELETE to the end of the refill job it caused;
3. exports the week and its bookings before and after and runs the shared referee on both:
   0 violations, and every locked and confirmed booking not cancelled in step 2 unchanged.

It prints one table and exits non-zero when a check fails. Not a test: a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from benchmarks.instant_stack import ROOT, Api, Stack

#: The shared referee, beside the main checkout (``--referee`` for another place).
REFEREE = ROOT.parent / "shared" / "tools" / "check_plan.py"
TZ = ZoneInfo("Asia/Shanghai")
#: How often a waiting client reads its request's row (the latency is stamped by the worker).
POLL_S = 0.05
FEATURES = ("kitchen", "cold_chain", "large_set", "green_screen", "outdoor")


def wait_placed(
    api: Api, db_url: str, token: str, code: str, t0: float, limit_s: float = 60
) -> tuple[float, dict]:
    """Wait until the request's placement is done or failed; (seconds since t0, request).

    The time is the database's: ``placement_at``, which the worker stamps when it finishes,
    after the proposals are committed, minus ``t0`` (``time.time()`` just before the POST was
    sent; one host, one clock). The wait itself reads that row every ``POLL_S`` on a
    connection of its own and then asks the API once for the answer the user sees: polling
    the web server every few milliseconds from twenty clients would load the two cores the
    workers need (the product's own page polls once a second).
    """
    with psycopg.connect(db_url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT placement, placement_at FROM booking_requests WHERE code = %s", (code,)
            ).fetchone()
            if row and row[0] in ("done", "failed"):
                status, body = api.call("GET", f"/requests/{code}", token)
                return row[1].timestamp() - t0, body
            if time.time() - t0 > limit_s:
                status, body = api.call("GET", f"/requests/{code}", token)
                return float("inf"), body
            time.sleep(POLL_S)


def outcome(took: float, final: dict) -> str:
    """What became of a filed request, for the table (placed, left waiting, failed and why)."""
    if took == float("inf"):
        return "not answered in time"
    if final.get("placement") == "failed":
        return f"failed: {final.get('placement_reason') or final.get('error')}"
    return "placed" if final.get("served", 0) > 0 else "done, nothing fits (waits on the list)"


def request_body(rng: random.Random, week: date) -> dict:
    first = rng.randrange(0, 6)
    days = rng.choice((1, 2, 3))
    start = datetime.combine(week + timedelta(days=first), dtime(0), TZ)
    end = datetime.combine(week + timedelta(days=min(7, first + days)), dtime(0), TZ)
    return {
        "sessions": rng.choice((1, 1, 2)),
        "length": rng.choice((1, 1, 2)),
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "bases": None,
        "max_km": rng.choice((300, 500, 800, None)),
        "needs": [rng.choice(FEATURES)] if rng.random() < 0.3 else [],
    }


# ---------------------------------------------------------------------------- the week


def referee(stack: Stack, week: date, tag: str) -> tuple[dict, int]:
    """Export the week and its bookings, run the referee: (figures, violations)."""
    inst, plan = stack.tmp / f"week-{tag}.json", stack.tmp / f"plan-{tag}.json"
    stack.flask("export-week", "--week", week.isoformat(), "-o", str(inst))
    stack.flask("export-plan", "--week", week.isoformat(), "-o", str(plan))
    out = subprocess.run([sys.executable, str(stack.args.referee), str(inst), str(plan)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    lines = out.stdout.strip().splitlines()
    broken = sum(1 for line in lines if line.startswith("BROKEN"))
    figures = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    if out.returncode not in (0, 1):
        raise RuntimeError(f"referee: {out.stderr.strip()}")
    return figures, broken


def pinned(stack: Stack) -> set[tuple[str, str, tuple[str, ...]]]:
    """Every locked or confirmed booking as (code, status, slots held)."""
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        rows = conn.execute(
            """SELECT b.code, b.status, array_agg(s.code ORDER BY bs.position)
               FROM bookings b JOIN booking_slots bs ON bs.booking_id = b.id
               JOIN slots s ON s.id = bs.slot_id
               WHERE b.status IN ('locked', 'confirmed') AND bs.released_at IS NULL
               GROUP BY b.code, b.status"""
        ).fetchall()
    return {(code, status, tuple(slots)) for code, status, slots in rows}


def cpu_probe() -> float:
    """Seconds of a fixed pure-Python workload: how much of one core this process gets now."""
    t0 = time.perf_counter()
    total = 0
    for k in range(3_000_000):
        total += k % 7
    return time.perf_counter() - t0


def job_figures(stack: Stack) -> dict[str, dict[str, list[float] | int]]:
    """Per placement job kind: queue wait and run time (s), and jobs that needed a retry."""
    out: dict[str, dict] = {}
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        for kind, wait, run, attempts in conn.execute(
            """SELECT kind, extract(epoch FROM started_at - enqueued_at),
                      extract(epoch FROM finished_at - started_at), attempts
               FROM jobs WHERE kind LIKE 'placement.%' AND finished_at IS NOT NULL"""
        ):
            row = out.setdefault(kind, {"wait": [], "run": [], "retried": 0})
            row["wait"].append(float(wait))
            row["run"].append(float(run))
            row["retried"] += attempts > 1
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--wave", type=int, default=20)
    p.add_argument("--cancels", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--web-workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432"),
    )
    p.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379"))
    p.add_argument("--target-s", type=float, default=2.0, help="p95 target of both latencies")
    p.add_argument("--referee", type=Path, default=REFEREE, help="the shared check_plan.py")
    p.add_argument("--keep", action="store_true", help="keep the database and logs")
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    stack = Stack(args)
    print(f"scratch database {stack.db_name}, Redis db {stack.redis_db}, files in {stack.tmp}")
    stack.create_database()
    try:
        return run(stack, args, rng)
    finally:
        stack.stop()


def run(stack: Stack, args, rng: random.Random) -> int:
    t = time.monotonic()
    stack.flask("db", "upgrade")
    # A bulk load, not a stream of cancellations: the seed enqueues no placements.
    stack.env["INSTANT_PLACEMENT"] = "0"
    stack.flask("seed-demo", "--seed", str(args.seed))
    del stack.env["INSTANT_PLACEMENT"]
    print(f"seeded in {time.monotonic() - t:.0f} s")
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        week = conn.execute("SELECT week_start FROM planning_weeks ORDER BY week_start").fetchone()[
            0
        ]
        accounts = [r[0] for r in conn.execute(
            "SELECT u.username FROM users u WHERE u.role = 'participant' ORDER BY u.username"
        )]  # fmt: skip
    # The demo has a few participant accounts: each files several requests, in turn.
    people = [accounts[k % len(accounts)] for k in range(args.requests)]
    before, broken_before = referee(stack, week, "before")
    pinned_before = pinned(stack)
    machine = {"before": (cpu_probe(), os.getloadavg()[0])}
    stack.start()
    api = Api(stack.port)
    tokens = {u: api.token(u, "chunlei-p") for u in set(people)}
    admin = api.token("admin", "chunlei-admin")

    latencies = {"sequential": [], "batch": []}
    placed = total = 0
    outcomes: Counter[str] = Counter()
    half = args.requests // 2
    for u in people[:half]:  # one after another
        t0 = time.time()
        status, body = api.call("POST", "/requests", tokens[u], request_body(rng, week))
        if status != 201:
            raise RuntimeError(f"POST /requests: {status} {body}")
        took, final = wait_placed(api, stack.db_url, tokens[u], body["id"], t0)
        latencies["sequential"].append(took)
        total += 1
        placed += final.get("served", 0) > 0
        outcomes[outcome(took, final)] += 1
    rest = people[half:]
    for k in range(0, len(rest), args.wave):  # waves filed at once
        wave = rest[k : k + args.wave]
        bodies = [request_body(rng, week) for _ in wave]
        results: dict[int, tuple[float, dict]] = {}

        def one(i: int, u: str, bodies=bodies, results=results) -> None:
            t0 = time.time()
            status, body = api.call("POST", "/requests", tokens[u], bodies[i])
            if status != 201:
                results[i] = (float("inf"), {"error": body})
                return
            results[i] = wait_placed(api, stack.db_url, tokens[u], body["id"], t0)

        threads = [threading.Thread(target=one, args=(i, u)) for i, u in enumerate(wave)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        for took, final in results.values():
            latencies["batch"].append(took)
            total += 1
            placed += final.get("served", 0) > 0
            outcomes[outcome(took, final)] += 1

    # Cancellations: active, not locked, starting after the cancel cut-off, chosen at random.
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        rows = conn.execute(
            """SELECT b.code FROM bookings b
               JOIN booking_slots bs ON bs.booking_id = b.id AND bs.released_at IS NULL
               JOIN slots s ON s.id = bs.slot_id
               WHERE b.status IN ('tentative', 'confirmed') AND bs.position = 0
                 AND s.start > now() + interval '30 hours'
               ORDER BY b.code"""
        ).fetchall()
    victims = rng.sample([r[0] for r in rows], min(args.cancels, len(rows)))
    refill: list[float] = []
    refilled = 0
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        for code in victims:
            last = conn.execute("SELECT coalesce(max(id), 0) FROM jobs").fetchone()[0]
            t0 = time.monotonic()
            status, body = api.call("DELETE", f"/bookings/{code}", admin, {"reason": "benchmark"})
            if status != 200:
                raise RuntimeError(f"DELETE /bookings/{code}: {status} {body}")
            while True:
                row = conn.execute(
                    "SELECT status, result FROM jobs WHERE kind = 'placement.refill' AND id > %s "
                    "ORDER BY id LIMIT 1",
                    (last,),
                ).fetchone()
                if row and row[0] in ("done", "failed"):
                    refill.append(time.monotonic() - t0)
                    refilled += bool((row[1] or {}).get("added"))
                    break
                if time.monotonic() - t0 > 60:
                    refill.append(float("inf"))
                    break
                time.sleep(0.01)
    # Let every queued job finish before the week is read again.
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        deadline = time.monotonic() + 120
        while (
            conn.execute(
                "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')"
            ).fetchone()[0]
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        failed_jobs = conn.execute("SELECT count(*) FROM jobs WHERE status = 'failed'").fetchone()[
            0
        ]
    machine["after"] = (cpu_probe(), os.getloadavg()[0])
    jobs = job_figures(stack)
    after, broken_after = referee(stack, week, "after")
    gone = set(victims)
    lost = [b for b in pinned_before - pinned(stack) if b[0] not in gone]

    every = latencies["sequential"] + latencies["batch"]
    rows = [
        ("request -> proposal, sequential", latencies["sequential"]),
        (f"request -> proposal, {args.wave} at once", latencies["batch"]),
        ("request -> proposal, all", every),
        ("cancellation -> refill", refill),
    ]
    print()
    print(f"{'what':36} {'n':>4} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for name, values in rows:
        print(f"{name:36} {len(values):4d} {pct(values, 0.5):7.2f} {pct(values, 0.95):7.2f} "
              f"{max(values, default=float('nan')):7.2f}")  # fmt: skip
    print()
    print(
        f"requests placed (>= 1 session proposed): {placed}/{total} ({100 * placed / max(1, total):.0f} %)"
    )
    for what, n in outcomes.most_common():
        print(f"  {n:4d} {what}")
    print(f"cancellations refilled by a proposal:   {refilled}/{len(refill)}")
    print()
    print("inside the workers (from the jobs table):")
    print(f"{'job':22} {'n':>4} {'wait p50':>9} {'wait p95':>9} {'run p50':>8} {'run p95':>8} "
          f"{'run max':>8} {'retried':>8}")  # fmt: skip
    for kind, row in sorted(jobs.items()):
        w, r = row["wait"], row["run"]
        print(f"{kind:22} {len(r):4d} {pct(w, 0.5):9.2f} {pct(w, 0.95):9.2f} {pct(r, 0.5):8.2f} "
              f"{pct(r, 0.95):8.2f} {max(r):8.2f} {row['retried']:8d}")  # fmt: skip
    print()
    print("same-run baselines (the machine is shared; compare runs by these):")
    for what, values in (("GET /requests/<id>", api.gets), ("POST (requests, tokens)", api.posts)):
        print(f"  API {what} round trip: p50 {pct(values, 0.5):.3f} s, "
              f"p95 {pct(values, 0.95):.3f} s over {len(values)} calls")  # fmt: skip
    for when, (cpu, load) in machine.items():
        print(f"  {when:6}: fixed CPU probe {cpu:.2f} s (3 M Python loop steps), "
              f"load average {load:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"failed jobs: {failed_jobs}")
    keys = ("weighted_served", "sessions_served", "worst_region_ratio", "base_util_max",
            "base_util_stdev")  # fmt: skip
    print(f"{'referee':22} {'violations':>10} " + " ".join(f"{k:>18}" for k in keys))
    for tag, figs, broken in (("before", before, broken_before), ("after", after, broken_after)):
        print(f"{tag:22} {broken:10d} " + " ".join(f"{str(figs.get(k, '—')):>18}" for k in keys))
    print(f"locked and confirmed bookings changed (not cancelled here): {len(lost)}")
    ok = (
        broken_after == 0
        and not lost
        and pct(every, 0.95) <= args.target_s
        and pct(refill, 0.95) <= args.target_s
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
