"""Registering and running endpoints: add, list, change, enable, remove, test, delivery log.

Admins and operators register endpoints; an operator only for bases they operate (or "all my
bases"), an admin for chosen bases or every base. Each sees and changes only their own
endpoints (an admin every endpoint); anyone else's answers "not found". Every refusal is a
ServiceError raised before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Hub,
    Role,
    User,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
    utcnow,
)
from app.models.vocabulary import EndpointKind, MessageFormat
from app.services.accounts.access import Forbidden, NotFound, is_admin, operated_hub_ids
from app.services.errors import ServiceError
from app.services.webhooks import addresses, signing
from app.services.webhooks.events import EVENT_TYPES, TEST_EVENT, record
from config import settings


class InvalidEndpoint(ServiceError):
    """A field of an endpoint is wrong (422); ``code`` names which."""

    status = 422
    code = "invalid_endpoint"


@dataclass(frozen=True)
class EndpointSpec:
    """What a person asks for when registering an endpoint."""

    url: str
    events: Sequence[str]
    kind: str = EndpointKind.WEBHOOK
    bases: Sequence[str] = ()
    all_bases: bool = False
    secret: str | None = None
    format: str = MessageFormat.MARKDOWN
    description: str | None = None


def _require_staff(actor: User) -> None:
    if actor.role not in (Role.ADMIN, Role.OPERATOR):
        raise Forbidden("only admins and base operators manage integrations", code="forbidden")


def check_events(events: Sequence[str]) -> list[str]:
    """The events, known and each once; InvalidEndpoint names an unknown one."""
    wanted = [str(e).strip() for e in events if str(e).strip()]
    if not wanted:
        raise InvalidEndpoint("choose at least one event", code="no_events")
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown:
        raise InvalidEndpoint(
            f"unknown event {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}",
            code="unknown_event",
            detail={"events": unknown, "known": list(EVENT_TYPES)},
        )
    return [e for e in EVENT_TYPES if e in wanted]


def check_bases(actor: User, codes: Sequence[str], all_bases: bool) -> list[Hub]:
    """The bases chosen, each one the actor operates; all_bases excludes a list."""
    codes = sorted({c.strip().upper() for c in codes if c and c.strip()})
    if all_bases:
        if codes:
            raise InvalidEndpoint("choose some bases or all bases, not both", code="bases")
        return []
    if not codes:
        raise InvalidEndpoint("choose at least one base (or all bases)", code="no_bases")
    hubs = list(db.session.scalars(select(Hub).where(Hub.code.in_(codes))))
    mine = operated_hub_ids(actor)
    unknown = [c for c in codes if c not in {h.code for h in hubs}]
    others = [h.code for h in hubs if mine is not None and h.id not in mine]
    if unknown or others:
        bad = (unknown + others)[0]
        raise Forbidden(
            f"you do not operate base {bad}", code="other_base", detail={"bases": unknown + others}
        )
    return hubs


def check_kind(spec: EndpointSpec) -> tuple[EndpointKind, MessageFormat, str | None]:
    """The kind, format and secret: a webhook's whsec_ secret (made when none is given), a
    DingTalk robot's optional SEC... secret, no secret for a WeCom robot."""
    try:
        kind = EndpointKind(spec.kind)
    except ValueError:
        raise InvalidEndpoint(
            f"unknown kind {spec.kind!r}; use webhook, wecom or dingtalk", code="kind"
        ) from None
    try:
        fmt = MessageFormat(spec.format or MessageFormat.MARKDOWN)
    except ValueError:
        raise InvalidEndpoint(
            f"unknown format {spec.format!r}; use text or markdown", code="format"
        ) from None
    secret = (spec.secret or "").strip() or None
    if kind == EndpointKind.WEBHOOK:
        if secret is None:
            return kind, fmt, signing.new_secret()
        try:
            signing.secret_bytes(secret)
        except ValueError as e:
            raise InvalidEndpoint(str(e), code="secret") from None
    elif kind == EndpointKind.DINGTALK:
        if secret is not None and (not secret.startswith("SEC") or len(secret) > 200):
            raise InvalidEndpoint("a DingTalk signing secret starts with SEC", code="secret")
    elif secret is not None:
        raise InvalidEndpoint(
            "a WeCom robot takes no secret (its key is in the URL)", code="secret"
        )
    return kind, fmt, secret


def check_url(kind: EndpointKind, url: str) -> str:
    """The URL, checked for the kind: a WeCom robot's carries ``key=``, DingTalk's
    ``access_token=``; every URL passes the address check (see ``addresses``)."""
    parts = addresses.parse(url)
    if kind == EndpointKind.WECOM and "key=" not in (parts.query or ""):
        raise addresses.BadAddress("a WeCom robot URL ends in /cgi-bin/webhook/send?key=...")
    if kind == EndpointKind.DINGTALK and "access_token=" not in (parts.query or ""):
        raise addresses.BadAddress("a DingTalk robot URL ends in /robot/send?access_token=...")
    addresses.resolve(url, allow_private=settings().WEBHOOK_ALLOW_PRIVATE)
    return url.strip()


