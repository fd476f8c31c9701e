"""The outbox and who hears what: messages commit with their change or not at all; an endpoint
hears only its owner's bases; a day of failures disables it and tells its owner; private
addresses are refused unless allowed. On SQLite and PostgreSQL, the queue inline (eager)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from app.extensions import db
from app.models import (
    Booking,
    Job,
    Notification,
    Slot,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
    operator_hubs,
    utcnow,
)
from app.services.booking import bulk, lifecycle
from app.services.booking import service as booking
from app.services.booking.rules import BookingError
from app.services.timetable import service as timetable
from app.services.webhooks import addresses, delivery, signing
from app.services.webhooks import endpoints as svc
from app.services.webhooks.events import EVENT_TYPES, emit


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _add(world, user: str, url: str, *, bases=("B001",), all_bases=False, events=EVENT_TYPES):
    spec = svc.EndpointSpec(
        url=url, events=list(events), bases=[] if all_bases else list(bases), all_bases=all_bases
    )
    return svc.register(world.users[user], spec)


def test_events_reach_only_endpoints_of_their_base(private_ok, world, receivers):
    b1, b2, every, chosen = receivers(), receivers(), receivers(), receivers()
    e1 = _add(world, "op1", b1.url)
    _add(world, "op2", b2.url, bases=("B002",))
    _add(world, "admin", every.url, all_bases=True)
    _add(world, "admin", chosen.url, bases=("B002",))
    booking.book(world.users["p1"], [world.slot("B001-S1", 1, 12)])
    assert [len(r.got) for r in (b1, b2, every, chosen)] == [1, 0, 1, 0]
    booking.book(world.users["p2"], [world.slot("B002-S1", 1, 12)])
    assert [len(r.got) for r in (b1, b2, every, chosen)] == [1, 1, 2, 1]
    event = Webhook(e1.secret).verify(b1.got[0].body, b1.got[0].headers)
    assert event["type"] == "booking.created"
    assert event["data"]["base"] == "B001" and event["data"]["base_name"] == "临沂直播基地"
    assert event["data"]["participant"] == "P001" and event["data"]["status"] == "confirmed"


def test_an_operator_unbound_from_a_base_stops_hearing_it(private_ok, world, receivers):
    r = receivers()
    _add(world, "op1", r.url)
    db.session.execute(
        operator_hubs.delete().where(operator_hubs.c.user_id == world.users["op1"].id)
    )
    db.session.commit()
    booking.book(world.users["p1"], [world.slot("B001-S1", 1, 12)])
    assert r.got == [] and _count(WebhookMessage) == 0


def test_a_refused_or_rolled_back_change_sends_nothing(private_ok, world, receivers):
    r = receivers()
    _add(world, "op1", r.url)
    taken = world.slot("B001-S1", 1, 12)
    booking.book(world.users["p1"], [taken])
    assert len(r.got) == 1
    before = (_count(WebhookMessage), _count(Job))
    with pytest.raises(BookingError):
        booking.book(world.users["p2"], [taken])  # slot taken: refused
    # An event emitted in a transaction that is then rolled back: no message, no job, no call.
    hub_id = world.hubs["B001"].id
    assert emit("slot.blocked", [hub_id], {"slot": "SL-X"}) == 1
    db.session.rollback()
    db.session.commit()  # a later commit does not send what was rolled back
    assert (_count(WebhookMessage), _count(Job)) == before
    assert len(r.got) == 1


def test_each_kind_of_change_emits_its_event(private_ok, world, receivers):
    r = receivers()
    _add(world, "op1", r.url)
    made = booking.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 12)])
    lifecycle.cancel(world.users["op1"], made, reason="studio flooded")
    slot = db.session.scalar(select(Slot).where(Slot.code == world.slot("B001-S1", 2, 12)))
    timetable.block_slot(slot, "maintenance", world.users["op1"])
    tentative = booking.book_slots(world.users["p2"], [world.slot("B001-S1", 2, 14)])
    tentative.status = "tentative"
    db.session.commit()
    lifecycle.confirm(world.users["op1"], tentative)
    proposal = booking.book_slots(world.users["p3"], [world.slot("B001-S1", 0, 14)])
    proposal.status = "tentative"
    db.session.commit()
    lifecycle.decline(world.users["p3"], proposal)
    bulk.bulk_action(world.users["op1"], "cancel", [tentative.code], reason="base closed")
    types = [g.json()["type"] for g in r.got]
    assert types == [
        "booking.created",
        "booking.cancelled",
        "slot.blocked",
        "booking.created",
        "booking.confirmed",
        "booking.created",
        "booking.cancelled",
        "booking.cancelled",
    ]
    assert r.got[6].json()["data"]["declined"] is True
    assert r.got[7].json()["data"]["reason"] == "base closed"
    cancelled = r.got[1].json()["data"]
    assert cancelled["reason"] == "studio flooded" and cancelled["by"] == "operator"
    blocked = r.got[2].json()["data"]
    assert blocked["slot"] == slot.code and blocked["reason"] == "maintenance"


def test_a_day_of_failures_disables_the_endpoint_and_tells_its_owner(private_ok, world, receivers):
    private_ok.config["WEBHOOK_RETRY_DELAYS_S"] = ()
    down = receivers(statuses=[503])
    endpoint = _add(world, "op1", down.url)
    booking.book(world.users["p1"], [world.slot("B001-S1", 1, 10)])
    db.session.refresh(endpoint)
    assert endpoint.enabled and endpoint.failing_since is not None  # failing, not for a day yet
    endpoint.failing_since = utcnow() - timedelta(hours=25)
    db.session.commit()
    booking.book(world.users["p2"], [world.slot("B001-S1", 1, 14)])
    db.session.refresh(endpoint)
    assert not endpoint.enabled and "HTTP 503" in endpoint.disabled_reason
    note = db.session.scalars(
        select(Notification).where(Notification.kind == "webhook_disabled")
    ).one()
    assert note.user_id == world.users["op1"].id and note.params["endpoint"] == endpoint.code
    calls = len(down.got)
    booking.book(world.users["p3"], [world.slot("B001-S1", 2, 10)])
    assert len(down.got) == calls, "a disabled endpoint is not called"
    svc.change(world.users["op1"], endpoint, enabled=True)
    assert endpoint.enabled and endpoint.failing_since is None


def _deliveries(result: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("chunlei_webhook_deliveries_total", {"result": result}) or 0


def test_a_delivered_try_ends_the_failing_streak(private_ok, world, receivers):
    private_ok.config["WEBHOOK_RETRY_DELAYS_S"] = (0.0,)
    counted = (_deliveries("failed"), _deliveries("delivered"))
    flaky = receivers(statuses=[500, 200])
    endpoint = _add(world, "op1", flaky.url)
    booking.book(world.users["p1"], [world.slot("B001-S1", 1, 10)])
    db.session.refresh(endpoint)
    assert endpoint.failing_since is None
    tries = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [(a.attempt, a.response_status, a.ok) for a in tries] == [
        (1, 500, False),
        (2, 200, True),
    ]
    assert flaky.got[0].headers["webhook-id"] == flaky.got[1].headers["webhook-id"]
    assert (_deliveries("failed"), _deliveries("delivered")) == (counted[0] + 1, counted[1] + 1)


def test_private_addresses_are_refused_unless_allowed(app, world, receivers):
    r = receivers()
    with pytest.raises(addresses.BadAddress) as refused:
        _add(world, "op1", r.url)
    assert refused.value.code == "private_address" and _count(WebhookEndpoint) == 0
    for url in ("http://169.254.169.254/latest/meta-data", "http://10.0.0.8/", "http://[::1]/x"):
        with pytest.raises(addresses.BadAddress):
            addresses.resolve(url, allow_private=False)
    # Allowed at registration, refused again at the try once the setting is off: no call made.
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    app.config["WEBHOOK_RETRY_DELAYS_S"] = ()
    _add(world, "op1", r.url)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    booking.book(world.users["p1"], [world.slot("B001-S1", 1, 10)])
    attempt = db.session.scalars(select(WebhookAttempt)).one()
    assert not attempt.ok and "non-public" in attempt.error and r.got == []


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "http://", "http://u:p@example.com/", "nope"],
)
def test_only_plain_http_urls_pass(url):
    with pytest.raises(addresses.BadAddress):
        addresses.parse(url)


def test_signatures_match_the_reference_signer():
    secret = signing.new_secret()
    body = '{"type":"booking.created"}'
    ours = signing.standard_headers(secret, "msg_1", 1_700_000_000, body)
    from datetime import UTC, datetime

    theirs = Webhook(secret).sign("msg_1", datetime.fromtimestamp(1_700_000_000, UTC), body)
    assert ours["webhook-signature"] == theirs
    with pytest.raises(ValueError):
        signing.secret_bytes("whsec_short")


def test_the_delivery_job_never_holds_a_transaction_open_while_calling(
    private_ok, world, receivers, monkeypatch
):
    r = receivers()
    _add(world, "op1", r.url)
    seen = []
    real_post = delivery.post

    def watching(url, body, headers):
        seen.append(db.session().in_transaction())
        return real_post(url, body, headers)

    monkeypatch.setattr(delivery, "post", watching)
    booking.book(world.users["p1"], [world.slot("B001-S1", 1, 10)])
    assert seen == [False] and len(r.got) == 1
    assert db.session.scalars(select(Booking)).one().code == r.got[0].json()["data"]["booking"]


def test_a_try_lost_with_its_worker_counts_as_a_failed_try(private_ok, world, receivers):
    from app.jobs.webhooks import release_message

    private_ok.config["WEBHOOK_RETRY_DELAYS_S"] = ()
    endpoint = _add(world, "op1", receivers().url)
    pending = WebhookMessage(
        msg_id="msg_lost", endpoint_id=endpoint.id, event_type="slot.blocked", body="{}"
    )
    db.session.add(pending)
    db.session.commit()
    release_message(1, {"message": "msg_lost", "attempt": 1}, True, "retrying: nothing yet")
    db.session.refresh(pending)
    assert (pending.status, pending.attempts) == ("pending", 0)
    release_message(1, {"message": "msg_lost", "attempt": 1}, False, "worker died: host:1")
    db.session.refresh(pending)
    assert (pending.status, pending.attempts) == ("failed", 1)
    tries = db.session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.message_id == pending.id)
    ).all()
    assert [(a.ok, a.error) for a in tries] == [(False, "worker died: host:1")]
    release_message(2, {"message": "msg_lost", "attempt": 1}, False, "again")  # already recorded
    assert _count(WebhookAttempt) == 1
