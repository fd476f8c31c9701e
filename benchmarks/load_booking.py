"""Load run of the booking API: gunicorn against a fresh PostgreSQL database with the demo data.

    make bench-load          (or: python -m benchmarks.load_booking --help)

Creates a scratch database on the local PostgreSQL server, migrates it, seeds the demo week,
adds benchmark participants with accounts, starts gunicorn on 127.0.0.1 (gthread workers with
keep-alive by default; each worker's threads stay within its database pool), then drives two
phases from a bounded pool of client threads: booking POSTs (a share of them deliberately
contested) and slot-list GETs. Prints throughput and p50/p95/p99 per endpoint, checks that no
slot is held twice and that every 201 is one booking, then stops gunicorn and drops the
database. Every request goes to 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg

from benchmarks.load_setup import (
    create_database,
    drop_database,
    plan_bookings,
    prepare,
    verify,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Sample:
    """Latencies (ms) and status codes of one endpoint in one phase."""

    name: str
    ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    wall_s: float = 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest-rank method."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the server ---------------------------------------------------------------------------


def start_gunicorn(db_url: str, secret: str, port: int, workers: int, log: Path, threads: int = 1):
    """Start gunicorn on 127.0.0.1 against the scratch database; wait until it answers."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SECRET_KEY": secret,
        "CHUNLEI_ENV": "benchmark",
        "LOGIN_RATE_LIMIT": "100000 per minute",
    }
    cmd = [
        sys.executable, "-m", "gunicorn", "wsgi:app",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--backlog", "512", "--log-level", "warning",
    ]  # fmt: skip
    if threads > 0:  # gthread workers keep connections alive and overlap database waits
        cmd += ["--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "5"]
    else:  # sync workers: a connection per request
        cmd += ["--worker-class", "sync"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    stop_gunicorn(proc)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_gunicorn(proc) -> None:
    """Stop the gunicorn this run started (its process group), politely first."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- the client ---------------------------------------------------------------------------


def server_cpu(proc, db_url: str) -> dict[int, float]:
    """CPU seconds used so far by each process of gunicorn (master and workers) and each client
    backend of the database, by pid (the database's under negative keys).

    The difference of two readings divided by the requests of a phase is the cost of one
    request, which says what an otherwise idle machine could serve (cores / cost) even when
    the run shares its cores. Per process, so one that ends (an autovacuum worker, a set-up
    connection) takes nothing out of a phase it did not serve.
    """
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'",
            (name,),
        )]  # fmt: skip
    app = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    return {**_cpu(app, 1), **_cpu(pids, -1)}


def _cpu(procs, sign: int) -> dict[int, float]:
    seconds = {}
    for p in procs:
        try:
            process = p if isinstance(p, psutil.Process) else psutil.Process(p)
            t = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[sign * process.pid] = t.user + t.system
    return seconds


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> tuple[float, float]:
    """CPU seconds of gunicorn and of PostgreSQL between two ``server_cpu`` readings."""
    spent = {pid: cpu - before.get(pid, 0.0) for pid, cpu in after.items()}
    return (
        sum(v for pid, v in spent.items() if pid > 0),
        sum(v for pid, v in spent.items() if pid < 0),
    )


def run_phase(
    port: int,
    jobs: list,
    threads: int,
    max_s: float,
    rate: float | None = None,
    warmup_s: float = 0.0,
):
    """Send ``jobs`` ((name, method, path, body, token)) from ``threads`` threads; bounded.

    Without ``rate`` the threads send back to back (closed loop: how much the server can take).
    With ``rate`` job *i* is due at ``start + i / rate`` whatever the server does (open loop),
    and its latency counts from when it was due, not from when a free thread sent it, so a
    server that falls behind shows the queue it builds (no coordinated omission). Jobs due in
    the first ``warmup_s`` seconds are sent at the same rate but left out of the latency
    figures (the integrity check still sees their answers).
    """
    # The client's own collector must not pause its threads mid-phase (a full collection over
    # the planned jobs and the answers took as long as the latencies being measured).
    gc.collect()
    gc.freeze()
    gc.disable()
    samples: dict[str, Sample] = {}
    lock = threading.Lock()
    cursor = iter(enumerate(jobs))
    deadline = time.monotonic() + max_s
    results = []
    timeline = []  # (seconds into the phase when sent or due, latency ms)
    clock = {"start": 0.0}

    def start_clock():
        clock["start"] = time.perf_counter() + 0.01

    # Every connection is open before the clock starts (clients keep theirs alive).
    ready = threading.Barrier(threads + 1, action=start_clock)

    def worker():
        """One client thread: take the next job, wait until it is due, send it, time it."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.connect()
        except OSError:
            pass  # the first request connects again and records the failure
        finally:
            ready.wait()
        start = clock["start"]
        while time.monotonic() < deadline:
            with lock:
                item = next(cursor, None)
            if item is None:
                break
            i, (name, method, path, body, token) = item
            headers = {"Authorization": f"Bearer {token}"}
            payload = None
            if body is not None:
                payload = json.dumps(body)
                headers["Content-Type"] = "application/json"
            if rate:
                due = start + i / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            t0 = time.perf_counter()
            if rate:
                t0 = min(t0, due)
            try:
                conn.request(method, path, body=payload, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                status, data = 0, b""
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if not rate or i / rate >= warmup_s:
                    s = samples.setdefault(name, Sample(name))
                    s.ms.append(ms)
                    s.statuses[status] += 1
                results.append((name, body, status, data))
                timeline.append((t0 - start, ms))
        conn.close()

    cpu0 = time.process_time()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    try:
        for t in pool:
            t.start()
        ready.wait()
        for t in pool:
            t.join()
    finally:
        gc.enable()
        gc.unfreeze()
    wall = time.perf_counter() - clock["start"]
    for s in samples.values():
        s.wall_s = wall - (warmup_s if rate else 0.0)
    client_ms = (time.process_time() - cpu0) / max(1, len(results)) * 1000
    return {
        "samples": samples,
        "results": results,
        "client_ms": client_ms,
        "timeline": timeline,
    }, wall


def print_timeline(label: str, timeline: list[tuple[float, float]]) -> None:
    """Requests, p95 and max latency per second of a phase: a stall shows as a bad second."""
    by_second = defaultdict(list)
    for at, ms in timeline:
        by_second[int(at)].append(ms)
    print(f"  {label} per second (requests / p95 ms / max ms):")
    cells = [
        f"{sec:>3}s {len(v):>4} {percentile(v, 0.95):6.1f} {max(v):6.1f}"
        for sec, v in sorted(by_second.items())
    ]
    for i in range(0, len(cells), 4):
        print("    " + "   ".join(cells[i : i + 4]))


def print_table(samples: list[Sample]) -> None:
    """One line per endpoint: count, rate, latency percentiles, status codes."""
    print(f"  {'endpoint':<24}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p99 ms':>9}{'max ms':>9}  statuses")  # fmt: skip
    for s in samples:
        rate = len(s.ms) / s.wall_s if s.wall_s else 0
        codes = " ".join(f"{k}:{v}" for k, v in sorted(s.statuses.items()))
        print(
            f"  {s.name:<24}{len(s.ms):>9}{rate:>9.0f}{percentile(s.ms, 0.5):>9.1f}"
            f"{percentile(s.ms, 0.95):>9.1f}{percentile(s.ms, 0.99):>9.1f}{max(s.ms):>9.1f}  {codes}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the load test; exit 1 if the integrity check finds anything."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG),
                    help="any database URL on the PostgreSQL server to use (a scratch "
                    "database is created beside it and dropped)")  # fmt: skip
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    ap.add_argument("--threads", type=int, default=16, help="client threads")
    ap.add_argument("--worker-threads", type=int, default=2,
                    help="threads per gunicorn worker (gthread workers with keep-alive; 0: sync workers)")  # fmt: skip
    ap.add_argument("--bookings", type=int, default=3000,
                    help="booking POSTs of the capacity phase (closed loop)")  # fmt: skip
    ap.add_argument("--gets", type=int, default=3000,
                    help="slot-list GETs of the capacity phase (closed loop)")  # fmt: skip
    ap.add_argument("--rate", type=float, default=300.0,
                    help="requests/s of the target phase (open loop); 0 skips it")  # fmt: skip
    ap.add_argument("--rate-seconds", type=float, default=20.0,
                    help="length of each target-phase run (POSTs, then GETs)")  # fmt: skip
    ap.add_argument("--rate-warmup", type=float, default=2.0,
                    help="seconds at the target rate sent first and not counted")  # fmt: skip
    ap.add_argument("--rate-threads", type=int, default=32,
                    help="client connections of the target phase")  # fmt: skip
    ap.add_argument("--contested", type=float, default=0.05,
                    help="share of booking POSTs aimed at an already-targeted slot")  # fmt: skip
    ap.add_argument("--people", type=int, default=2500, help="benchmark participants")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="cap per phase")
    ap.add_argument("--timeline", action="store_true",
                    help="print latency per second of the target phase")  # fmt: skip
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = ap.parse_args(argv)
    if not args.pg_url.startswith("postgres"):
        ap.error("--pg-url must be a PostgreSQL URL")

    rng = random.Random(args.seed)
    secret = secrets.token_hex(16)
    name, admin_url, db_url = create_database(args.pg_url)
    print(f"Load run: gunicorn {args.workers} workers x {args.worker_threads} threads on "
          f"127.0.0.1, {args.threads} client threads, "
          f"{os.cpu_count()} cores, database {name}")  # fmt: skip
    proc = None
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"{name}-gunicorn.log"
    try:
        data = prepare(db_url, secret, args.people, args.seed)
        tokens, free = data["tokens"], data["free"]
        at_rate = int(args.rate * (args.rate_seconds + args.rate_warmup))
        plan = plan_bookings(free, len(tokens), args.bookings + at_rate, args.contested, rng)
        book_jobs = [
            ("POST /bookings", "POST", "/api/v1/bookings", {"slots": [slot]}, tokens[p])
            for p, slot in plan
        ]
        bases_days = sorted({(hub, day) for _code, hub, day in free})
        get_jobs = []
        for _ in range(args.gets + at_rate):
            hub, day = rng.choice(bases_days)
            path = f"/api/v1/slots?base={hub}&date={day.isoformat()}&free=true"
            get_jobs.append(("GET /slots", "GET", path, None, rng.choice(tokens)))
        print(f"  {len(free):,} free slots; {len(book_jobs):,} booking POSTs planned "
              f"({len(plan) - len({s for _, s in plan}):,} contested); "
              f"{len(get_jobs):,} slot-list GETs")  # fmt: skip

        proc = start_gunicorn(db_url, secret, free_port(), args.workers, log, args.worker_threads)
        port = int(proc.args[proc.args.index("--bind") + 1].rsplit(":", 1)[1])
        warm = [get_jobs[i % len(get_jobs)] for i in range(min(200, len(get_jobs)))]
        run_phase(port, warm, args.threads, 15)  # connections, imports, caches

        phases = []  # (title, POST phase, GET phase, server CPU per phase)

        def measure(posts, gets, **how):
            cpu0 = server_cpu(proc, db_url)
            booked, _ = run_phase(port, posts, max_s=args.max_seconds, **how)
            cpu1 = server_cpu(proc, db_url)
            listed, _ = run_phase(port, gets, max_s=args.max_seconds, **how)
            cpu2 = server_cpu(proc, db_url)
            return booked, listed, (cpu0, cpu1, cpu2)

        capacity = measure(book_jobs[: args.bookings], get_jobs[: args.gets], threads=args.threads)
        phases.append((f"Capacity: {args.threads} client threads back to back (closed loop)",
                       *capacity))  # fmt: skip
        if at_rate:
            target = measure(book_jobs[args.bookings :], get_jobs[args.gets :],
                             threads=args.rate_threads, rate=args.rate,
                             warmup_s=args.rate_warmup)  # fmt: skip
            phases.append((f"Target: {args.rate:g} requests/s for {args.rate_seconds:g} s each "
                           f"after {args.rate_warmup:g} s of warm-up (open loop, "
                           f"{args.rate_threads} connections; latency from when each request "
                           "was due)", *target))  # fmt: skip

        cores = os.cpu_count() or 1
        for title, booked, listed, cpu in phases:
            print(f"\n{title}:")
            print_table([*booked["samples"].values(), *listed["samples"].values()])
            for label, phase, a, b in (("POST /bookings", booked, cpu[0], cpu[1]),
                                       ("GET /slots", listed, cpu[1], cpu[2])):  # fmt: skip
                if not phase["results"]:
                    continue
                n = len(phase["results"])
                app_ms, db_ms = (x / n * 1000 for x in cpu_spent(a, b))
                print(f"  {label:<16} CPU per request: server {app_ms + db_ms:4.1f} ms "
                      f"(gunicorn {app_ms:.1f} + PostgreSQL {db_ms:.1f}), client "
                      f"{phase['client_ms']:.1f} ms -> an idle {cores}-core machine: "
                      f"~{cores * 1000 / max(app_ms + db_ms, 1e-9):,.0f} req/s")  # fmt: skip
        print(f"  machine load average during the run: {os.getloadavg()[0]:.1f}")
        if at_rate and args.timeline:
            _title, booked, listed, _cpu = phases[-1]
            print_timeline("POST /bookings", booked["timeline"])
            print_timeline("GET /slots", listed["timeline"])
        if at_rate:
            _title, booked, listed, _cpu = phases[-1]
            post = booked["samples"].get("POST /bookings")
            get = listed["samples"].get("GET /slots")
            post_rate = len(post.ms) / post.wall_s if post else 0.0
            checks = [
                (f"POST /bookings served {post_rate:.0f}/s (target {args.rate:g}/s)",
                 post_rate >= 0.98 * args.rate),
                (f"POST /bookings p95 {percentile(post.ms, 0.95):.1f} ms (target <= 50 ms)",
                 percentile(post.ms, 0.95) <= 50),
                (f"GET /slots p95 {percentile(get.ms, 0.95):.1f} ms (target <= 30 ms)",
                 percentile(get.ms, 0.95) <= 30),
            ]  # fmt: skip
            print("\nTargets:")
            for text, ok in checks:
                print(f"  {'met   ' if ok else 'MISSED'} {text}")

        booked = {"results": [r for _t, bk, _l, _c in phases for r in bk["results"]]}
        created = sum(1 for _n, _b, status, _d in booked["results"] if status == 201)
        by_slot = defaultdict(list)
        for _n, body, status, _d in booked["results"]:
            by_slot[body["slots"][0]].append(status)
        contested = [v for v in by_slot.values() if len(v) > 1]
        ok_contests = sum(1 for v in contested if sorted(v) == [201, 409])
        print(f"\n  contested slots: {len(contested)}, each one 201 + one 409: {ok_contests}")
        unexpected = Counter(
            json.loads(d or b"{}").get("error", {}).get("reason")
            for _n, _b, status, d in booked["results"]
            if status not in (201, 409)
        )
        if unexpected:
            print(f"  other booking answers: {dict(unexpected)}")
        problems = verify(db_url, created)
        print(f"  bookings created: {created:,}; integrity: "
              + ("OK — zero double bookings" if not problems else "; ".join(problems)))  # fmt: skip
        return 1 if problems else 0
    finally:
        if proc is not None:
            stop_gunicorn(proc)
        if not args.keep_db:
            drop_database(admin_url, name)
        else:
            print(f"  kept database {db_url}")


if __name__ == "__main__":
    sys.exit(main())