def register(actor: User, spec: EndpointSpec) -> WebhookEndpoint:
    """Add an endpoint owned by ``actor``; commits. Refusals write nothing."""
    _require_staff(actor)
    kind, fmt, secret = check_kind(spec)
    events = check_events(spec.events)
    hubs = check_bases(actor, spec.bases, spec.all_bases)
    url = check_url(kind, spec.url)
    description = (spec.description or "").strip()[:200] or None
    endpoint = WebhookEndpoint(
        code="w" + signing.new_secret()[6:18],  # placeholder until the id is known
        owner_id=actor.id,
        kind=kind,
        url=url,
        secret=secret,
        format=fmt,
        events=events,
        all_bases=spec.all_bases,
        description=description,
        enabled=True,
    )
    endpoint.hubs = hubs
    db.session.add(endpoint)
    db.session.flush()
    endpoint.code = f"W{endpoint.id:05d}"
    db.session.commit()
    return endpoint


def visible_endpoints(actor: User):
    """The endpoints ``actor`` may see (a select)."""
    stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if not is_admin(actor):
        stmt = stmt.where(WebhookEndpoint.owner_id == actor.id)
    return stmt


def list_endpoints(actor: User) -> list[WebhookEndpoint]:
    """The endpoints ``actor`` may see, oldest first."""
    _require_staff(actor)
    return list(db.session.scalars(visible_endpoints(actor)))


def get_endpoint(actor: User, code: str) -> WebhookEndpoint:
    """One endpoint ``actor`` may see; NotFound otherwise."""
    _require_staff(actor)
    found = db.session.scalar(
        visible_endpoints(actor).where(WebhookEndpoint.code == (code or "").strip().upper())
    )
    if found is None:
        raise NotFound(f"no endpoint {code}")
    return found


def change(
    actor: User,
    endpoint: WebhookEndpoint,
    *,
    events: Sequence[str] | None = None,
    bases: Sequence[str] | None = None,
    all_bases: bool | None = None,
    enabled: bool | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    """Change what an endpoint hears, or turn it on or off; commits."""
    if events is not None:
        endpoint.events = check_events(events)
    if bases is not None or all_bases is not None:
        every = endpoint.all_bases if all_bases is None else all_bases
        chosen = bases if bases is not None else ([] if every else [h.code for h in endpoint.hubs])
        endpoint.hubs = check_bases(actor, chosen, every)
        endpoint.all_bases = every
    if description is not None:
        endpoint.description = description.strip()[:200] or None
    if enabled is True and not endpoint.enabled:
        endpoint.enabled = True
        endpoint.disabled_at = endpoint.disabled_reason = endpoint.failing_since = None
    elif enabled is False and endpoint.enabled:
        endpoint.enabled = False
        endpoint.disabled_at = utcnow()
        endpoint.disabled_reason = f"disabled by {actor.username}"
    db.session.commit()
    return endpoint


def remove(actor: User, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its messages and delivery log; commits."""
    db.session.delete(endpoint)
    db.session.commit()


def send_test(actor: User, endpoint: WebhookEndpoint) -> WebhookMessage:
    """Queue a ``webhook.test`` message to the endpoint (same signing, queue and log); commits."""
    if not endpoint.enabled:
        raise InvalidEndpoint(
            f"endpoint {endpoint.code} is disabled; enable it first", code="disabled"
        )
    message = record(
        endpoint,
        TEST_EVENT,
        {
            "endpoint": endpoint.code,
            "message": "春雷集成测试消息 / Chinese test message from Chunlei",
        },
    )
    db.session.commit()
    return message


def delivery_log(endpoint: WebhookEndpoint, *, limit: int = 50, offset: int = 0):
    """The endpoint's attempts, newest first, each with its message (event type, webhook-id)."""
    return list(
        db.session.execute(
            select(WebhookAttempt, WebhookMessage)
            .join(WebhookMessage, WebhookMessage.id == WebhookAttempt.message_id)
            .where(WebhookAttempt.endpoint_id == endpoint.id)
            .order_by(WebhookAttempt.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    )


def messages(endpoint: WebhookEndpoint, *, limit: int = 50) -> list[WebhookMessage]:
    """The endpoint's messages, newest first."""
    return list(
        db.session.scalars(
            select(WebhookMessage)
            .where(WebhookMessage.endpoint_id == endpoint.id)
            .order_by(WebhookMessage.id.desc())
            .limit(limit)
        )
    )


def counts(endpoint: WebhookEndpoint) -> dict[str, int]:
    """How many of the endpoint's messages are pending, delivered and failed."""
    rows = db.session.execute(
        select(WebhookMessage.status, func.count())
        .where(WebhookMessage.endpoint_id == endpoint.id)
        .group_by(WebhookMessage.status)
    ).all()
    return {str(status): n for status, n in rows}
