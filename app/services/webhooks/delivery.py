"""One try of one message, run by the ``webhooks.deliver`` job (never by a web request).

A try reads the message and its endpoint, lets the database go (no transaction is held while
the receiver thinks), signs and sends, then records the attempt. A 2xx answer delivers the
message (a robot must also answer ``errcode`` 0). Otherwise the next try is queued after the
next of ``WEBHOOK_RETRY_DELAYS_S`` with the same ``webhook-id``; when none is left the message is
given up. An endpoint whose tries have all failed for ``WEBHOOK_DISABLE_AFTER_S`` is disabled
and its owner told (an in-app notification, and the e-mail outbox).
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update

from app.extensions import db
from app.jobs.queue import enqueue_with_commit
from app.models import WebhookAttempt, WebhookEndpoint, WebhookMessage, utcnow
from app.models.vocabulary import EndpointKind, MessageStatus
from app.observability import metrics
from app.services.notify.messages import notify_user
from app.services.webhooks import addresses, robots, signing
from app.services.webhooks.events import DELIVER_JOB
from config import settings

log = logging.getLogger("chunlei.webhooks")
USER_AGENT = "Chunlei-Webhooks/1"
EXCERPT = 500


@dataclass
class Outcome:
    """What one call gave: the status code and answer, or the error, and how long it took."""

    status: int | None = None
    answer: bytes = b""
    error: str | None = None
    latency_ms: int = 0


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to an address already checked, with the certificate checked against the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to an address already checked (the Host header still names the host)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: str, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url`` (checked again now), with the time limit; never raises."""
    cfg = settings()
    started = time.monotonic()
    out = Outcome()
    try:
        target = addresses.resolve(url, allow_private=cfg.WEBHOOK_ALLOW_PRIVATE)
        cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
        conn = cls(target.host, target.port, target.address, cfg.WEBHOOK_TIMEOUT_S)
        try:
            conn.request(
                "POST",
                target.path,
                body=body.encode(),
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": USER_AGENT,
                    **headers,
                },
            )
            response = conn.getresponse()
            out.status = response.status
            out.answer = response.read(64 * 1024)
        finally:
            conn.close()
    except addresses.BadAddress as e:
        out.error = e.message
    except (OSError, http.client.HTTPException) as e:
        out.error = f"{type(e).__name__}: {e}".strip()[:300]
    out.latency_ms = int((time.monotonic() - started) * 1000)
    return out


def prepare(endpoint: WebhookEndpoint, message: WebhookMessage) -> tuple[str, str, dict]:
    """The URL, body and headers of one try, signed now (a timestamp of this try)."""
    if endpoint.kind == EndpointKind.WEBHOOK:
        headers = signing.standard_headers(
            endpoint.secret or "", message.msg_id, int(time.time()), message.body
        )
        return endpoint.url, message.body, headers
    body = robots.robot_body(endpoint.kind, endpoint.format, message.body)
    url = endpoint.url
    if endpoint.kind == EndpointKind.DINGTALK and endpoint.secret:
        url += ("&" if "?" in url else "?") + signing.dingtalk_query(
            endpoint.secret, int(time.time() * 1000)
        )
    return url, body, {}


def failure_of(endpoint: WebhookEndpoint, out: Outcome) -> str | None:
    """Why a try failed, or None when the message was delivered."""
    if out.error:
        return out.error
    if out.status is None or not 200 <= out.status < 300:
        return f"HTTP {out.status}"
    if endpoint.kind != EndpointKind.WEBHOOK:
        return robots.robot_refusal(out.answer)
    return None


def attempt(msg_id: str, number: int) -> dict:
    """Try message ``msg_id`` for the ``number``-th time; returns what happened.

    A message already delivered, given up, or past this try (a duplicate job) is left alone.
    """
    message = db.session.query(WebhookMessage).filter_by(msg_id=msg_id).one_or_none()
    if message is None:
        return {"skipped": "no such message"}
    if message.status != MessageStatus.PENDING or message.attempts != number - 1:
        return {"skipped": f"message is {message.status} after {message.attempts} tries"}
    endpoint = message.endpoint
    if not endpoint.enabled:
        message.status, message.finished_at = MessageStatus.FAILED, utcnow()
        message.last_error = "the endpoint is disabled"
        db.session.commit()
        return {"skipped": "endpoint disabled"}
    started = utcnow()
    url, body, headers = prepare(endpoint, message)
    db.session.commit()  # hold no transaction (no lock, no snapshot) while the receiver answers
    out = post(url, body, headers)
    return record(message, endpoint, number, started, out)


