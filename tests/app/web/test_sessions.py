"""Signing out: logout, password change and "log out everywhere" end logins, cookies and tokens.

Every login is a row on the server (its key travels in the session and the "keep me signed in"
cookie); logout ends that row, a password change or "log out everywhere" ends all of the
account's rows and bumps its session epoch, which API tokens carry.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.api.auth import issue_token
from app.extensions import db
from app.models import AuditEvent, LoginSession, User, utcnow
from config import TestingConfig
from tests.app.services.world import PASSWORD, build_world
from tests.app.web.conftest import FreshUserClient

REMEMBER = "remember_token"
NEW_PASSWORD = "plum blossom river 7"


def sign_in(app, username: str = "p1", *, remember: bool = True, password: str = PASSWORD):
    client = app.test_client()
    data = {"username": username, "password": password}
    if remember:
        data["remember"] = "y"
    response = client.post("/auth/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def only_cookie(app, name: str, value: str):
    """A new browser holding nothing but one captured cookie."""
    client = app.test_client()
    client.set_cookie(name, value, domain="localhost")
    return client


def signed_in(client) -> bool:
    return client.get("/me/sessions").status_code == 200


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_logout_ends_a_remembered_login_and_every_captured_cookie(app, world):
    client = sign_in(app, remember=True)
    remembered = client.get_cookie(REMEMBER)
    session_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert remembered is not None and session_cookie is not None and signed_in(client)
    assert signed_in(only_cookie(app, REMEMBER, remembered.value))  # the cookie alone signs in

    assert client.post("/auth/logout").status_code == 302
    assert client.get_cookie(REMEMBER) is None, "logout must delete the remember cookie"
    assert not signed_in(client)
    # Copies taken before the logout (another tab, a stolen cookie) no longer sign anyone in.
    assert not signed_in(only_cookie(app, REMEMBER, remembered.value))
    assert not signed_in(only_cookie(app, session_cookie.key, session_cookie.value))


def test_logout_on_one_device_keeps_the_others(app, world):
    laptop, phone = sign_in(app), sign_in(app, remember=False)
    laptop.post("/auth/logout")
    assert signed_in(phone) and not signed_in(laptop)


def test_a_password_change_ends_every_other_login_and_every_token(app, world):
    laptop, phone = sign_in(app, remember=True), sign_in(app, remember=True)
    phone_cookie = phone.get_cookie(REMEMBER).value
    token = issue_token(world.users["p1"])
    assert app.test_client().get("/api/v1/bases", headers=bearer(token)).status_code == 200

    page = laptop.post(
        "/auth/account",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert page.status_code == 302
    assert signed_in(laptop), "the device that changed the password stays signed in"
    assert not signed_in(phone)
    assert not signed_in(only_cookie(app, REMEMBER, phone_cookie))
    assert app.test_client().get("/api/v1/bases", headers=bearer(token)).status_code == 401
    assert world.users["p1"].check_password(NEW_PASSWORD)
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.password_changed")
    ).actor_user_id == (world.users["p1"].id)
    sign_in(app, password=NEW_PASSWORD)


def test_log_out_everywhere_ends_every_login_and_token_of_the_account_only(app, world):
    laptop, phone, other = sign_in(app), sign_in(app, remember=False), sign_in(app, "p2")
    laptop_cookie = laptop.get_cookie(REMEMBER).value
    token, other_token = issue_token(world.users["p1"]), issue_token(world.users["p2"])
    account = laptop.get("/auth/account?lang=en").get_data(as_text=True)
    assert "Log out everywhere" in account and "Change password" in account

    assert laptop.post("/auth/logout-everywhere").status_code == 302
    for client in (laptop, phone, only_cookie(app, REMEMBER, laptop_cookie)):
        assert not signed_in(client)
    assert app.test_client().get("/api/v1/bases", headers=bearer(token)).status_code == 401
    assert signed_in(other)
    assert app.test_client().get("/api/v1/bases", headers=bearer(other_token)).status_code == 200
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.logout_all"))
    open_logins = select(LoginSession).where(
        LoginSession.user_id == world.users["p1"].id, LoginSession.ended_at.is_(None)
    )
    assert db.session.scalars(open_logins).all() == []


@pytest.mark.parametrize(
    ("current", "new", "confirm", "error"),
    [
        ("wrong password", NEW_PASSWORD, NEW_PASSWORD, "当前密码不正确"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "两次输入的新密码不一致"),
        (PASSWORD, "password123", "password123", "太常见"),
        (PASSWORD, "admin-2026-spring", "admin-2026-spring", "不能包含用户名"),
        (PASSWORD, "short99x", "short99x", "至少 10 个字符"),
    ],
)
def test_password_change_refusals_change_nothing(app, world, current, new, confirm, error):
    admin = sign_in(app, "admin")
    before = world.users["admin"].password_hash
    page = admin.post(
        "/auth/account",
        data={"current_password": current, "new_password": new, "confirm": confirm},
    )
    assert page.status_code == 200 and error in page.get_data(as_text=True)
    db.session.refresh(world.users["admin"])
    assert world.users["admin"].password_hash == before and signed_in_as_staff(admin)


def signed_in_as_staff(client) -> bool:
    return client.get("/operator/").status_code == 200


@pytest.fixture
def production_app():
    """Production settings (secure cookies, CSRF on) on an in-memory database."""

    class Production(TestingConfig):
        ENV_NAME = "production"
        WTF_CSRF_ENABLED = True

    app = create_app(Production)
    app.test_client_class = FreshUserClient
    with app.app_context():
        db.create_all()
        build_world()
        yield app
        db.session.remove()
        db.drop_all()


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"')[0]


def test_production_cookies_are_secure_and_account_forms_need_csrf(production_app):
    client = production_app.test_client()
    base = "https://localhost"
    client.environ_base["HTTP_REFERER"] = base + "/"  # Flask-WTF checks it over HTTPS
    token = _csrf(client.get("/auth/login", base_url=base).get_data(as_text=True))
    response = client.post(
        "/auth/login",
        base_url=base,
        data={"username": "p1", "password": PASSWORD, "remember": "y", "csrf_token": token},
    )
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith(REMEMBER + "=")]
    assert remember and all("Secure" in c and "HttpOnly" in c for c in cookies), cookies
    for path in ("/auth/logout-everywhere", "/auth/account"):
        refused = client.post(
            path,
            base_url=base,
            data={
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
            },
        )
        assert refused.status_code == 400
    assert db.session.scalar(select(User).where(User.username == "p1")).check_password(PASSWORD)
    assert client.get("/me/sessions", base_url=base).status_code == 200


def test_logins_end_and_expire_on_both_databases(any_app):
    """The login rows behave the same on SQLite and PostgreSQL (aware times, updates)."""
    any_app.test_client_class = FreshUserClient
    world = build_world()
    laptop, phone, old = sign_in(any_app), sign_in(any_app, remember=False), sign_in(any_app)
    copied = laptop.get_cookie(REMEMBER).value
    laptop.post("/auth/logout")
    assert not signed_in(only_cookie(any_app, REMEMBER, copied)) and signed_in(phone)

    # A login older than LOGIN_MAX_AGE_DAYS is over, remembered or not.
    newest = db.session.scalar(select(LoginSession).order_by(LoginSession.id.desc()))
    newest.created_at = utcnow() - timedelta(days=any_app.config["LOGIN_MAX_AGE_DAYS"], hours=1)
    db.session.commit()
    assert not signed_in(old) and signed_in(phone)

    token = issue_token(world.users["p1"])
    phone.post("/auth/logout-everywhere")
    assert not signed_in(phone)
    assert any_app.test_client().get("/api/v1/bases", headers=bearer(token)).status_code == 401
