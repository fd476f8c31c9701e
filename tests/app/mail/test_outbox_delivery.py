"""The outbox sent through a real local SMTP server (aiosmtpd): STARTTLS or implicit TLS with a
test certificate authority, AUTH, refusals and an absent server retried with back-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail, Role, User, utcnow
from app.services.notify import mailer
from app.services.notify.messages import notify_user
from tests.mail_server import USER, MailServer, free_port

PARAMS = {
    "booking": "K000042",
    "when": "2026-12-08 20:00",
    "base": "义乌直播基地",
    "reason": "检修",
}


@pytest.fixture
def mail_server(tmp_path):
    server = MailServer(tmp_path).start()
    yield server
    server.stop()


def _mail(locale: str | None = None, address: str = "coop@example.test") -> OutboxEmail:
    """A user and one notification e-mail, committed."""
    user = User(username=f"u{free_port()}", role=Role.ADMIN, email=address, locale=locale)
    user.set_password("not-used-here-123")
    db.session.add(user)
    db.session.flush()
    notify_user(user, "booking_cancelled", PARAMS)
    db.session.commit()
    return db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()


def _row(mail_id: int) -> OutboxEmail:
    return db.session.get(OutboxEmail, mail_id, populate_existing=True)


def test_starttls_and_login_deliver_in_the_recipients_language(app, mail_server):
    app.config.update(mail_server.config())
    mail = _mail()  # no language chosen: Chinese first
    assert mailer.queue_due() == 1  # the eager queue runs the send job inline
    [message] = mail_server.wait_for(1)
    assert message["To"] == "coop@example.test"
    assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert str(message["Subject"]).strip().startswith("春雷直播排期通知")
    body = message.get_content()
    assert body.index("已被基地取消") < body.index("cancelled by the base") and "检修" in body
    assert mail_server.logins == [True]  # the server took it only after AUTH over TLS
    row = _row(mail.id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None
    assert mailer.queue_due() == 0 and len(mail_server.messages) == 1  # never twice


def test_english_reader_gets_english_first(app, mail_server):
    app.config.update(mail_server.config())
    mail = _mail(locale="en")
    mailer.deliver(mail.id)
    body = mail_server.wait_for(1)[0].get_content()
    assert body.index("cancelled by the base") < body.index("已被基地取消")


def test_implicit_tls(app, tmp_path):
    server = MailServer(tmp_path, tls="ssl").start()
    try:
        app.config.update(server.config())
        mail = _mail()
        assert mailer.deliver(mail.id)["status"] == "sent"
        assert server.wait_for(1)[0]["To"] == "coop@example.test"
    finally:
        server.stop()


def test_an_untrusted_certificate_is_refused(app, mail_server):
    app.config.update({**mail_server.config(), "MAIL_CA_FILE": None})
    mail = _mail()
    assert mailer.deliver(mail.id)["status"] == "retrying"
    row = _row(mail.id)
    assert row.status == "pending" and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert mail_server.messages == []


def test_a_wrong_password_is_recorded_and_retried_later(app, mail_server):
    app.config.update({**mail_server.config(), "MAIL_PASSWORD": "wrong"})
    mail = _mail()
    before = utcnow()
    outcome = mailer.deliver(mail.id)
    assert outcome["status"] == "retrying" and outcome["retry_in"] == 30.0
    row = _row(mail.id)
    assert (row.status, row.attempts) == ("pending", 1) and "535" in row.last_error
    assert row.next_attempt_at >= before + timedelta(seconds=29)
    assert mailer.queue_due() == 0  # not due yet: nothing is queued before the back-off
    assert mail_server.messages == [] and USER


def test_a_refusing_server_is_retried_and_then_delivers(app, mail_server):
    app.config.update({**mail_server.config(), "MAIL_RETRY_DELAYS_S": ("0", "0")})
    mail_server.refuse = 1  # "451 try again later" once
    mail = _mail()
    assert mailer.deliver(mail.id)["status"] == "retrying"
    row = _row(mail.id)
    assert row.status == "pending" and "451" in row.last_error and row.attempts == 1
    assert mailer.queue_due() == 1  # due again at once: the second try delivers
    assert len(mail_server.wait_for(1)) == 1 and mail_server.refused == 1
    row = _row(mail.id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_an_absent_server_is_retried_until_it_is_back(app, tmp_path):
    port = free_port()
    server = MailServer(tmp_path, port=port)
    app.config.update({**server.config(), "MAIL_RETRY_DELAYS_S": ("0", "0", "0")})
    mail = _mail()
    assert mailer.deliver(mail.id)["status"] == "retrying"
    assert "Connection refused" in _row(mail.id).last_error
    server.start()
    try:
        assert mailer.queue_due() == 1
        assert len(server.wait_for(1)) == 1
        assert (_row(mail.id).status, _row(mail.id).attempts) == ("sent", 2)
    finally:
        server.stop()


def test_after_the_last_retry_the_mail_is_failed(app, mail_server):
    app.config.update({**mail_server.config(), "MAIL_RETRY_DELAYS_S": ("0",)})
    mail_server.refuse = 5
    mail = _mail()
    assert mailer.deliver(mail.id)["status"] == "retrying"
    assert mailer.deliver(mail.id)["status"] == "failed"
    row = _row(mail.id)
    assert (row.status, row.attempts) == ("failed", 2) and "451" in row.last_error
    assert mailer.queue_due() == 0 and mailer.deliver(mail.id)["status"] == "not due"


def test_committed_mail_is_queued_once_and_rolled_back_mail_never(app, mail_server):
    app.config.update(mail_server.config())
    _mail()
    assert mailer.queue_committed() == 1 and len(mail_server.wait_for(1)) == 1
    assert mailer.queue_committed() == 0  # nothing new committed since
    user = db.session.scalars(select(User)).first()
    notify_user(user, "booking_confirmed", PARAMS)
    db.session.flush()
    db.session.rollback()
    assert mailer.queue_committed() == 0 and db.session.scalars(select(OutboxEmail)).all()


def test_without_a_mail_server_the_outbox_keeps_the_mail(app):
    mail = _mail()
    assert not mailer.enabled() and mailer.queue_due() == 0
    assert (_row(mail.id).status, _row(mail.id).attempts) == ("pending", 0)


def test_console_backend_prints_the_mail(app, capsys):
    app.config["MAIL_BACKEND"] = "console"
    mail = _mail()
    assert mailer.queue_due() == 1
    assert "coop@example.test" in capsys.readouterr().out
    assert _row(mail.id).status == "sent"
