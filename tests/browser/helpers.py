"""Shared steps of the browser tests: the app over the live server's database file (to seed and
read rows), a signed-in page in a chosen language and viewport."""

from __future__ import annotations

from app import create_app
from app.extensions import db
from app.models import User
from config import TestingConfig
from tests.app.services.world import PASSWORD

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def app_on(tmp_path):
    """The app over the live server's SQLite file (the ``live`` fixture's ``tmp_path``)."""

    class Same(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'browser.sqlite'}"

    return create_app(Same)


def user(name: str) -> User:
    """The account ``name``, in the current app context's session."""
    return db.session.query(User).filter(User.username == name).one()


def signed_in(browser, viewport, base_url: str, username: str | None, lang: str):
    """A fresh browser context (and its page) signed in as ``username``, speaking ``lang``."""
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(15000)
    page = context.new_page()
    if username is not None:
        page.goto(f"{base_url}/auth/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_load_state()
    page.goto(f"{base_url}/?lang={lang}")
    return context, page
