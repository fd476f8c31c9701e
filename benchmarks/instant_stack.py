"""The processes of the instant-placement benchmark: a scratch database, gunicorn, the workers,
and a small client of the JSON API (``benchmarks/instant.py`` drives them)."""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """The scratch database, the web server and the workers; everything is torn down on exit."""

    def __init__(self, args) -> None:
        self.args = args
        base = args.postgres.rstrip("/")
        self.admin_url = f"{base}/postgres"
        self.db_name = f"chunlei_bench_{secrets.token_hex(4)}"
        self.db_url = f"{base}/{self.db_name}"
        self.redis_db = random.Random().randint(1, 15)
        self.tmp = Path(tempfile.mkdtemp(prefix="chunlei-instant-"))
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "QUEUE_URL": f"{args.redis.rstrip('/')}/{self.redis_db}",
            "QUEUE_NAME": f"bench-{secrets.token_hex(4)}",
            "SECRET_KEY": secrets.token_hex(16),
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "LOGIN_ADDRESS_RATE_LIMIT": "100000 per minute",
            "RUNS_DIR": str(self.tmp / "runs"),
            "FLASK_APP": "wsgi",
            "PYTHONUNBUFFERED": "1",
        }
        self.procs: list[subprocess.Popen] = []

    def flask(self, *argv: str, capture: bool = True) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "flask", *argv],
            cwd=ROOT,
            env=self.env,
            capture_output=capture,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"flask {' '.join(argv)} failed: {out.stderr.strip()[-500:]}")
        return out.stdout

    def create_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')

    def start(self) -> None:
        log = open(self.tmp / "server.log", "w")  # noqa: SIM115 - kept open for the processes
        gunicorn = [
            sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(self.args.web_workers),
            "--threads", "4", "-b", f"127.0.0.1:{self.port}", "wsgi:app",
        ]  # fmt: skip
        self.procs.append(subprocess.Popen(gunicorn, cwd=ROOT, env=self.env, stdout=log,
                                           stderr=subprocess.STDOUT))  # fmt: skip
        for k in range(self.args.workers):
            wlog = open(self.tmp / f"worker{k}.log", "w")  # noqa: SIM115
            self.procs.append(
                subprocess.Popen([sys.executable, "-m", "flask", "worker"], cwd=ROOT,
                                 env=self.env, stdout=wlog, stderr=subprocess.STDOUT)
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/bases", timeout=2)
            except urllib.error.HTTPError:
                return  # 401: the server answers
            except OSError:
                time.sleep(0.3)
                continue
            return
        raise RuntimeError("the web server did not start; see " + str(self.tmp / "server.log"))

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if not self.args.keep:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            shutil.rmtree(self.tmp, ignore_errors=True)
            try:
                import redis

                redis.Redis.from_url(self.env["QUEUE_URL"]).flushdb()
            except Exception:  # noqa: BLE001 - cleaning up is best effort
                pass


# ---------------------------------------------------------------------------- the API


class Api:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"
        #: Seconds of every GET and POST: the web round trips of this run.
        self.gets: list[float] = []
        self.posts: list[float] = []

    def call(self, method: str, path: str, token: str | None = None, body=None):
        t0 = time.monotonic()
        try:
            return self._call(method, path, token, body)
        finally:
            if method in ("GET", "POST"):
                (self.gets if method == "GET" else self.posts).append(time.monotonic() - t0)

    def _call(self, method: str, path: str, token: str | None = None, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def token(self, username: str, password: str) -> str:
        status, body = self.call(
            "POST", "/tokens", body={"username": username, "password": password}
        )
        if status != 201:
            raise RuntimeError(f"token for {username}: {status} {body}")
        return body["token"]
