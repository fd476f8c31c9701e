"""The login limit: per account and per address, in storage every worker shares (Redis).

Attempts through the login form and POST /api/v1/tokens count against the same budgets. With
``REDIS_URL`` set, separate processes (gunicorn workers) share one budget; the Redis test runs
against the server at 127.0.0.1:6379 under a unique key prefix and removes its keys after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from config import TestingConfig
from tests.app.services.world import PASSWORD, build_world
from tests.app.web.conftest import FreshUserClient

ROOT = Path(__file__).resolve().parents[3]
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def limited_app(**settings):
    config = type("Limited", (TestingConfig,), {"RATELIMIT_ENABLED": True, **settings})
    app = create_app(config)
    app.test_client_class = FreshUserClient
    return app


@pytest.fixture
def memory_app():
    app = limited_app(LOGIN_RATE_LIMIT="3 per minute", LOGIN_ADDRESS_RATE_LIMIT="5 per minute")
    with app.app_context():
        db.create_all()
        build_world()
        yield app
        db.session.remove()
        db.drop_all()


def web_login(app, username, password="wrong", address="10.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/auth/login", data={"username": username, "password": password})


def api_login(app, username, password="wrong", address="10.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/api/v1/tokens", json={"username": username, "password": password})


def test_an_account_is_limited_whatever_address_the_attempts_come_from(memory_app):
    """Guessing one account's password from many addresses still meets the account's limit."""
    answers = [web_login(memory_app, "p1", address=f"10.0.1.{i}").status_code for i in range(3)]
    assert answers == [200, 200, 200]
    refused = web_login(memory_app, "p1", PASSWORD, address="10.0.1.99")
    assert refused.status_code == 303  # back to the form with "too many attempts"
    assert api_login(memory_app, "P1 ", PASSWORD, address="10.0.1.98").status_code == 429
    assert web_login(memory_app, "p2", PASSWORD, address="10.0.1.97").status_code == 302


def test_an_address_is_limited_across_accounts_but_higher(memory_app):
    """A co-op office behind one address gets its own, larger budget."""
    answers = [api_login(memory_app, f"user{i}").status_code for i in range(5)]
    assert answers == [401] * 5
    assert api_login(memory_app, "p1", PASSWORD).status_code == 429
    assert api_login(memory_app, "p1", PASSWORD, address="10.0.0.2").status_code == 201


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    try:
        client = redis.Redis.from_url(REDIS, socket_connect_timeout=2)
        client.ping()
    except redis.RedisError as e:
        message = f"Redis unreachable at {REDIS}: {e}"
        if os.environ.get("CHUNLEI_REQUIRE_POSTGRES", "") not in ("", "0", "false", "no"):
            pytest.fail(message + " (CHUNLEI_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    return client


WORKER = textwrap.dedent(
    """
    import json, sys
    from app import create_app
    from app.extensions import db
    from config import TestingConfig

    class Worker(TestingConfig):
        RATELIMIT_ENABLED = True
        REDIS_URL = sys.argv[1]
        RATELIMIT_KEY_PREFIX = sys.argv[2]
        LOGIN_RATE_LIMIT = "3 per minute"

    app = create_app(Worker)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        body = {"username": "p1", "password": "wrong"}
        codes = [client.post("/api/v1/tokens", json=body).status_code for _ in range(2)]
    print(json.dumps(codes))
    """
)


def test_two_workers_share_one_budget_through_redis():
    redis = _redis_or_skip()
    prefix = f"chunlei-test-{uuid.uuid4().hex[:12]}"
    app = limited_app(REDIS_URL=REDIS, RATELIMIT_KEY_PREFIX=prefix, LOGIN_RATE_LIMIT="3 per minute")
    try:
        with app.app_context():
            db.create_all()
            assert app.config["RATELIMIT_STORAGE_URI"] == REDIS
            here = [api_login(app, "p1", address="127.0.0.1").status_code for _ in range(2)]
            assert here == [401, 401]
            # Another process, as another gunicorn worker would be, with its own app.
            other = subprocess.run(
                [sys.executable, "-c", WORKER, REDIS, prefix],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            assert other.stdout.strip().splitlines()[-1] == "[401, 429]", other.stderr[-2000:]
            assert api_login(app, "p1", address="127.0.0.1").status_code == 429
            db.drop_all()
    finally:
        keys = list(redis.scan_iter(match=f"*{prefix}*"))
        assert keys, "the limit was not kept in Redis"
        redis.delete(*keys)


def test_logins_are_still_limited_per_process_when_redis_is_down(caplog):
    """A storage failure neither opens the door nor turns logins into errors."""
    app = limited_app(REDIS_URL="redis://127.0.0.1:1/0", LOGIN_RATE_LIMIT="2 per minute")
    with app.app_context():
        db.create_all()
        assert [api_login(app, "p1").status_code for _ in range(3)] == [401, 401, 429]
        assert "counting in memory" in caplog.text
        db.drop_all()
