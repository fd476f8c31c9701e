"""Configuration, read from the environment.

`Config` is what the product runs with; `TestingConfig` is what the test-suite passes to
`create_app`. Solver limits, the nightly cron time and the booking cut-off live here so that
tests can shrink them.
"""

from __future__ import annotations

import os
from datetime import timedelta


def database_url(raw: str | None) -> str | None:
    """Map a plain ``postgresql://`` (or ``postgres://``) URL to the psycopg 3 driver."""
    if not raw:
        return None
    for prefix in ("postgresql://", "postgres://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def engine_options(env=os.environ) -> dict:
    """The connection pool of each process, from ``DB_POOL_*`` variables.

    A ping before every checkout costs a round trip per request (a fifth of a booking's database
    work), so it is off unless ``DB_POOL_PRE_PING=1``: a connection the server dropped then fails
    one request, and SQLAlchemy renews the whole pool. Connections are recycled after
    ``DB_POOL_RECYCLE_S``. Keep ``DB_POOL_SIZE`` at or above the threads of one process.
    """
    return {
        "pool_pre_ping": env.get("DB_POOL_PRE_PING", "0").lower() in ("1", "true", "yes"),
        "pool_recycle": int(env.get("DB_POOL_RECYCLE_S", 1800)),
        "pool_size": int(env.get("DB_POOL_SIZE", 5)),
        "max_overflow": int(env.get("DB_POOL_MAX_OVERFLOW", 10)),
    }


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


class Config:
    """Production-shaped defaults; every value can be overridden by an environment variable."""

    ENV_NAME = os.environ.get("CHUNLEI_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # None means "a SQLite file in the Flask instance folder" (resolved in create_app).
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS: dict = engine_options()

    TIMEZONE = os.environ.get("CHUNLEI_TIMEZONE", "Asia/Shanghai")
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = ("zh_CN", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = ENV_NAME == "production"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = ENV_NAME == "production"
    # A login (and its "keep me signed in" cookie) ends after this many days at the latest.
    LOGIN_MAX_AGE_DAYS = _int("LOGIN_MAX_AGE_DAYS", 30)
    REMEMBER_COOKIE_DURATION = timedelta(days=LOGIN_MAX_AGE_DAYS)
    WTF_CSRF_ENABLED = True
    # Redis, when there is one: the login limits of every worker are counted there.
    REDIS_URL = os.environ.get("REDIS_URL")
    # Where login attempts are counted: default REDIS_URL when set, else each process's memory.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "chunlei")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")  # per account
    LOGIN_ADDRESS_RATE_LIMIT = os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "50 per minute")
    API_TOKEN_MAX_AGE_S = _int("API_TOKEN_MAX_AGE_S", 7 * 24 * 3600)

    # Booking rules that are not in the exchange format's policy.
    CANCEL_CUTOFF_HOURS = _float("CANCEL_CUTOFF_HOURS", 24.0)
    # Default week policy for new weeks (the exchange format's `policy`).
    MAX_SESSIONS_PER_DAY = _int("MAX_SESSIONS_PER_DAY", 2)
    SAME_DAY_SAME_BASE = os.environ.get("SAME_DAY_SAME_BASE", "1") not in ("0", "false", "no")
    TARGET_UTILIZATION = _float("TARGET_UTILIZATION", 0.85)
    # "base": same-category sessions of different sellers never overlap at one base (rule 9).
    CATEGORY_SEPARATION = "base" if os.environ.get("CATEGORY_SEPARATION") == "base" else None

    # Solver limits (passed as arguments to scheduler.solve).
    SOLVER_TIME_LIMIT_S = _float("SOLVER_TIME_LIMIT_S", 60.0)
    SOLVER_WORKERS = _int("SOLVER_WORKERS", 2)

    # Nightly re-optimization.
    NIGHTLY_CRON = os.environ.get("NIGHTLY_CRON", "0 2 * * *")
    NIGHTLY_WEEKS_AHEAD_DAYS = _int("NIGHTLY_WEEKS_AHEAD_DAYS", 7)
    FREEZE_HOURS = _float("FREEZE_HOURS", 24.0)
    MISFIRE_GRACE_S = _int("MISFIRE_GRACE_S", 3600)
    # A run's solver child: the argv prefix (see app.services.runs.solver_process), how long past
    # its time limit it may take before it is killed, and where run folders are kept
    # (default: <instance folder>/runs). A running run silent for RUN_STALE_S counts as dead.
    SOLVER_COMMAND = os.environ.get("SOLVER_COMMAND")
    SOLVER_GRACE_S = _float("SOLVER_GRACE_S", 60.0)
    RUNS_DIR = os.environ.get("RUNS_DIR")
    # The process carrying out a run beats its heartbeat every RUN_HEARTBEAT_S; a run silent
    # for RUN_STALE_S counts as dead (its week is released).
    RUN_HEARTBEAT_S = _float("RUN_HEARTBEAT_S", 2.0)
    RUN_STALE_S = _float("RUN_STALE_S", 15.0)
    RUNS_KEEP = _int("RUNS_KEEP", 200)  # run folders kept on disk, newest first

    # The job queue (app.jobs.queue): redis://HOST:PORT/DB in production; unset means Huey's
    # SQLite storage in the instance folder (the demo); eager:// runs jobs inline (tests).
    QUEUE_URL = os.environ.get("QUEUE_URL")
    QUEUE_NAME = os.environ.get("QUEUE_NAME", "chunlei")
    JOB_HEARTBEAT_S = _float("JOB_HEARTBEAT_S", 2.0)  # a running job's sign of life
    JOB_STALE_S = _float("JOB_STALE_S", 15.0)  # silent this long: its worker died
    JOB_REAP_S = _float("JOB_REAP_S", 5.0)  # how often each worker looks for dead jobs
    JOB_RETRY_DELAY_S = _float("JOB_RETRY_DELAY_S", 5.0)  # back-off per failed attempt
    WORKER_SHUTDOWN_S = _float("WORKER_SHUTDOWN_S", 60.0)  # SIGTERM: time to finish a job
    # Task modules beyond app.jobs.tasks (comma-separated), e.g. a plug-in's jobs.
    JOB_TASK_MODULES = tuple(m for m in os.environ.get("JOB_TASK_MODULES", "").split(",") if m)

    # Instant placement (app.services.placement): a proposal's acceptance deadline, the CP-SAT
    # time of one placement, how often a placement retries when a slot was taken under it, and
    # how many bases (nearest that fit first) one request's neighbourhood may span.
    # INSTANT_PLACEMENT=0 leaves requests and freed slots to the nightly run (no jobs enqueued).
    INSTANT_PLACEMENT = os.environ.get("INSTANT_PLACEMENT", "1") not in ("0", "false", "no")
    PROPOSAL_TTL_HOURS = _float("PROPOSAL_TTL_HOURS", 24.0)
    PROPOSAL_EXPIRY_S = _float("PROPOSAL_EXPIRY_S", 60.0)  # how often the clock releases them
    PLACEMENT_TIME_LIMIT_S = _float("PLACEMENT_TIME_LIMIT_S", 1.0)
    PLACEMENT_ATTEMPTS = _int("PLACEMENT_ATTEMPTS", 3)
    PLACEMENT_MAX_BASES = _int("PLACEMENT_MAX_BASES", 6)

    # Outgoing mail: kept in the database outbox unless SMTP_HOST is set.
    SMTP_HOST = os.environ.get("SMTP_HOST")
    SMTP_PORT = _int("SMTP_PORT", 25)
    MAIL_FROM = os.environ.get("MAIL_FROM", "chunlei@localhost")

    @property
    def is_production(self) -> bool:
        return self.ENV_NAME == "production"


class TestingConfig(Config):
    """What the tests run with: always an in-memory SQLite database.

    PostgreSQL tests never use the server's database named in TEST_DATABASE_URL directly: the
    fixtures in tests/conftest.py create a scratch database per run on that server (and drop it),
    so several test runs on one server never collide.
    """

    TESTING = True
    ENV_NAME = "testing"
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SESSION_COOKIE_SECURE = False
    SOLVER_TIME_LIMIT_S = 5.0
    QUEUE_URL = "eager://"
    # Filing a request or freeing a slot places nothing in tests unless a test turns it on
    # (tests/app/services/test_placement.py and the other placement tests do).
    INSTANT_PLACEMENT = False
