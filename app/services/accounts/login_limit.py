"""How many login attempts an account and an address may make, counted where every worker sees.

Two budgets, both checked on every attempt through the login form and ``POST /api/v1/tokens``:
``LOGIN_RATE_LIMIT`` per account (the submitted username, so guessing one account's password
from many addresses is still limited) and ``LOGIN_ADDRESS_RATE_LIMIT`` per client address (larger,
as a co-op office shares one address). Counts live in ``RATELIMIT_STORAGE_URI``, which defaults
to ``REDIS_URL`` when that is set (every gunicorn worker then shares the budgets) and to each
process's memory otherwise (the demo). Moving windows: no burst at a window's edge.
"""

from __future__ import annotations

import hashlib
import logging

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from config import settings

log = logging.getLogger(__name__)


class LoginLimiter:
    """The two login budgets of one app, over one storage (and memory if that storage fails)."""

    def __init__(self, uri: str, *, prefix: str, per_account: str, per_address: str) -> None:
        self.uri = uri
        self.prefix = prefix
        self.per_account: RateLimitItem = parse(per_account)
        self.per_address: RateLimitItem = parse(per_address)
        self._shared = MovingWindowRateLimiter(storage_from_string(uri))
        self._local: MovingWindowRateLimiter | None = None  # made when the storage fails

    def _hit(self, item: RateLimitItem, *key: str) -> bool:
        try:
            return self._shared.hit(item, self.prefix, *key)
        except Exception as e:  # any storage failure
            # Redis down: keep limiting, per process, rather than failing every login.
            log.error("login limit storage %s failed (%r); counting in memory", self.uri, e)
            if self._local is None:
                self._local = MovingWindowRateLimiter(MemoryStorage())
            return self._local.hit(item, self.prefix, *key)

    def allow(self, username: str, address: str) -> bool:
        """Count one attempt; ``False`` when the address or the account is over its budget."""
        if not self._hit(self.per_address, "login-address", address or "unknown"):
            return False
        account = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        return self._hit(self.per_account, "login-account", account)

    def retry_after(self) -> int:
        """Seconds to tell a refused client to wait (the longer window)."""
        return max(self.per_account.get_expiry(), self.per_address.get_expiry())


def init_app(app: Flask) -> None:
    """Resolve the storage and keep this app's limiter in ``app.extensions``."""
    config, given = app.config, settings(app)
    uri = given.RATELIMIT_STORAGE_URI or given.REDIS_URL or "memory://"
    config["RATELIMIT_STORAGE_URI"] = uri
    if uri.startswith("memory") and given.is_production:
        app.logger.warning(
            "login limits are counted per process: set REDIS_URL so every worker shares them"
        )
    app.extensions["login_limiter"] = LoginLimiter(
        uri,
        prefix=given.RATELIMIT_KEY_PREFIX,
        per_account=given.LOGIN_RATE_LIMIT,
        per_address=given.LOGIN_ADDRESS_RATE_LIMIT,
    )


def allow_login_attempt(username: str, address: str | None) -> bool:
    """Count a login attempt of the current app; ``False`` means refuse it (429)."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    return current_app.extensions["login_limiter"].allow(username, address or "")


def retry_after() -> int:
    """Seconds a refused client should wait."""
    return current_app.extensions["login_limiter"].retry_after()
