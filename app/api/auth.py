"""Bearer tokens for the API: signed, self-contained, revoked by a password change.

A token is ``itsdangerous``-signed ``{"u": user id, "f": fingerprint of the password hash,
"e": the account's session epoch}`` with a timestamp; it is valid for API_TOKEN_MAX_AGE_S
seconds while the account is active, its password unchanged and its epoch the same ("log out
everywhere" and a password change bump it). No token table: nothing to clean up, nothing to leak from the database.
"""

from __future__ import annotations

import functools
import hashlib
import time

from apiflask import HTTPTokenAuth, abort
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, select

from app.api.errors import error_response
from app.extensions import db
from app.models import User

SALT = "chunlei-api-token"

auth = HTTPTokenAuth(scheme="Bearer", description="A token from POST /api/v1/tokens")


def current_account() -> User:
    """The account of the request's bearer token (every route that asks requires one)."""
    user = auth.current_user
    if user is None:  # auth_required lets no request through without an account
        abort(401)
    return user


#: The token's account, by id: built once, as every API call runs it first.
_USER = select(User).where(User.id == bindparam("id"))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def issue_token(user: User) -> str:
    """A signed token for ``user``."""
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user), "e": user.session_epoch})


@functools.lru_cache(maxsize=4096)
def _signed(secret: str, token: str) -> tuple[object, float] | None:
    """The payload and signing time of a token whose signature is good; ``None`` otherwise.

    A signature stays good or bad for a given key, so each process checks a token once (a
    client sends the same token with every call); expiry is checked on every use.
    """
    try:
        data, signed_at = URLSafeTimedSerializer(secret, salt=SALT).loads(
            token, return_timestamp=True
        )
    except BadSignature:
        return None
    return data, signed_at.timestamp()


def user_from_token(token: str) -> User | None:
    """The active user a valid, unexpired token names; ``None`` for anything else."""
    signed = _signed(current_app.config["SECRET_KEY"], token)
    if signed is None or time.time() - signed[1] > current_app.config["API_TOKEN_MAX_AGE_S"]:
        return None
    data = signed[0]
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.scalars(_USER, {"id": data["u"]}).first()
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    if data.get("e", 0) != user.session_epoch:
        return None
    return user


@auth.verify_token
def _verify(token: str) -> User | None:
    return user_from_token(token) if token else None


@auth.error_processor
def _auth_error(error):
    return error_response(
        error.status_code,
        "a valid bearer token is required (POST /api/v1/tokens)"
        if error.status_code == 401
        else "forbidden",
        headers={"WWW-Authenticate": 'Bearer realm="chunlei"'}
        if error.status_code == 401
        else None,
    )