def lost_try(msg_id: str, number: int, reason: str) -> dict:
    """Record try ``number`` of a message as failed with ``reason`` (its worker died), unless
    the try was recorded after all; the next try is scheduled as after any failure."""
    message = db.session.query(WebhookMessage).filter_by(msg_id=msg_id).one_or_none()
    if message is None or message.status != MessageStatus.PENDING:
        db.session.rollback()
        return {"skipped": "nothing pending"}
    if message.attempts != number - 1:
        db.session.rollback()
        return {"skipped": "the try was recorded"}
    return record(message, message.endpoint, number, utcnow(), Outcome(error=reason[:300]))


def record(
    message: WebhookMessage, endpoint: WebhookEndpoint, number: int, started, out: Outcome
) -> dict:
    """Write the attempt, deliver or schedule the next try or give up; commits."""
    now = utcnow()
    failure = failure_of(endpoint, out)
    delays = settings().WEBHOOK_RETRY_DELAYS_S
    retry_in = delays[number - 1] if failure and number <= len(delays) else None
    db.session.add(
        WebhookAttempt(
            message_id=message.id,
            endpoint_id=endpoint.id,
            attempt=number,
            started_at=started,
            latency_ms=out.latency_ms,
            response_status=out.status,
            ok=failure is None,
            error=failure,
            response_excerpt=out.answer[:EXCERPT].decode("utf-8", errors="replace") or None,
            retry_in_s=retry_in,
        )
    )
    message.attempts = number
    if failure is None:
        message.status, message.finished_at, message.last_error = MessageStatus.DELIVERED, now, None
        message.next_attempt_at = None
        endpoint.failing_since = None
    else:
        message.last_error = failure
        if retry_in is not None:
            message.next_attempt_at = now + timedelta(seconds=retry_in)
            enqueue_with_commit(
                DELIVER_JOB, {"message": message.msg_id, "attempt": number + 1}, delay_s=retry_in
            )
        else:
            message.status, message.finished_at, message.next_attempt_at = (
                MessageStatus.FAILED,
                now,
                None,
            )
        endpoint.failing_since = endpoint.failing_since or started
        if now - endpoint.failing_since >= timedelta(seconds=settings().WEBHOOK_DISABLE_AFTER_S):
            disable_failing(endpoint, failure)
    db.session.commit()
    metrics.webhook_delivery(
        "delivered" if failure is None else ("failed" if retry_in is not None else "gave_up")
    )
    log.info(
        "webhook %s try %s to %s: %s",
        message.msg_id,
        number,
        endpoint.code,
        "delivered" if failure is None else failure,
    )
    return {
        "message": message.msg_id,
        "attempt": number,
        "ok": failure is None,
        "status": out.status,
        "error": failure,
        "retry_in_s": retry_in,
    }


def disable_failing(endpoint: WebhookEndpoint, failure: str) -> None:
    """Turn off an endpoint that has failed too long, give up its messages, tell its owner."""
    since = endpoint.failing_since
    endpoint.enabled = False
    endpoint.disabled_at = utcnow()
    endpoint.disabled_reason = (
        f"every try failed since {since.isoformat() if since else '?'}: {failure}"
    )
    db.session.execute(
        update(WebhookMessage)
        .where(
            WebhookMessage.endpoint_id == endpoint.id,
            WebhookMessage.status == MessageStatus.PENDING,
        )
        .values(
            status=MessageStatus.FAILED,
            finished_at=utcnow(),
            last_error="the endpoint was disabled",
        )
        .execution_options(synchronize_session=False)
    )
    notify_user(
        endpoint.owner,
        "webhook_disabled",
        {"endpoint": endpoint.code, "url": endpoint.url, "reason": failure},
    )
    log.warning("endpoint %s disabled: %s", endpoint.code, endpoint.disabled_reason)
