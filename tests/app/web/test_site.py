"""Language switch, error pages (HTML for people, JSON under /api/), CSRF, login limit, catalogs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app import create_app
from app.extensions import db
from config import TestingConfig
from tests.app.services.world import PASSWORD, build_world
from tests.app.web.conftest import FreshUserClient

TRANSLATIONS = Path(__file__).resolve().parents[3] / "app" / "translations"


def test_chinese_is_the_default_and_lang_switches_and_sticks(app, world):
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in home and "让每个农场和工厂都有直播间" in home
    english = client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Livestream studios for every farm and factory" in english
    assert "Username" in client.get("/auth/login").get_data(as_text=True)
    back = client.get("/lang/zh_CN?next=/auth/login")
    assert back.status_code == 302 and back.headers["Location"].endswith("/auth/login")
    assert "用户名" in client.get("/auth/login").get_data(as_text=True)


def test_language_cookie_survives_a_new_session(app, world):
    client = app.test_client()
    client.get("/lang/en?next=/")
    with client.session_transaction() as session:
        session.clear()
    assert "Log in" in client.get("/auth/login").get_data(as_text=True)


def test_pages_send_safety_headers(app, world):
    response = app.test_client().get("/")
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = app.test_client().get("/?lang=en").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_account_remembers_its_language_on_a_new_device(app, world, login):
    login("p1").get("/lang/en?next=/me/slots")
    assert world.users["p1"].locale == "en"
    elsewhere = login("p1")  # a fresh browser: no cookie, no session language
    assert "Find a free slot" in elsewhere.get("/me/slots").get_data(as_text=True)


def test_language_switch_refuses_open_redirects(app, world):
    response = app.test_client().get("/lang/en?next=https://evil.example/")
    assert response.headers["Location"] == "/"


def test_error_pages_in_both_languages_and_json_for_the_api(app, world):
    client = app.test_client()
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    english = client.get("/no-such-page?lang=en")
    assert "Page not found" in english.get_data(as_text=True)
    api = client.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.is_json
    assert api.get_json()["error"]["message"]


def test_forbidden_page_is_friendly(app, world, login):
    page = login("p1").get("/operator/")
    assert page.status_code == 403 and "无权查看" in page.get_data(as_text=True)


@pytest.fixture
def strict_app():
    """The app with CSRF and the login limit switched on, as in production."""

    class Strict(TestingConfig):
        WTF_CSRF_ENABLED = True
        RATELIMIT_ENABLED = True
        LOGIN_RATE_LIMIT = "3 per minute"

    app = create_app(Strict)
    app.test_client_class = FreshUserClient
    with app.app_context():
        db.create_all()
        world = build_world()
        yield app, world
        db.session.remove()
        db.drop_all()


def _token(page: str) -> str:
    return page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"')[0]


def test_forms_without_csrf_token_are_refused(strict_app):
    app, world = strict_app
    client = app.test_client()
    refused = client.post("/auth/login", data={"username": "p1", "password": PASSWORD})
    assert refused.status_code == 400 and "表单已过期" in refused.get_data(as_text=True)
    token = _token(client.get("/auth/login").get_data(as_text=True))
    ok = client.post(
        "/auth/login", data={"username": "p1", "password": PASSWORD, "csrf_token": token}
    )
    assert ok.status_code == 302
    slot = world.slot("B001-S1", 1, 20)
    assert client.post(f"/me/slots/{slot}/book").status_code == 400
    from app.models import Booking

    assert db.session.query(Booking).count() == 0


def test_login_attempts_are_rate_limited(strict_app):
    app, _world = strict_app
    client = app.test_client()
    for _ in range(3):
        token = _token(client.get("/auth/login").get_data(as_text=True))
        wrong = client.post(
            "/auth/login", data={"username": "p1", "password": "no", "csrf_token": token}
        )
        assert wrong.status_code == 200 and "用户名或密码错误" in wrong.get_data(as_text=True)
    token = _token(client.get("/auth/login").get_data(as_text=True))
    limited = client.post(
        "/auth/login", data={"username": "p1", "password": PASSWORD, "csrf_token": token}
    )
    assert limited.status_code == 303
    assert "登录尝试次数过多" in client.get("/auth/login").get_data(as_text=True)


def test_logout_needs_post(login):
    client = login("p1")
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/me/sessions").status_code == 302


def test_logins_and_failed_attempts_are_audited(app, world, login):
    from sqlalchemy import select

    from app.models import AuditEvent

    app.test_client().post("/auth/login", data={"username": "p1", "password": "wrong"})
    login("p1").post("/auth/logout")
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.subject, AuditEvent.actor_user_id)
    )
    events = [(a, s, u is not None) for a, s, u in rows]
    assert events == [
        ("auth.login_failed", "p1", False),
        ("auth.login", "p1", True),
        ("auth.logout", "p1", True),
    ]


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_every_string_is_translated_and_compiled(locale):
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as f:
        po = read_po(f)
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        pot = read_po(f)
    with open(folder / "messages.mo", "rb") as f:
        mo = read_mo(f)

    def same(value):  # a plural message's ids and strings: a tuple in .po, a list in .mo
        return tuple(value) if isinstance(value, list | tuple) else value

    wanted = {same(m.id) for m in pot if m.id}
    translated = {
        same(m.id): same(m.string)
        for m in po
        if m.id and m.string and all(same(m.string)) and "fuzzy" not in m.flags
    }
    assert wanted - set(translated) == set()
    compiled = {same(m.id): same(m.string) for m in mo if m.id}
    assert compiled == translated


def test_an_unexpected_error_is_a_friendly_page_or_json_never_a_traceback(caplog):
    class Production(TestingConfig):
        TESTING = False

    app = create_app(Production)

    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/v1/boom", "api_boom", boom)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        page = client.get("/boom")
        assert page.status_code == 500 and "系统出了点问题" in page.get_data(as_text=True)
        assert "Traceback" not in page.get_data(as_text=True)
        api = client.get("/api/v1/boom")
        assert api.status_code == 500 and api.get_json()["error"]["message"] == "internal error"
        db.drop_all()
    assert "a bug" in caplog.text


def test_every_asset_is_served_locally(app, world, login):
    import re

    pages = [app.test_client().get("/"), login("op1").get("/operator/bases/B001/dashboard")]
    pages.append(login("p1").get("/me/slots"))
    client = app.test_client()
    for page in pages:
        html = page.get_data(as_text=True)
        refs = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert refs
        external = [r for r in refs if r.startswith(("http:", "https:", "//"))]
        assert external == []
        for ref in refs:
            if ref.startswith(("/static/", "/bootstrap/")):
                with client.get(ref.split("#")[0]) as response:
                    assert response.status_code == 200, ref


def test_times_are_shown_in_china_standard_time(app, world, login):
    from app.services.booking import service as booking_service

    booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 20)])
    page = login("p1").get("/me/sessions").get_data(as_text=True)
    assert "20:00–22:00" in page  # 12:00–14:00 UTC


def test_every_response_sends_a_strict_content_security_policy(app, world, login):
    """Pages, static files, API answers, errors and redirects: all carry the same headers."""
    admin = login("admin")
    responses = {
        "page": admin.get("/operator/bases/B001/dashboard"),
        "static": admin.get("/static/css/app.css"),
        "api": admin.get("/api/v1/bases"),
        "api error": admin.post("/api/v1/tokens", json={}),
        "missing page": admin.get("/no-such-page"),
        "redirect": app.test_client().get("/me/sessions"),
        "api docs": admin.get("/api/v1/docs"),
    }
    for response in responses.values():
        response.close()  # the static file's handle; the headers stay readable
    for what, response in responses.items():
        csp = response.headers.get("Content-Security-Policy", "")
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives.get("default-src") == "'self'", (what, csp)
        assert directives.get("script-src") == "'self'", (what, csp)
        assert directives.get("style-src") == "'self'", (what, csp)
        assert directives.get("frame-ancestors") == "'none'", (what, csp)
        assert directives.get("object-src") == "'none'", (what, csp)
        assert "unsafe" not in csp, (what, csp)
        policy = response.headers.get("Permissions-Policy", "")
        assert "camera=()" in policy and "geolocation=()" in policy, (what, policy)
        assert response.headers.get("X-Content-Type-Options") == "nosniff", what
        assert response.headers.get("Referrer-Policy") == "same-origin", what


INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>"  # an inline script
    r"|<style\b|\sstyle=|\son[a-z]+\s*=|javascript:",  # inline style, event handler, js: URL
    re.IGNORECASE,
)


def test_no_template_holds_inline_script_style_or_event_handler():
    """What the policy would refuse in a browser, caught here first (the browser tests check too)."""
    app_dir = Path(__file__).resolve().parents[3] / "app"
    found = [
        f"{path.relative_to(app_dir)}: {match.group(0)!r}"
        for path in app_dir.rglob("*.html")
        for match in INLINE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
