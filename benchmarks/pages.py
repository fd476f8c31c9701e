"""Pages on the whole programme's week: p50/p95/max of each page against p95 ≤ 200 ms.

    make bench-pages         (or: python -m benchmarks.pages --help)

Creates a scratch database on the local PostgreSQL server, migrates it, runs
``flask seed-demo --programme`` (1,100 bases, 30,000 requests), adds one applied run with a few
thousand changes for the run report, starts gunicorn on 127.0.0.1 (one sync worker: one
request at a time, so a latency is the page's own and not a queue's), signs in as an operator,
a participant and an admin through the login form, and GETs each page ``--repeat`` times in
turn. The first view of each page is timed apart (a cold process cache) and not counted in the
percentiles. Then stops gunicorn and drops the database. Every request goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg

from benchmarks.load_booking import free_port, percentile, start_gunicorn, stop_gunicorn
from benchmarks.load_setup import drop_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_MS = 200.0
PASSWORDS = {"admin": "chunlei-admin", "operator": "chunlei-operator", "participant": "chunlei-p"}


@dataclass
class Page:
    """One page's timings (ms) and status codes."""

    name: str
    who: str
    path: str
    first_ms: float = 0.0
    ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


class Browser:
    """A cookie-keeping client on one keep-alive connection (a signed-in browser)."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        ms = (time.perf_counter() - t0) * 1000
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, text, ms

    def login(self, username: str, password: str) -> None:
        status, page, _ = self.request("GET", "/auth/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or token is None:
            raise RuntimeError(f"login page: {status}")
        form = {"username": username, "password": password, "csrf_token": token.group(1)}
        status, _, _ = self.request("POST", "/auth/login", urlencode(form))
        if status != 302:
            raise RuntimeError(f"login of {username} answered {status}")


def flask(db_url: str, secret: str, *args: str) -> str:
    """Run ``flask <args>`` against the scratch database; its stdout."""
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": secret, "FLASK_APP": "wsgi"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def seed_run(db_url: str, changes: int, seed: int) -> int:
    """One applied run of the week with ``changes`` changes (moves, additions, drops)."""
    rng = random.Random(seed)
    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        week_id, freeze = conn.execute(
            "SELECT id, week_start FROM planning_weeks ORDER BY id LIMIT 1"
        ).fetchone()
        booked = conn.execute(
            """SELECT b.id, r.code, p.code, array_agg(s.code ORDER BY bs.position)
               FROM bookings b JOIN booking_requests r ON r.id = b.request_id
               JOIN participants p ON p.id = b.participant_id
               JOIN booking_slots bs ON bs.booking_id = b.id JOIN slots s ON s.id = bs.slot_id
               WHERE b.status = 'tentative' GROUP BY b.id, r.code, p.code ORDER BY b.id"""
        ).fetchall()
        free = [
            c
            for (c,) in conn.execute(
                """SELECT s.code FROM slots s LEFT JOIN slot_holds h ON h.slot_id = s.id
                   WHERE h.slot_id IS NULL AND s.state = 'open' ORDER BY s.id"""
            )
        ]
        open_requests = conn.execute(
            """SELECT r.code, p.code FROM booking_requests r
               JOIN participants p ON p.id = r.participant_id ORDER BY r.id"""
        ).fetchall()
        rng.shuffle(free)
        kpis = {"weighted_share": 0.61, "served_ratio": 0.58, "min_region_ratio": 0.41}
        run_id = conn.execute(
            """INSERT INTO optimization_runs (planning_week_id, kind, state, started_at,
                 finished_at, freeze_until, solver_status, wall_s, kpis, kpis_before, added,
                 moved, dropped, kept, progress)
               VALUES (%s, 'manual', 'applied', now() - interval '5 minutes', now(), %s,
                 'FEASIBLE', 58.0, %s, %s, 0, 0, 0, 0, '{}') RETURNING id""",
            (
                week_id,
                freeze,
                psycopg.types.json.Jsonb({k: v + 0.1 for k, v in kpis.items()}),
                psycopg.types.json.Jsonb(kpis),
            ),
        ).fetchone()[0]
        rows = []
        for booking_id, request, person, slots in booked[: changes // 2]:
            moved = [free.pop() for _ in slots]
            rows.append((run_id, booking_id, "moved", request, slots, moved, person, "closer"))
        for booking_id, request, person, slots in booked[changes // 2 : changes * 2 // 3]:
            rows.append((run_id, booking_id, "dropped", request, slots, [], person, "displaced"))
        for request, person in rng.sample(open_requests, changes - len(rows)):
            rows.append((run_id, None, "added", request, [], [free.pop()], person, "placed"))
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO run_changes (run_id, booking_id, change, request_code,
                     before_slots, after_slots, participant_code, reason)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                [
                    (*r[:4], psycopg.types.json.Jsonb(r[4]), psycopg.types.json.Jsonb(r[5]), *r[6:])
                    for r in rows
                ],
            )
        for side in ("before", "after"):  # the bases a change leaves and goes to, as applied
            conn.execute(
                f"""UPDATE run_changes rc SET {side}_base = h.code
                    FROM slots s JOIN studios st ON st.id = s.studio_id
                    JOIN hubs h ON h.id = st.hub_id
                    WHERE rc.run_id = %s AND s.code = rc.{side}_slots ->> 0""",
                (run_id,),
            )
        counts = {k: sum(1 for r in rows if r[2] == k) for k in ("added", "moved", "dropped")}
        conn.execute(
            "UPDATE optimization_runs SET added = %s, moved = %s, dropped = %s WHERE id = %s",
            (counts["added"], counts["moved"], counts["dropped"], run_id),
        )
        conn.execute("ANALYZE")
    return run_id


def existing_run(db_url: str) -> int:
    """The run seeded into a kept database."""
    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT min(id) FROM optimization_runs").fetchone()[0]


def facts(db_url: str) -> dict:
    """The week, an operator's base, a participant's request short of sessions."""
    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        (week,) = conn.execute(
            "SELECT week_start FROM planning_weeks ORDER BY id LIMIT 1"
        ).fetchone()
        short = conn.execute(
            """SELECT r.code FROM booking_requests r JOIN participants p
                 ON p.id = r.participant_id JOIN users u ON u.participant_id = p.id
               WHERE u.username = 'p00001' ORDER BY r.id LIMIT 1"""
        ).fetchone()
    return {"week": week, "request": short[0] if short else None}


def pages(run_id: int, week, request_code: str | None) -> list[Page]:
    """The pages measured, each with who looks at it."""
    w = week.isoformat()
    day = (week + timedelta(days=2)).isoformat()
    out = [
        Page("slot search", "participant", "/me/slots"),
        Page("slot search, a day", "participant", f"/me/slots?day={day}"),
        Page("slot search, week view", "participant", f"/me/slots?view=week&week={w}"),
        Page("operator week grid", "operator", f"/operator/bases/B0001/week?week={w}"),
        Page("operator dashboard", "operator", f"/operator/bases/B0001/dashboard?week={w}"),
        Page("operator bookings", "operator", f"/operator/bases/B0001/bookings?week={w}"),
        Page("admin all bases", "admin", "/operator/?page=2"),
        Page("admin overview", "admin", f"/operator/overview?week={w}"),
        Page("admin base dashboard", "admin", f"/operator/bases/B0500/dashboard?week={w}"),
        Page("admin runs", "admin", "/runs/"),
        Page("run report (admin)", "admin", f"/runs/{run_id}"),
        Page("run report, a region", "admin", f"/runs/{run_id}?region=east&page=2"),
        Page("run report (operator)", "operator", f"/runs/{run_id}"),
        Page("API slots (participant)", "participant-api", "/api/v1/slots?free=true"),
        Page("API slots, a base", "participant-api", "/api/v1/slots?base=B0001"),
        Page("API bookings (operator)", "operator-api", "/api/v1/bookings"),
        Page("API requests (operator)", "operator-api", "/api/v1/requests"),
        Page("API bookings (participant)", "participant-api", "/api/v1/bookings"),
        Page("API requests (participant)", "participant-api", "/api/v1/requests"),
    ]
    if request_code:
        out.append(Page("my request (why not placed)", "participant", f"/me/requests/{request_code}"))  # fmt: skip
    return out


def api_token(db_url: str, secret: str, username: str) -> str:
    """A bearer token for ``username`` (issued in a child process with the app's settings)."""
    code = (
        "from app import create_app; from app.api.auth import issue_token;"
        "from app.extensions import db; from app.models import User;"
        "from sqlalchemy import select\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        f"    print(issue_token(db.session.scalar(select(User).where(User.username == {username!r}))))"  # fmt: skip
    )
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": secret}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG),
                    help="PostgreSQL server (a scratch database is created on it and dropped)")  # fmt: skip
    ap.add_argument("--repeat", type=int, default=30, help="timed requests per page (≥ 30)")
    ap.add_argument("--changes", type=int, default=3000, help="changes of the seeded run")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--keep", action="store_true",
                    help="keep the scratch database (its name is printed) instead of dropping it")  # fmt: skip
    ap.add_argument("--database", help="measure an existing database kept by --keep (not dropped)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    base = args.server.replace("postgresql+psycopg://", "postgresql://").rpartition("/")[0]
    name = args.database or f"chunlei_bench_pages_{uuid.uuid4().hex[:10]}"
    admin_url, db_url = f"{base}/postgres", f"{base}/{name}"
    secret = secrets.token_hex(16)
    if not args.database:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"{name}-gunicorn.log"
    proc = None
    try:
        if args.database:
            flask(db_url, secret, "db", "upgrade")
            run_id = existing_run(db_url)
        else:
            t0 = time.perf_counter()
            flask(db_url, secret, "db", "upgrade")
            t1 = time.perf_counter()
            out = flask(db_url, secret, "seed-demo", "--programme", "--seed", str(args.seed))
            t2 = time.perf_counter()
            print(f"Migrated in {t1 - t0:.1f} s; seed-demo --programme in {t2 - t1:.1f} s:")
            print("\n".join(line for line in out.splitlines() if ":" in line and "/" not in line))
            sys.stdout.flush()
            run_id = seed_run(db_url, args.changes, args.seed)
        known = facts(db_url)
        tokens = {
            "participant-api": api_token(db_url, secret, "p00001"),
            "operator-api": api_token(db_url, secret, "op-b0001"),
        }
        proc = start_gunicorn(db_url, secret, free_port(), 1, log, threads=0)
        port = int(proc.args[proc.args.index("--bind") + 1].rpartition(":")[2])
        browsers = {
            "participant": Browser(port),
            "operator": Browser(port),
            "admin": Browser(port),
            "participant-api": Browser(port, tokens["participant-api"]),
            "operator-api": Browser(port, tokens["operator-api"]),
        }
        browsers["participant"].login("p00001", PASSWORDS["participant"])
        browsers["operator"].login("op-b0001", PASSWORDS["operator"])
        browsers["admin"].login("admin", PASSWORDS["admin"])
        measured = pages(run_id, known["week"], known["request"])
        for page in measured:
            status, _, page.first_ms = browsers[page.who].request("GET", page.path)
            page.statuses[status] = page.statuses.get(status, 0) + 1
        for k in range(args.repeat):
            print(f"  round {k + 1}/{args.repeat}", file=sys.stderr, flush=True)
            for page in measured:
                status, _, ms = browsers[page.who].request("GET", page.path)
                page.ms.append(ms)
                page.statuses[status] = page.statuses.get(status, 0) + 1
        print(f"\n{args.repeat} requests per page after a first view; one gunicorn sync worker")
        print(f"{'page':<30} {'who':<16} {'first':>7} {'p50':>7} {'p95':>7} {'max':>7}  "
              f"{'status':<10} p95 ≤ {TARGET_MS:.0f} ms")  # fmt: skip
        missed = 0
        for page in measured:
            p95 = percentile(page.ms, 0.95)
            ok = p95 <= TARGET_MS and set(page.statuses) == {200}
            missed += not ok
            statuses = ",".join(f"{k}×{v}" for k, v in sorted(page.statuses.items()))
            print(f"{page.name:<30} {page.who:<16} {page.first_ms:7.0f} "
                  f"{percentile(page.ms, 0.5):7.0f} {p95:7.0f} {max(page.ms):7.0f}  "
                  f"{statuses:<10} {'met' if ok else 'MISSED'}")  # fmt: skip
        print(f"\n{len(measured) - missed}/{len(measured)} pages met p95 ≤ {TARGET_MS:.0f} ms")
        load = os.getloadavg()
        print(f"load average during the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
              f"on {os.cpu_count()} cores")  # fmt: skip
        return 0
    finally:
        if proc is not None:
            stop_gunicorn(proc)
        if args.keep or args.database:
            print(f"kept database {name}")
        else:
            drop_database(admin_url, name)


if __name__ == "__main__":
    sys.exit(main())
