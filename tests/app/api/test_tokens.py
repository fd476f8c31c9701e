"""POST /api/v1/tokens and bearer authentication."""

from __future__ import annotations

from app import create_app
from app.extensions import db
from config import TestingConfig
from tests.app.api.conftest import assert_error
from tests.app.services.world import PASSWORD, build_world


def test_token_for_good_credentials_opens_the_api(api):
    r = api.client.post("/api/v1/tokens", json={"username": "p1", "password": PASSWORD})
    assert r.status_code == 201
    body = r.get_json()
    assert (body["user"], body["role"]) == ("p1", "participant") and body["expires_in"] > 0
    r = api.client.get("/api/v1/bases", headers={"Authorization": f"Bearer {body['token']}"})
    assert r.status_code == 200 and [b["id"] for b in r.get_json()] == ["B001", "B002"]


def test_wrong_password_unknown_user_and_bad_input(api):
    r = api.client.post("/api/v1/tokens", json={"username": "p1", "password": "nope"})
    assert_error(r, 401, "bad_credentials")
    r = api.client.post("/api/v1/tokens", json={"username": "ghost", "password": PASSWORD})
    assert_error(r, 401, "bad_credentials")
    r = api.client.post("/api/v1/tokens", json={"username": "p1"})
    error = assert_error(r, 422, "validation")
    assert "password" in error["detail"]["json"]
    assert_error(api.client.post("/api/v1/tokens", data="x"), 422)


def test_missing_tampered_and_expired_tokens_are_refused(api, app):
    assert_error(api.get("/api/v1/bases"), 401, "unauthorized")
    good = api.headers("p1")["Authorization"]
    r = api.client.get("/api/v1/bases", headers={"Authorization": good[:-2] + "xx"})
    assert_error(r, 401)
    r = api.client.get("/api/v1/bases", headers={"Authorization": "Basic cDE6cDE="})
    assert_error(r, 401)
    assert api.get("/api/v1/bases", as_="p1").status_code == 200  # checked once, then reused
    app.config["API_TOKEN_MAX_AGE_S"] = -1
    assert_error(api.get("/api/v1/bases", as_="p1"), 401)  # expiry is checked on every use


def test_a_new_secret_key_revokes_every_token(api, app):
    assert api.get("/api/v1/bases", as_="p1").status_code == 200
    app.config["SECRET_KEY"] = "rotated-" + app.config["SECRET_KEY"]
    assert_error(api.get("/api/v1/bases", as_="p1"), 401)


def test_a_password_change_or_deactivation_revokes_tokens(api, world):
    assert api.get("/api/v1/bases", as_="p1").status_code == 200
    world.users["p1"].set_password("a new secret 99")
    db.session.commit()
    assert_error(api.get("/api/v1/bases", as_="p1"), 401)
    assert api.get("/api/v1/bases", as_="p2").status_code == 200
    world.users["p2"].active = False
    db.session.commit()
    assert_error(api.get("/api/v1/bases", as_="p2"), 401)


def test_token_requests_are_rate_limited_with_a_json_429():
    """Like the login form, POST /tokens is limited per address (LOGIN_RATE_LIMIT)."""

    class Limited(TestingConfig):
        RATELIMIT_ENABLED = True
        LOGIN_RATE_LIMIT = "2 per minute"

    app = create_app(Limited)
    with app.app_context():
        db.create_all()
        build_world()
        client = app.test_client()
        body = {"username": "p1", "password": "wrong"}
        answers = [client.post("/api/v1/tokens", json=body) for _ in range(3)]
        assert [r.status_code for r in answers] == [401, 401, 429]
        assert_error(answers[2], 429)
        db.session.remove()
        db.drop_all()
