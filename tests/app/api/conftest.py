"""API test fixtures: the service fixtures plus a client that signs in as a named user."""

from __future__ import annotations

import pytest

from app.api.auth import issue_token
from tests.app.services.fixtures import app, world  # noqa: F401  (fixtures)


class Api:
    """A test client that sends a bearer token for ``as_`` (a username of the tiny world)."""

    def __init__(self, flask_app, tiny_world):
        self.client = flask_app.test_client()
        self.world = tiny_world
        self._tokens: dict[str, str] = {}

    def headers(self, user: str | None) -> dict:
        if user is None:
            return {}
        if user not in self._tokens:
            self._tokens[user] = issue_token(self.world.users[user])
        return {"Authorization": f"Bearer {self._tokens[user]}"}

    def get(self, url, as_=None, **kw):
        return self.client.get(url, headers=self.headers(as_), **kw)

    def post(self, url, as_=None, **kw):
        return self.client.post(url, headers=self.headers(as_), **kw)

    def delete(self, url, as_=None, **kw):
        return self.client.delete(url, headers=self.headers(as_), **kw)


@pytest.fixture
def api(app, world):  # noqa: F811  (the imported fixtures)
    return Api(app, world)


def assert_error(response, status: int, reason: str | None = None) -> dict:
    """The response is the API's JSON error with this status (and reason)."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.is_json, response.get_data(as_text=True)[:200]
    error = response.get_json()["error"]
    assert error["code"] == status and error["message"]
    if reason is not None:
        assert error["reason"] == reason, error
    return error
