"""``webhooks add|list|test|log|enable|disable|remove``: integrations from the command line.

Every command acts as an account (``--as``), with the same rules as the pages and the API: an
operator registers endpoints for bases they operate and sees only their own. A refusal is one
line on stderr and nothing is written.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from app.cli.bookings import _account, _refused
from app.cli.params import OneLineCommand
from app.extensions import db
from app.localtime import local_zone
from app.models import EndpointKind, MessageFormat, WebhookMessage
from app.services.errors import ServiceError
from app.services.webhooks import endpoints as svc
from app.services.webhooks.events import EVENT_TYPES

AS_OPTION = click.option("--as", "username", required=True, help="The account that acts.")


@click.group("webhooks")
def webhooks_group() -> None:
    """Outgoing webhooks and WeCom / DingTalk group robots of your bases."""


@webhooks_group.command("add", cls=OneLineCommand)
@click.argument("url")
@AS_OPTION
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    help=f"An event to send (repeatable): {', '.join(EVENT_TYPES)}; 'all' for every one.",
)
@click.option("--base", "bases", multiple=True, help="A base of yours (repeatable).")
@click.option("--all-bases", is_flag=True, help="Every base you operate (admins: every base).")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in EndpointKind]),
    default="webhook",
    show_default=True,
)
@click.option("--secret", help="webhook: whsec_<base64> (made when left out); dingtalk: SEC...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in MessageFormat]),
    default="markdown",
    show_default=True,
    help="How a group robot shows events.",
)
@click.option("--description", help="A note for the list.")
def add_command(url, username, events, bases, all_bases, kind, secret, fmt, description) -> None:
    """Register URL for events of your bases; prints its id and, for a webhook, its secret."""
    actor = _account(username)
    wanted = list(EVENT_TYPES) if "all" in events else list(events)
    spec = svc.EndpointSpec(
        url=url,
        events=wanted,
        kind=kind,
        bases=list(bases),
        all_bases=all_bases,
        secret=secret,
        format=fmt,
        description=description,
    )
    try:
        made = svc.register(actor, spec)
    except ServiceError as e:
        raise _refused(e) from None
    click.echo(f"added {made.code} ({made.kind}) {made.url}")
    if made.secret:
        click.echo(f"secret: {made.secret}")


@webhooks_group.command("list", cls=OneLineCommand)
@AS_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
def list_command(username, as_json) -> None:
    """Your endpoints (admins: all), oldest first."""
    actor = _account(username)
    try:
        rows = svc.list_endpoints(actor)
    except ServiceError as e:
        raise _refused(e) from None
    items: list[dict[str, Any]] = [
        {
            "id": e.code,
            "kind": str(e.kind),
            "url": e.url,
            "events": list(e.events or []),
            "bases": "all" if e.all_bases else [h.code for h in e.hubs],
            "enabled": e.enabled,
            "owner": e.owner.username,
            "counts": svc.counts(e),
        }
        for e in rows
    ]
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    for item in items:
        state = "on" if item["enabled"] else "OFF"
        bases = item["bases"] if item["bases"] == "all" else ",".join(item["bases"])
        counts = " ".join(f"{k}={v}" for k, v in sorted(item["counts"].items())) or "no messages"
        click.echo(
            f"{item['id']} {state} {item['kind']} {item['url']} "
            f"[{','.join(item['events'])}] bases={bases} {counts}"
        )


def _endpoint(username: str, code: str):
    actor = _account(username)
    try:
        return actor, svc.get_endpoint(actor, code)
    except ServiceError as e:
        raise _refused(e) from None


@webhooks_group.command("test", cls=OneLineCommand)
@click.argument("code")
@AS_OPTION
@click.option(
    "--wait",
    type=click.FloatRange(0, 300),
    default=15.0,
    show_default=True,
    help="Seconds to wait for the first try's outcome (a worker sends it).",
)
def test_command(code, username, wait) -> None:
    """Queue a test message to endpoint CODE and report its first try."""
    actor, endpoint = _endpoint(username, code)
    try:
        message = svc.send_test(actor, endpoint)
    except ServiceError as e:
        raise _refused(e) from None
    msg_id = message.msg_id
    deadline = time.monotonic() + wait
    while True:
        db.session.expire_all()
        row = db.session.query(WebhookMessage).filter_by(msg_id=msg_id).one()
        if row.attempts or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    if not row.attempts:
        raise click.ClickException(
            f"queued {msg_id}, not tried within {wait:g} s: is a worker running?"
        )
    last = svc.delivery_log(endpoint, limit=1)[0][0]
    if last.ok:
        click.echo(f"delivered {msg_id}: HTTP {last.response_status} in {last.latency_ms} ms")
        return
    retry = f"; next try in {last.retry_in_s:g} s" if last.retry_in_s is not None else ""
    raise click.ClickException(f"test {msg_id} failed: {last.error}{retry}")


@webhooks_group.command("log", cls=OneLineCommand)
@click.argument("code")
@AS_OPTION
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def log_command(code, username, limit) -> None:
    """The delivery log of endpoint CODE, newest first."""
    _, endpoint = _endpoint(username, code)
    zone = local_zone()
    for a, m in svc.delivery_log(endpoint, limit=limit):
        outcome = f"HTTP {a.response_status}" if a.response_status else "no answer"
        tail = "ok" if a.ok else f"failed: {a.error}"
        if a.retry_in_s is not None:
            tail += f" (retry in {a.retry_in_s:g} s)"
        click.echo(
            f"{a.started_at.astimezone(zone):%Y-%m-%d %H:%M:%S} {m.event_type} {m.msg_id} "
            f"try {a.attempt}: {outcome} {a.latency_ms} ms {tail}"
        )


def _switch(code: str, username: str, enabled: bool) -> None:
    actor, endpoint = _endpoint(username, code)
    svc.change(actor, endpoint, enabled=enabled)
    click.echo(f"{endpoint.code} {'enabled' if enabled else 'disabled'}")


@webhooks_group.command("enable", cls=OneLineCommand)
@click.argument("code")
@AS_OPTION
def enable_command(code, username) -> None:
    """Turn endpoint CODE on again (after it was disabled)."""
    _switch(code, username, True)


@webhooks_group.command("disable", cls=OneLineCommand)
@click.argument("code")
@AS_OPTION
def disable_command(code, username) -> None:
    """Turn endpoint CODE off; its pending messages are given up."""
    _switch(code, username, False)


@webhooks_group.command("remove", cls=OneLineCommand)
@click.argument("code")
@AS_OPTION
def remove_command(code, username) -> None:
    """Delete endpoint CODE with its messages and delivery log."""
    actor, endpoint = _endpoint(username, code)
    svc.remove(actor, endpoint)
    click.echo(f"removed {code.upper()}")
