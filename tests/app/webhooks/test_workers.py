"""End to end with real workers: a booking and its cancellation, made through the API, reach a
local receiver within 5 s, signed so the Standard Webhooks reference library verifies them; a
receiver answering 500 twice gets the event on the third try with the same webhook-id; a
receiver of another base gets nothing.

``flask --app wsgi worker`` subprocesses on Redis and a scratch PostgreSQL database (see
tests/app/jobs/conftest.py); skipped without them unless CHUNLEI_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from app.api.auth import issue_token
from app.extensions import db
from app.models import User, WebhookAttempt, WebhookEndpoint, WebhookMessage
from tests.app.webhooks.receiver import Receiver

pytestmark = pytest.mark.postgres


class Client:
    """The API as one account of the seeded week."""

    def __init__(self, app, username: str) -> None:
        self.http = app.test_client()
        user = db.session.scalar(select(User).where(User.username == username))
        self.headers = {"Authorization": f"Bearer {issue_token(user)}"}

    def post(self, url: str, **kw):
        return self.http.post(url, headers=self.headers, **kw)

    def get(self, url: str, **kw):
        return self.http.get(url, headers=self.headers, **kw)

    def delete(self, url: str, **kw):
        return self.http.delete(url, headers=self.headers, **kw)


def _register(app, operator: str, base: str, url: str) -> dict:
    r = Client(app, operator).post(
        "/api/v1/webhooks",
        json={
            "url": url + "/hooks/chunlei",
            "events": ["booking.created", "booking.cancelled"],
            "bases": [base],
        },
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _warm_up(app, operator: str, endpoint: dict, receiver: Receiver) -> None:
    """Send a test message and wait for it: the worker is up and consuming."""
    r = Client(app, operator).post(f"/api/v1/webhooks/{endpoint['id']}/test")
    assert r.status_code == 202, r.get_json()
    got = receiver.wait_for(1, 60)
    assert got and got[0].json()["type"] == "webhook.test"


def _book_somewhere(app, participant: str, base: str) -> str:
    """Book a free slot at ``base`` for ``participant`` through the API; its booking id."""
    client = Client(app, participant)
    free = client.get(f"/api/v1/slots?base={base}&free=true&limit=500").get_json()
    for slot in reversed(free):  # late in the week: far from the freeze and the cut-off
        r = client.post("/api/v1/bookings", json={"slots": [slot["id"]]})
        if r.status_code == 201:
            return r.get_json()["id"]
    raise AssertionError(f"{participant} could book nothing at {base}")


def test_booking_and_cancel_reach_the_receiver_signed_within_5_s(queue_app, workers, receivers):
    queue_app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    mine, theirs = receivers(), receivers()
    endpoint = _register(queue_app, "op-b001", "B001", mine.url)
    other = _register(queue_app, "op-b002", "B002", theirs.url)
    assert endpoint["secret"].startswith("whsec_")
    workers.start(WEBHOOK_ALLOW_PRIVATE="1")
    _warm_up(queue_app, "op-b001", endpoint, mine)

    participant = Client(queue_app, "p00003")
    started = time.monotonic()
    code = _book_somewhere(queue_app, "p00003", "B001")
    r = participant.delete(f"/api/v1/bookings/{code}", json={})
    assert r.status_code == 200, r.get_json()
    got = mine.wait_for(3, 5.0)
    assert len(got) == 3, f"got {len(got)} of 3 within 5 s"
    assert got[2].at - started <= 5.0

    verifier = Webhook(endpoint["secret"])
    events = [verifier.verify(g.body, g.headers) for g in got[1:]]
    assert [e["type"] for e in events] == ["booking.created", "booking.cancelled"]
    assert {e["data"]["booking"] for e in events} == {code}
    assert {e["data"]["base"] for e in events} == {"B001"}
    assert events[1]["data"]["status"] == "cancelled"
    assert got[1].path == "/hooks/chunlei"
    assert got[1].headers["webhook-id"] != got[2].headers["webhook-id"]
    # A wrong secret does not verify: the signature really is over this body.
    with pytest.raises(Exception, match="(?i)signature"):
        Webhook(other["secret"]).verify(got[1].body, got[1].headers)

    time.sleep(1.0)  # anything meant for the other base's receiver would have come by now
    assert theirs.got == []
    theirs_id = db.session.scalar(
        select(WebhookEndpoint.id).where(WebhookEndpoint.code == other["id"])
    )
    assert (
        db.session.scalars(
            select(WebhookMessage).where(WebhookMessage.endpoint_id == theirs_id)
        ).all()
        == []
    )


def test_500_twice_then_200_arrives_on_the_third_try_with_one_webhook_id(
    queue_app, workers, receivers
):
    queue_app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    flaky = receivers(statuses=[500, 500, 200])
    endpoint = _register(queue_app, "op-b001", "B001", flaky.url)
    workers.start(WEBHOOK_ALLOW_PRIVATE="1", WEBHOOK_RETRY_DELAYS_S="0.3,0.3,30")

    code = _book_somewhere(queue_app, "p00004", "B001")
    got = flaky.wait_for(3, 60)
    assert len(got) == 3, f"{len(got)} tries"
    assert len({g.headers["webhook-id"] for g in got}) == 1
    assert got[0].body == got[1].body == got[2].body
    verifier = Webhook(endpoint["secret"])
    for g in got:  # each try is signed afresh, and each verifies
        assert verifier.verify(g.body, g.headers)["data"]["booking"] == code
    time.sleep(0.5)
    assert len(flaky.got) == 3, "no try after the delivered one"

    db.session.expire_all()
    message = db.session.scalar(
        select(WebhookMessage).where(WebhookMessage.msg_id == got[0].headers["webhook-id"])
    )
    assert (message.status, message.attempts) == ("delivered", 3)
    log = db.session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.message_id == message.id)
        .order_by(WebhookAttempt.attempt)
    ).all()
    assert [(a.attempt, a.response_status, a.ok) for a in log] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert [a.retry_in_s for a in log] == [0.3, 0.3, None]
    r = Client(queue_app, "op-b001").get(f"/api/v1/webhooks/{endpoint['id']}/attempts")
    assert [a["response_status"] for a in r.get_json()] == [200, 500, 500]
