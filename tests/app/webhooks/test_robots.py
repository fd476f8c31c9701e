"""Group robots against a local receiver: WeCom's and DingTalk's documented message bodies in
Chinese, DingTalk's signed mode, and a robot's refusal (errcode) counted as a failed try."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from sqlalchemy import select

from app.extensions import db
from app.models import WebhookAttempt, WebhookMessage
from app.services.booking import lifecycle
from app.services.booking import service as booking
from app.services.webhooks import endpoints as svc

OK = b'{"errcode":0,"errmsg":"ok"}'
DING_SECRET = "SEC" + "a1b2c3d4" * 8


def _robot(world, kind: str, url: str, fmt: str = "markdown", secret: str | None = None):
    return svc.register(
        world.users["op1"],
        svc.EndpointSpec(
            url=url,
            kind=kind,
            events=["booking.created", "booking.cancelled"],
            bases=["B001"],
            format=fmt,
            secret=secret,
        ),
    )


def test_wecom_markdown_and_text(private_ok, world, receivers):
    md, text = receivers(answer=OK), receivers(answer=OK)
    _robot(world, "wecom", f"{md.url}/cgi-bin/webhook/send?key=k-md")
    _robot(world, "wecom", f"{text.url}/cgi-bin/webhook/send?key=k-text", fmt="text")
    made = booking.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 12)])
    lifecycle.cancel(world.users["op1"], made, reason="设备检修")

    created, cancelled = (g.json() for g in md.got)
    assert md.got[0].path == "/cgi-bin/webhook/send" and md.got[0].query == {"key": ["k-md"]}
    assert set(created) == {"msgtype", "markdown"} and created["msgtype"] == "markdown"
    content = created["markdown"]["content"]
    assert content.startswith("### 春雷 · 新预订\n")
    for fact in (made.code, "B001 临沂直播基地", "B001-S1", "P001", "已确认"):
        assert fact in content
    assert "预订已取消" in cancelled["markdown"]["content"]
    assert "设备检修" in cancelled["markdown"]["content"]
    assert "基地运营" in cancelled["markdown"]["content"]

    plain = text.got[0].json()
    assert plain == {"msgtype": "text", "text": {"content": plain["text"]["content"]}}
    assert (
        plain["text"]["content"].startswith("【春雷 · 新预订】\n")
        and made.code in plain["text"]["content"]
    )
    assert all(len(g.json()["text"]["content"].encode()) <= 2048 for g in text.got)
    assert db.session.scalar(select(WebhookMessage.status).limit(1)) == "delivered"


def test_dingtalk_signed_markdown(private_ok, world, receivers):
    robot = receivers(answer=OK)
    _robot(world, "dingtalk", f"{robot.url}/robot/send?access_token=tok", secret=DING_SECRET)
    before = int(time.time() * 1000)
    made = booking.book(world.users["p1"], [world.slot("B001-S1", 1, 12)])
    got = robot.got[0]
    assert got.path == "/robot/send" and got.query["access_token"] == ["tok"]
    stamp = got.query["timestamp"][0]
    assert before <= int(stamp) <= int(time.time() * 1000)
    digest = hmac.new(
        DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256
    ).digest()
    assert got.query["sign"] == [base64.b64encode(digest).decode()]  # parse_qs url-decoded it
    body = got.json()
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    assert body["markdown"]["title"] == "春雷 · 新预订"
    assert made.code in body["markdown"]["text"] and "临沂直播基地" in body["markdown"]["text"]


def test_dingtalk_without_a_secret_sends_no_signature(private_ok, world, receivers):
    robot = receivers(answer=OK)
    _robot(world, "dingtalk", f"{robot.url}/robot/send?access_token=tok", fmt="text")
    booking.book(world.users["p1"], [world.slot("B001-S1", 1, 12)])
    assert set(robot.got[0].query) == {"access_token"}
    assert robot.got[0].json()["msgtype"] == "text"


def test_a_robot_refusal_is_a_failed_try(private_ok, world, receivers):
    private_ok.config["WEBHOOK_RETRY_DELAYS_S"] = (0.0,)
    robot = receivers(answer=b'{"errcode":310000,"errmsg":"sign not match"}')
    _robot(world, "dingtalk", f"{robot.url}/robot/send?access_token=tok", secret=DING_SECRET)
    booking.book(world.users["p1"], [world.slot("B001-S1", 1, 12)])
    tries = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [(a.response_status, a.ok) for a in tries] == [(200, False), (200, False)]
    assert tries[0].error == "errcode 310000: sign not match"
    message = db.session.scalars(select(WebhookMessage)).one()
    assert (message.status, message.attempts) == ("failed", 2)
