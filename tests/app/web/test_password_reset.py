"""Forgot password: a one-time, time-limited link by e-mail (through the outbox), the same
answer for known and unknown addresses, the password policy, every login and token ended."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.api.auth import issue_token
from app.extensions import db
from app.models import OutboxEmail, PasswordReset, User
from tests.app.services.world import PASSWORD
from tests.app.web.test_login_limits import limited_app

NEW = "春雷-new-Passphrase-42"


def _ask(client, email: str):
    return client.post("/auth/forgot", data={"email": email})


def _link(mail: OutboxEmail) -> str:
    return re.search(r"http://localhost(/auth/reset/\S+)", mail.body).group(1)


def _mails() -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_known_and_unknown_addresses_get_the_same_answer(app, world):
    client = app.test_client()
    known, unknown = _ask(client, "P1@Example.test"), _ask(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 302
    assert known.location == unknown.location
    first = client.get(known.location).get_data(as_text=True)
    second = _ask(client, "nobody@example.test")
    assert "如果有账户使用这个地址" in first
    assert "如果有账户使用这个地址" in client.get(second.location).get_data(as_text=True)
    [mail] = _mails()  # only the known address got an e-mail
    assert mail.to_address == "p1@example.test" and mail.status == "pending"
    assert mail.body.index("重置密码") < mail.body.index("reset the password")  # zh first
    token = _link(mail).rsplit("/", 1)[1]
    stored = db.session.scalars(select(PasswordReset)).one()
    assert stored.token_hash != token and len(stored.token_hash) == 64  # only a hash is kept
    assert timedelta(minutes=59) < stored.expires_at - stored.created_at <= timedelta(minutes=60)


def test_the_link_sets_a_new_password_once_and_ends_every_login(app, world, login):
    signed_in = login("p1")
    token = issue_token(world.users["p1"])
    assert signed_in.get("/auth/account").status_code == 200
    client = app.test_client()
    _ask(client, "p1@example.test")
    link = _link(_mails()[0])
    page = client.get(link)
    assert page.status_code == 200 and "p1" in page.get_data(as_text=True)
    weak = client.post(link, data={"new_password": "password1", "confirm": "password1"})
    assert "密码太常见" in weak.get_data(as_text=True)
    assert db.session.get(User, world.users["p1"].id).check_password(PASSWORD)  # unchanged
    done = client.post(link, data={"new_password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.location.endswith("/auth/login")
    user = db.session.get(User, world.users["p1"].id, populate_existing=True)
    assert user.check_password(NEW) and not user.check_password(PASSWORD)
    assert signed_in.get("/auth/account").status_code == 302  # the old login ended
    api = app.test_client().get("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401  # and the API token
    again = client.get(link)
    assert again.status_code == 400 and "这个链接已失效" in again.get_data(as_text=True)
    assert (
        client.post(link, data={"new_password": "x" + NEW, "confirm": "x" + NEW}).status_code == 400
    )
    relog = app.test_client().post("/auth/login", data={"username": "p1", "password": NEW})
    assert relog.status_code == 302


def test_expired_and_superseded_links_do_not_work(app, world):
    client = app.test_client()
    _ask(client, "p1@example.test")
    _ask(client, "p1@example.test")
    older, newer = (_link(m) for m in _mails())
    assert client.get(older).status_code == 400  # a newer link replaced it
    assert client.get(newer).status_code == 200
    for row in db.session.scalars(select(PasswordReset)):
        row.expires_at = row.created_at - timedelta(seconds=1)
    db.session.commit()
    expired = client.get(newer)
    assert expired.status_code == 400 and "Send me a new link" not in expired.get_data(as_text=True)
    assert client.get("/auth/reset/not-a-token?lang=en").status_code == 400


def test_requests_count_against_the_login_limits():
    app = limited_app(LOGIN_RATE_LIMIT="2 per minute", LOGIN_ADDRESS_RATE_LIMIT="50 per minute")
    with app.app_context():
        db.create_all()
        from tests.app.services.world import build_world

        build_world()
        client = app.test_client()
        answers = [_ask(client, "p1@example.test") for _ in range(3)]
        assert [a.status_code for a in answers] == [302, 302, 429]
        assert len(_mails()) == 2
        db.session.remove()
        db.drop_all()


def test_the_login_page_links_to_it(app, world):
    html = app.test_client().get("/auth/login?lang=en").get_data(as_text=True)
    assert 'href="/auth/forgot"' in html and "Forgot password?" in html
