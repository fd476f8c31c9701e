"""Configuration: every setting once, with its type, default and meaning, read once from the environment.

:class:`Settings` is the list: one typed field per setting, its environment variable and a
one-line doc (the README's configuration table is generated from it and a test keeps the two
in step). ``Settings.from_env()`` runs once, at import; :class:`Config` is what the product
runs with (those values as Flask config keys, plus the fixed Flask settings) and
:class:`TestingConfig` what the test-suite passes to ``create_app``. Code reads a setting
through :func:`settings`, a typed view of the running app's config (so a test may change one).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from ipaddress import ip_network
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app


def database_url(raw: str | None) -> str | None:
    """Map a plain ``postgresql://`` (or ``postgres://``) URL to the psycopg 3 driver."""
    if not raw:
        return None
    for prefix in ("postgresql://", "postgres://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _setting(default: Any, doc: str, *, env: str | None = None, shown: str | None = None) -> Any:
    """A field of :class:`Settings`: its default, a one-line doc, its environment variable
    (the field's name unless given) and how the README shows the default (if not plainly)."""
    return field(default=default, metadata={"doc": doc, "env": env, "shown": shown})


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _parse(kind: str, raw: str, variable: str) -> Any:
    """One environment value as the field's type; a bad value names the variable."""
    try:
        if kind == "bool":
            if raw.strip().lower() in _TRUE:
                return True
            if raw.strip().lower() in _FALSE:
                return False
            raise ValueError("expected 1/0, true/false, yes/no or on/off")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind.startswith("tuple[float"):
            return tuple(float(part) for part in raw.split(",") if part.strip())
        if kind.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError as e:
        raise ValueError(f"{variable}={raw!r}: {e}") from None
    return raw


@dataclass(frozen=True)
class Settings:
    """Every setting of Chunlei. Field names are the Flask config keys."""

    ENV_NAME: str = _setting(
        "development",
        "`production` turns on secure (HTTPS-only) session and remember cookies and the "
        "SECRET_KEY check",
        env="CHUNLEI_ENV",
    )
    SECRET_KEY: str | None = _setting(
        None,
        "required when `CHUNLEI_ENV=production` (the app refuses to start without it)",
        shown="a random key made on first start and kept in `instance/secret_key` (mode 0600)",
    )
    DATABASE_URL: str | None = _setting(
        None,
        "any SQLAlchemy URL; a plain `postgresql://user@host/db` is mapped to the psycopg 3 driver",
        shown="SQLite file in the instance folder",
    )
    DB_POOL_SIZE: int = _setting(
        5, "each process's database pool (keep it at or above the threads of a gunicorn worker)"
    )
    DB_POOL_MAX_OVERFLOW: int = _setting(10, "connections a pool may open beyond its size")
    DB_POOL_RECYCLE_S: int = _setting(1800, "a pooled connection is renewed after this age")
    DB_POOL_PRE_PING: bool = _setting(
        False,
        "`1` pings each connection before use: survives a database restart without one failed "
        "request per process, at one extra round trip per request",
    )
    TIMEZONE: str = _setting(
        "Asia/Shanghai",
        "the zone of screens and exchange files (the database stores UTC)",
        env="CHUNLEI_TIMEZONE",
    )
    REDIS_URL: str | None = _setting(
        None,
        "a Redis server (`redis://host:6379/0`); login attempts are counted there, so every "
        "gunicorn worker shares the limits",
    )
    RATELIMIT_STORAGE_URI: str | None = _setting(
        None,
        "where login attempts are counted (a limits storage URI)",
        shown="`REDIS_URL` when set, else each process's memory",
    )
    RATELIMIT_KEY_PREFIX: str = _setting("chunlei", "the prefix of the login limits' keys")
    LOGIN_RATE_LIMIT: str = _setting(
        "10 per minute",
        "login attempts (form and `POST /api/v1/tokens` together) per account",
    )
    LOGIN_ADDRESS_RATE_LIMIT: str = _setting(
        "50 per minute", "login attempts (form and token endpoint together) per client address"
    )
    LOGIN_MAX_AGE_DAYS: int = _setting(
        30, 'a login, "keep me signed in" or not, ends after this many days'
    )
    API_TOKEN_MAX_AGE_S: int = _setting(
        7 * 24 * 3600, "how long an API token is valid", shown="604800 (7 days)"
    )
    CANCEL_CUTOFF_HOURS: float = _setting(
        24.0, "participants cannot cancel later than this before a session"
    )
    MAX_SLOTS_PER_BOOKING: int = _setting(
        4, "the most consecutive slots one booking (or one session of a request) may take"
    )
    MAX_SESSIONS_PER_DAY: int = _setting(2, "the daily cap of new planning weeks")
    SAME_DAY_SAME_BASE: bool = _setting(
        True, "new planning weeks keep a participant's sessions of one day at one base"
    )
    TARGET_UTILIZATION: float = _setting(0.85, "the target utilization of new planning weeks")
    CATEGORY_SEPARATION: str | None = _setting(
        None,
        "`base`: new planning weeks keep same-category sessions of different sellers apart at "
        "one base (rule 9)",
    )
    FREEZE_HOURS: float = _setting(24.0, "nothing new may start within this many hours from now")
    SOLVER_TIME_LIMIT_S: float = _setting(60.0, "the solver's time limit of one run")
    SOLVER_WORKERS: int = _setting(2, "the solver's worker threads")
    SOLVER_PARTS: int = _setting(
        4,
        "a week of at least `SOLVER_PARTS_MIN_REQUESTS` requests is solved in this many parts, "
        "as jobs on the queue's workers (0 or 1: one solver child)",
    )
    SOLVER_PARTS_MIN_REQUESTS: int = _setting(
        12000, "the size of week (requests) from which a run is solved in parts"
    )
    SOLVER_PART_WORKERS: int = _setting(
        2,
        "the job workers expected to share a run's parts: each part gets the parts' share of the "
        "time divided by the rounds they need",
    )
    SOLVER_PART_THREADS: int = _setting(1, "CP-SAT threads of one part's solver child")
    NIGHTLY_CRON: str = _setting(
        "0 2 * * *",
        "the nightly re-optimization (crontab, in `CHUNLEI_TIMEZONE`; day numbers count from "
        "Sunday = 0)",
    )
    NIGHTLY_WEEKS_AHEAD_DAYS: int = _setting(
        7, "the nightly job re-plans every week overlapping the next N days"
    )
    MISFIRE_GRACE_S: int = _setting(
        3600, "a nightly run missed by at most this long still runs when the clock starts"
    )
    SOLVER_COMMAND: str | None = _setting(
        None,
        "the solver child a run starts (an argv prefix; it gets `INSTANCE -o PLAN --time-limit "
        "S --workers N`)",
        shown="python -m scheduler solve",
    )
    SOLVER_GRACE_S: float = _setting(
        60.0, "how long past its time limit the solver child may take before it is killed"
    )
    RUNS_DIR: str | None = _setting(None, "where each run keeps its files", shown="instance/runs")
    RUNS_KEEP: int = _setting(200, "run folders kept on disk, newest first")
    RUN_HEARTBEAT_S: float = _setting(
        2.0, "the process carrying out a run beats the run's heartbeat this often"
    )
    RUN_STALE_S: float = _setting(
        15.0, "a running run silent this long counts as dead (its week is released)"
    )
    QUEUE_URL: str | None = _setting(
        None,
        "the job queue: `redis://HOST:PORT/DB` in production; `eager://` runs jobs inline",
        shown="Huey's SQLite file in the instance folder",
    )
    QUEUE_NAME: str = _setting("chunlei", "the job queue's name")
    JOB_HEARTBEAT_S: float = _setting(2.0, "how often a running job gives a sign of life")
    JOB_STALE_S: float = _setting(15.0, "a job silent this long: its worker died")
    JOB_REAP_S: float = _setting(5.0, "how often each worker looks for dead jobs")
    JOB_RETRY_DELAY_S: float = _setting(5.0, "back-off per failed attempt of a job")
    WORKER_SHUTDOWN_S: float = _setting(60.0, "on SIGTERM, the time a worker has to finish a job")
    JOB_TASK_MODULES: tuple[str, ...] = _setting(
        (), "task modules beyond app.jobs.tasks (comma-separated), e.g. a plug-in's jobs"
    )
    WEBHOOK_RETRY_DELAYS_S: tuple[float, ...] = _setting(
        (5.0, 60.0, 300.0, 1800.0, 7200.0),
        "seconds between the tries of one webhook or robot message (comma-separated; one retry "
        "per number, then the message is given up)",
        shown="`5,60,300,1800,7200`",
    )
    WEBHOOK_TIMEOUT_S: float = _setting(
        10.0, "the time limit of one webhook call (connecting, and waiting for each answer read)"
    )
    WEBHOOK_DISABLE_AFTER_S: float = _setting(
        86400.0,
        "an endpoint whose tries have all failed for this long is disabled and its owner told",
    )
    WEBHOOK_ALLOW_PRIVATE: bool = _setting(
        False,
        "`1` lets endpoints point at loopback, private (RFC 1918), link-local and other "
        "non-public addresses (a receiver on the same network); `0` refuses them at "
        "registration and at every try",
    )
    INSTANT_PLACEMENT: bool = _setting(
        True, "filing a request or freeing a slot places at once; `0` leaves it to the nightly run"
    )
    PROPOSAL_TTL_HOURS: float = _setting(24.0, "a proposal's acceptance deadline")
    PROPOSAL_EXPIRY_S: float = _setting(60.0, "how often the clock releases expired proposals")
    PLACEMENT_TIME_LIMIT_S: float = _setting(1.0, "the CP-SAT time of one placement")
    PLACEMENT_ATTEMPTS: int = _setting(
        3, "how often a placement retries when a slot was taken under it"
    )
    PLACEMENT_BATCH: int = _setting(
        3,
        "how many queued requests one placement job solves together; when more wait, it "
        "enqueues the next job first, so every worker places side by side",
    )
    PLACEMENT_MAX_BASES: int = _setting(
        6, "how many bases (nearest that fit first) one request's neighbourhood may span"
    )
    MAIL_BACKEND: str = _setting(
        "smtp",
        "`smtp` sends through `MAIL_SERVER`; `console` prints each e-mail on the worker's output "
        "(the demo without a mail server); `locmem` keeps them in memory (tests)",
    )
    MAIL_SERVER: str | None = _setting(
        None,
        "the outgoing mail server; without one (and `MAIL_BACKEND=smtp`) e-mails stay in the "
        "database outbox, unsent",
    )
    MAIL_PORT: int = _setting(25, "the mail server's port (587 with STARTTLS, 465 with TLS)")
    MAIL_USE_TLS: bool = _setting(False, "`1`: upgrade the connection with STARTTLS")
    MAIL_USE_SSL: bool = _setting(False, "`1`: implicit TLS from the first byte (port 465)")
    MAIL_CA_FILE: str | None = _setting(
        None,
        "a PEM file of certificate authorities trusted for the mail server, besides the "
        "system's (a private CA); the server's certificate is always verified",
    )
    MAIL_USERNAME: str | None = _setting(None, "the login at the mail server (AUTH)")
    MAIL_PASSWORD: str | None = _setting(None, "the password of `MAIL_USERNAME`")
    MAIL_DEFAULT_SENDER: str = _setting("chunlei@localhost", "the sender (From) of outgoing e-mail")
    MAIL_TIMEOUT: float = _setting(10.0, "seconds to wait for the mail server at each step")
    MAIL_RETRY_DELAYS_S: tuple[str, ...] = _setting(
        ("30", "120", "600", "3600", "14400"),
        "seconds before each new try of an e-mail the server refused or could not take "
        "(comma-separated); after the last, the e-mail is recorded failed",
        shown="`30,120,600,3600,14400`",
    )
    MAIL_SWEEP_S: float = _setting(
        30.0, "how often the clock queues the outbox's e-mails that are due and not yet queued"
    )
    XLSX_MAX_BYTES: int = _setting(
        5 * 1024 * 1024,
        "the largest `.xlsx` file an import accepts, in bytes",
        shown="5242880 (5 MB)",
    )
    XLSX_MAX_ROWS: int = _setting(5000, "the most data rows one imported sheet may have")
    PASSWORD_RESET_TTL_MIN: int = _setting(
        60, "a password-reset link works this many minutes, once"
    )
    LOG_FORMAT: str = _setting(
        "text",
        "`json`: one JSON object per log line (time, level, logger, message, request_id, "
        "context), for production; `text`: readable lines, for a terminal",
    )
    LOG_LEVEL: str = _setting("INFO", "the lowest level logged (DEBUG, INFO, WARNING, ERROR)")
    METRICS_TOKEN: str | None = _setting(
        None,
        "when set, `/metrics` answers only requests with `Authorization: Bearer <token>` "
        "(or from `METRICS_ALLOW_NETWORKS`)",
    )
    METRICS_ALLOW_NETWORKS: tuple[str, ...] = _setting(
        (),
        "networks (comma-separated CIDRs, e.g. `10.0.0.0/8,127.0.0.1/32`) whose clients may "
        "read `/metrics` without the token; with neither set `/metrics` is open",
    )
    PROMETHEUS_MULTIPROC_DIR: str | None = _setting(
        None,
        "an empty directory every process of a host writes its metrics to (required under "
        "gunicorn and for the worker's job metrics; emptied before the processes start)",
        shown="none (each process counts alone)",
    )
    METRICS_LISTEN: str | None = _setting(
        None,
        "`HOST:PORT`: the worker and scheduler processes serve their host's metrics there "
        "(for hosts without a web process; no token: bind to an internal address)",
    )
    CLOCK_HEARTBEAT_S: float = _setting(15.0, "how often the scheduler process records it is alive")
    READY_CLOCK_MAX_AGE_S: float = _setting(
        120.0, "`/readyz` fails when the scheduler's last heartbeat is older than this"
    )
    READY_QUEUE_MAX_AGE_S: float = _setting(
        900.0, "`/readyz` fails when the oldest queued job that is due waits longer than this"
    )

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"CHUNLEI_TIMEZONE={self.TIMEZONE!r}: unknown time zone") from None
        if any(d < 0 for d in self.WEBHOOK_RETRY_DELAYS_S):
            raise ValueError("WEBHOOK_RETRY_DELAYS_S: a delay cannot be negative")
        if self.WEBHOOK_TIMEOUT_S <= 0:
            raise ValueError("WEBHOOK_TIMEOUT_S: must be positive")
        if self.CATEGORY_SEPARATION not in (None, "base"):
            raise ValueError(f"CATEGORY_SEPARATION={self.CATEGORY_SEPARATION!r}: expected base")
        if self.MAIL_USE_TLS and self.MAIL_USE_SSL:
            raise ValueError("MAIL_USE_TLS and MAIL_USE_SSL: choose one (STARTTLS or implicit TLS)")
        if self.MAIL_BACKEND not in ("smtp", "console", "locmem"):
            raise ValueError(
                f"MAIL_BACKEND={self.MAIL_BACKEND!r}: expected smtp, console or locmem"
            )
        try:
            delays = [float(d) for d in self.MAIL_RETRY_DELAYS_S]
        except ValueError:
            delays = [-1.0]
        if any(d < 0 for d in delays):
            raise ValueError(
                f"MAIL_RETRY_DELAYS_S={','.join(self.MAIL_RETRY_DELAYS_S)!r}: expected seconds "
                "separated by commas"
            )
        if self.LOG_FORMAT not in ("json", "text"):
            raise ValueError(f"LOG_FORMAT={self.LOG_FORMAT!r}: expected json or text")
        if self.LOG_LEVEL.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(
                f"LOG_LEVEL={self.LOG_LEVEL!r}: expected DEBUG, INFO, WARNING or ERROR"
            )
        if self.METRICS_LISTEN is not None:
            host, _, port = self.METRICS_LISTEN.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"METRICS_LISTEN={self.METRICS_LISTEN!r}: expected HOST:PORT")
        for network in self.METRICS_ALLOW_NETWORKS:
            try:
                ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"METRICS_ALLOW_NETWORKS: {network!r} is not a network (CIDR)"
                ) from None

    @property
    def mail_retry_delays(self) -> tuple[float, ...]:
        """The back-off before each new try of an e-mail, in seconds."""
        return tuple(float(d) for d in self.MAIL_RETRY_DELAYS_S)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """The settings the environment gives; an unset or empty variable keeps the default."""
        values = {}
        for f in fields(cls):
            variable = env_variable(f.name)
            raw = env.get(variable)
            if raw:
                values[f.name] = _parse(str(f.type).split(" ")[0], raw, variable)
        return cls(**values)

    @property
    def is_production(self) -> bool:
        return self.ENV_NAME == "production"

    def engine_options(self) -> dict[str, Any]:
        """The connection pool of each process.

        A ping before every checkout costs a round trip per request (a fifth of a booking's
        database work), so it is off unless ``DB_POOL_PRE_PING=1``: a connection the server
        dropped then fails one request, and SQLAlchemy renews the whole pool.
        """
        return {
            "pool_pre_ping": self.DB_POOL_PRE_PING,
            "pool_recycle": self.DB_POOL_RECYCLE_S,
            "pool_size": self.DB_POOL_SIZE,
            "max_overflow": self.DB_POOL_MAX_OVERFLOW,
        }

    def flask_config(self) -> dict[str, Any]:
        """These settings as Flask config keys, plus the Flask settings derived from them."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out.update(
            # None means "a SQLite file in the Flask instance folder" (resolved in create_app).
            SQLALCHEMY_DATABASE_URI=database_url(self.DATABASE_URL),
            SQLALCHEMY_ENGINE_OPTIONS=self.engine_options(),
            BABEL_DEFAULT_TIMEZONE=self.TIMEZONE,
            SESSION_COOKIE_SECURE=self.is_production,
            REMEMBER_COOKIE_SECURE=self.is_production,
            REMEMBER_COOKIE_DURATION=timedelta(days=self.LOGIN_MAX_AGE_DAYS),
        )
        return out


def env_variable(name: str) -> str:
    """The environment variable of setting ``name``."""
    for f in fields(Settings):
        if f.name == name:
            return f.metadata["env"] or f.name
    raise KeyError(name)


def _shown_default(f: Any) -> str:
    if f.metadata["shown"] is not None:
        return f.metadata["shown"]
    if f.default is None:
        return "none"
    if isinstance(f.default, bool):
        return "1" if f.default else "0"
    if f.default == ():
        return "none"
    if isinstance(f.default, float):
        return f"{f.default:g}"
    if isinstance(f.default, str):
        return f"`{f.default}`"
    return str(f.default)


def markdown_table() -> str:
    """The README's configuration table: variable, default, meaning (``python config.py``)."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for f in fields(Settings):
        variable = f.metadata["env"] or f.name
        lines.append(f"| `{variable}` | {_shown_default(f)} | {f.metadata['doc']} |")
    return "\n".join(lines) + "\n"


def engine_options(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The connection pool options the environment ``env`` gives (``DB_POOL_*``)."""
    return Settings.from_env(env).engine_options()


def settings(app: Flask | None = None) -> Settings:
    """The running app's settings, typed (a test may have changed one in ``app.config``)."""
    config = (app or current_app).config
    return Settings(**{f.name: config[f.name] for f in fields(Settings)})


#: What the environment says, read once.
ENVIRONMENT = Settings.from_env()


class Config:
    """What the product runs with: the environment's settings plus the fixed Flask settings."""

    BABEL_DEFAULT_LOCALE = "zh_CN"
    LANGUAGES = ("zh_CN", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = True


for _key, _value in ENVIRONMENT.flask_config().items():
    setattr(Config, _key, _value)


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
    # Filing a request or freeing a slot places nothing in tests unless a test turns it on.
    INSTANT_PLACEMENT = False
    # E-mails stay in the outbox unless a test starts a mail server and names it.
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = None


if __name__ == "__main__":
    print(markdown_table(), end="")
