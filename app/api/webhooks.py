"""/api/v1/webhooks: outgoing webhooks and group robots of the caller's bases.

Admins and operators register endpoints (a signed webhook, a WeCom or a DingTalk group robot),
list and change their own, send a test and read each endpoint's delivery log. Thin: parse,
call ``app.services.webhooks.endpoints``, present.
"""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Float, Integer, List, String
from apiflask.validators import Length, OneOf

from app.api import bp
from app.api.auth import auth, current_account
from app.api.paging import page_of
from app.api.schemas import _limit, _offset, _Strict
from app.localtime import local_zone
from app.models import EndpointKind, MessageFormat, WebhookEndpoint
from app.services.webhooks import endpoints as svc
from app.services.webhooks.events import EVENT_TYPES

ERRORS = {401: "Missing or invalid token", 403: "Participants cannot", 404: "Not found"}
KINDS = tuple(k.value for k in EndpointKind)
FORMATS = tuple(f.value for f in MessageFormat)


class EndpointIn(_Strict):
    """A new endpoint: where, what kind, which events about which bases."""

    url = String(required=True, validate=Length(1, 2000), metadata={"description": "http(s) URL"})
    kind = String(
        load_default="webhook",
        validate=OneOf(KINDS),
        metadata={"description": "webhook (signed JSON), wecom or dingtalk (group robots)"},
    )
    events = List(
        String(validate=Length(1, 40)),
        required=True,
        validate=Length(1, len(EVENT_TYPES)),
        metadata={"description": "any of " + ", ".join(EVENT_TYPES)},
    )
    bases = List(String(validate=Length(1, 16)), load_default=list, validate=Length(0, 2000))
    all_bases = Boolean(
        load_default=False,
        metadata={"description": "every base the caller operates (every base for an admin)"},
    )
    secret = String(
        load_default=None,
        allow_none=True,
        validate=Length(1, 200),
        metadata={"description": "webhook: whsec_<base64> (made when absent); dingtalk: SEC..."},
    )
    format = String(load_default="markdown", validate=OneOf(FORMATS))
    description = String(load_default=None, allow_none=True, validate=Length(0, 200))


class EndpointChange(_Strict):
    """What may change on an endpoint (each field optional)."""

    events = List(String(validate=Length(1, 40)), validate=Length(1, len(EVENT_TYPES)))
    bases = List(String(validate=Length(1, 16)), validate=Length(0, 2000))
    all_bases = Boolean()
    enabled = Boolean(metadata={"description": "false turns it off; true on again"})
    description = String(validate=Length(0, 200))


class EndpointOut(Schema):
    """An endpoint; ``secret`` is given to its owner (and admins) to check signatures."""

    id = String(metadata={"description": "W00001"})
    kind = String()
    url = String()
    events = List(String())
    bases = List(String())
    all_bases = Boolean()
    format = String()
    description = String(allow_none=True)
    owner = String()
    enabled = Boolean()
    disabled_reason = String(allow_none=True)
    failing_since = DateTime(allow_none=True)
    created_at = DateTime()
    secret = String(allow_none=True)


class AttemptOut(Schema):
    """One try of one message: the delivery log."""

    message = String(metadata={"description": "the webhook-id (the same on every try)"})
    event = String()
    attempt = Integer()
    started_at = DateTime()
    latency_ms = Integer()
    response_status = Integer(allow_none=True)
    ok = Boolean()
    error = String(allow_none=True)
    retry_in_s = Float(allow_none=True)
    message_status = String(metadata={"description": "pending, delivered or failed"})


class LogQuery(_Strict):
    """A page of the delivery log."""

    limit = _limit(50, 500)
    offset = _offset()


class TestOut(Schema):
    """The test message queued."""

    message = String()
    event = String()
    status = String()


