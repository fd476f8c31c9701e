"""The integrations pages: the list and add form (Chinese first, English), form errors that
write nothing, an endpoint's delivery log, and its test, disable and remove buttons."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import WebhookEndpoint
from tests.app.webhooks.receiver import Receiver

FORM = {
    "kind": "webhook",
    "events": ["booking.created", "slot.blocked"],
    "bases": ["B001"],
    "format": "markdown",
}


def _endpoints() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


def test_the_page_speaks_chinese_then_english(app, login):
    op = login("op1")
    page = op.get("/operator/integrations").get_data(as_text=True)
    assert "集成" in page and "添加集成" in page and "企业微信群机器人" in page
    assert "B001 · 临沂直播基地" in page and "B002" not in page  # only my bases to choose
    english = op.get("/operator/integrations?lang=en").get_data(as_text=True)
    assert "Add an integration" in english and "WeCom group robot" in english
    assert login("p1").get("/operator/integrations").status_code in (302, 403)


def test_form_errors_are_shown_on_their_field_and_write_nothing(app, login):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    op = login("op1")
    for data, says in (
        ({**FORM, "url": "ftp://127.0.0.1/x"}, "该地址不可用"),
        ({**FORM, "url": "http://127.0.0.1:9/x", "events": []}, "请至少选择一个事件"),
        (
            {**FORM, "url": "http://127.0.0.1:9/x", "bases": ["B002"]},
            "invalid-feedback",
        ),  # not offered
        ({**FORM, "url": "http://127.0.0.1:9/x", "bases": []}, "请至少选择一个基地"),
        ({**FORM, "url": "http://127.0.0.1:9/x", "secret": "whsec_x"}, "密钥格式不正确"),
        ({**FORM, "url": "http://127.0.0.1:9/x", "kind": "wecom"}, "该地址不可用"),
    ):
        r = op.post("/operator/integrations", data=data)
        assert r.status_code == 422 and says in r.get_data(as_text=True), data
        assert "invalid-feedback" in r.get_data(as_text=True)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    r = op.post("/operator/integrations", data={**FORM, "url": "http://127.0.0.1:9/x"})
    assert r.status_code == 422 and "内网" in r.get_data(as_text=True)
    assert _endpoints() == 0


def test_add_test_read_the_log_disable_and_remove(app, login):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    receiver = Receiver(statuses=[200]).start()
    try:
        op = login("op1")
        r = op.post("/operator/integrations", data={**FORM, "url": receiver.url + "/in"})
        assert r.status_code == 302 and r.headers["Location"].endswith(
            "/operator/integrations/W00001"
        )
        detail = op.get("/operator/integrations/W00001").get_data(as_text=True)
        secret = db.session.scalars(select(WebhookEndpoint)).one().secret
        assert secret in detail and "尚未发送任何消息" in detail
        assert op.post("/operator/integrations/W00001/test").status_code == 302
        assert receiver.got and receiver.got[0].json()["type"] == "webhook.test"
        log = op.get("/operator/integrations/W00001").get_data(as_text=True)
        assert 'data-testid="delivery-log"' in log and "已送达" in log and ">200<" in log
        assert login("op2").get("/operator/integrations/W00001").status_code == 404
        op.post("/operator/integrations/W00001/disable")
        assert not db.session.scalars(select(WebhookEndpoint)).one().enabled
        refused = op.post("/operator/integrations/W00001/test", follow_redirects=True)
        assert "该集成已停用" in refused.get_data(as_text=True)
        assert len(receiver.got) == 1
        op.post("/operator/integrations/W00001/remove")
        assert _endpoints() == 0
    finally:
        receiver.stop()
