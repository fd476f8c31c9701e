"""Fixtures for page tests: the tiny two-base world and signed-in test clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from tests.app.services.world import PASSWORD, World, build_world


class FreshUserClient(FlaskClient):
    """A test client that forgets per-request caches between requests.

    The shared ``app`` fixture keeps one app context open for the whole test, so ``g`` (where
    Flask-Login caches the user and Flask-Babel the locale) would otherwise outlive a request,
    unlike in a server.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)
        return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def fresh_user_per_request(app: Flask) -> None:
    """Every page test uses ``FreshUserClient``."""
    app.test_client_class = FreshUserClient


@pytest.fixture
def world(app: Flask) -> World:
    """Linyi (B001) and Ganzhou (B002) with a published week, operators and participants."""
    return build_world()


@pytest.fixture
def login(app: Flask, world: World) -> Callable[[str], FlaskClient]:
    """A fresh test client signed in as ``username`` (Chinese interface unless switched)."""

    def _login(username: str) -> FlaskClient:
        client = app.test_client()
        response = client.post("/auth/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client

    return _login