def endpoint_dict(e: WebhookEndpoint, *, with_secret: bool = False) -> dict:
    """An endpoint as the API shows it."""
    zone = local_zone()
    return {
        "id": e.code,
        "kind": str(e.kind),
        "url": e.url,
        "events": list(e.events or []),
        "bases": [h.code for h in e.hubs],
        "all_bases": e.all_bases,
        "format": str(e.format),
        "description": e.description,
        "owner": e.owner.username,
        "enabled": e.enabled,
        "disabled_reason": e.disabled_reason,
        "failing_since": e.failing_since.astimezone(zone) if e.failing_since else None,
        "created_at": e.created_at.astimezone(zone),
        "secret": e.secret if with_secret else None,
    }


@bp.post("/webhooks")
@bp.auth_required(auth)
@bp.input(EndpointIn, arg_name="body")
@bp.output(EndpointOut, status_code=201)
@bp.doc(
    summary="Register a webhook or group robot for your bases",
    responses={422: "Bad URL, unknown event, bad secret (reason names it)", **ERRORS},
)
def create_webhook(body: dict):
    """Operators choose bases they operate (or ``all_bases``); admins any base or all.

    The answer carries the secret that signs every message (Standard Webhooks).
    """
    made = svc.register(current_account(), svc.EndpointSpec(**body))
    return endpoint_dict(made, with_secret=True)


@bp.get("/webhooks")
@bp.auth_required(auth)
@bp.output(EndpointOut(many=True))
@bp.doc(summary="Your webhooks and group robots (admins: all)", responses=ERRORS)
def list_webhooks():
    """Oldest first, without secrets."""
    return [endpoint_dict(e) for e in svc.list_endpoints(current_account())]


@bp.get("/webhooks/<code>")
@bp.auth_required(auth)
@bp.output(EndpointOut)
@bp.doc(summary="One webhook or group robot, with its secret", responses=ERRORS)
def get_webhook(code: str):
    """An endpoint the caller owns (admins: any)."""
    return endpoint_dict(svc.get_endpoint(current_account(), code), with_secret=True)


@bp.patch("/webhooks/<code>")
@bp.auth_required(auth)
@bp.input(EndpointChange, arg_name="body")
@bp.output(EndpointOut)
@bp.doc(summary="Change events or bases; enable or disable", responses=ERRORS)
def change_webhook(code: str, body: dict):
    """``enabled: true`` turns a disabled endpoint on again (and forgets its failing streak)."""
    user = current_account()
    found = svc.get_endpoint(user, code)
    return endpoint_dict(svc.change(user, found, **body))


@bp.delete("/webhooks/<code>")
@bp.auth_required(auth)
@bp.output({}, status_code=204)
@bp.doc(summary="Remove a webhook or group robot with its log", responses=ERRORS)
def delete_webhook(code: str):
    """Its pending messages are never sent."""
    user = current_account()
    svc.remove(user, svc.get_endpoint(user, code))
    return ""


@bp.post("/webhooks/<code>/test")
@bp.auth_required(auth)
@bp.output(TestOut, status_code=202)
@bp.doc(summary="Queue a test message (webhook.test)", responses={422: "Disabled", **ERRORS})
def test_webhook(code: str):
    """Signed and retried like any event; see its outcome in the delivery log."""
    user = current_account()
    message = svc.send_test(user, svc.get_endpoint(user, code))
    return {"message": message.msg_id, "event": message.event_type, "status": "pending"}


@bp.get("/webhooks/<code>/attempts")
@bp.auth_required(auth)
@bp.input(LogQuery, location="query", arg_name="q")
@bp.output(AttemptOut(many=True))
@bp.doc(summary="The delivery log: every try, newest first", responses=ERRORS)
def webhook_attempts(code: str, q: dict):
    """Status code, latency, error and the next retry of each try."""
    found = svc.get_endpoint(current_account(), code)
    rows = svc.delivery_log(found, limit=q["limit"] + 1, offset=q["offset"])
    rows, headers = page_of(rows, q)
    zone = local_zone()
    return (
        [
            {
                "message": m.msg_id,
                "event": m.event_type,
                "attempt": a.attempt,
                "started_at": a.started_at.astimezone(zone),
                "latency_ms": a.latency_ms,
                "response_status": a.response_status,
                "ok": a.ok,
                "error": a.error,
                "retry_in_s": a.retry_in_s,
                "message_status": str(m.status),
            }
            for a, m in rows
        ],
        200,
        headers,
    )
