"""Signatures: Standard Webhooks for webhooks, DingTalk's signed mode for its robots.

Standard Webhooks (https://www.standardwebhooks.com): the secret is ``whsec_`` + base64 of 24
to 64 random bytes; each try sends ``webhook-id`` (the message's, the same on every try),
``webhook-timestamp`` (the try's Unix seconds) and ``webhook-signature`` =
``v1,`` + base64(HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}")).

DingTalk (open.dingtalk.com, 自定义机器人 加签): ``timestamp`` (milliseconds) and ``sign`` =
urlencode(base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))) as query parameters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from urllib.parse import quote_plus

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh Standard Webhooks secret (``whsec_`` + base64 of 24 random bytes)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def secret_bytes(secret: str) -> bytes:
    """The key of a ``whsec_`` secret; ValueError when it is not one."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret holds 24 to 64 bytes (32 to 88 base64 characters)")
    return key


def standard_headers(secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers of one try."""
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }


def dingtalk_query(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``timestamp=...&sign=...`` for a signed robot."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return f"timestamp={timestamp_ms}&sign={quote_plus(base64.b64encode(digest))}"
