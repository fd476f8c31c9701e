"""E-mail delivered by a real worker (``flask --app wsgi worker`` on Redis) through a real SMTP
server with STARTTLS and AUTH: the first try is refused, the worker's retry delivers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail, Role, User
from app.services.notify import mailer
from app.services.notify.messages import notify_user
from tests.app.jobs.conftest import wait_until
from tests.mail_server import MailServer

pytestmark = pytest.mark.postgres


def test_a_worker_retries_a_refused_mail_and_delivers_it(queue_app, workers, tmp_path):
    server = MailServer(tmp_path).start()
    try:
        server.refuse = 1
        queue_app.config.update({**server.config(), "MAIL_RETRY_DELAYS_S": ("1",)})
        workers.start(**server.env(), MAIL_RETRY_DELAYS_S="1")
        user = User(username="mail.reader", role=Role.ADMIN, email="reader@example.test")
        user.set_password("not-used-here-123")
        db.session.add(user)
        db.session.flush()
        notify_user(
            user, "booking_confirmed", {"booking": "K000001", "when": "周二", "base": "义乌"}
        )
        db.session.commit()
        assert mailer.queue_committed() == 1  # queued on Redis; this process sends nothing

        def delivered():
            row = db.session.scalars(select(OutboxEmail)).one()
            db.session.refresh(row)
            return row if row.status == "sent" else None

        row = wait_until(delivered, timeout=30)
        assert row is not None, workers.log(workers.procs[0])
        assert row.attempts == 2 and row.last_error is None and server.refused == 1
        [message] = server.messages
        assert message["To"] == "reader@example.test" and "已由基地确认" in message.get_content()
        assert server.logins == [True]
        assert "attempt 1 failed" in workers.log(workers.procs[0])
    finally:
        server.stop()
