"""Logins answer the same way, after the same work, whether or not the username exists."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from app.extensions import db
from tests.app.services.world import PASSWORD


@pytest.fixture
def verify_calls(monkeypatch) -> list[str]:
    """Every Argon2 verification the app runs (the real one, counted)."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counted(self, hash_, password):
        calls.append(hash_)
        return real(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return calls


def _web(app, username, password):
    return app.test_client().post("/auth/login", data={"username": username, "password": password})


def _api(app, username, password):
    return app.test_client().post(
        "/api/v1/tokens", json={"username": username, "password": password}
    )


@pytest.mark.parametrize("entry", [_web, _api], ids=["login form", "token endpoint"])
@pytest.mark.parametrize("who", ["unknown", "inactive", "wrong password", "right password"])
def test_every_login_runs_one_password_hash_verification(app, world, verify_calls, entry, who):
    world.users["p2"].active = False
    db.session.commit()
    username, password = {
        "unknown": ("nobody-here", PASSWORD),
        "inactive": ("p2", PASSWORD),
        "wrong password": ("p1", "not the password"),
        "right password": ("p1", PASSWORD),
    }[who]
    response = entry(app, username, password)
    assert len(verify_calls) == 1, f"{who}: {len(verify_calls)} Argon2 verifications"
    if who == "right password":
        assert response.status_code in (201, 302)
    else:
        assert response.status_code in (200, 401)
        text = response.get_data(as_text=True)
        assert "用户名或密码错误" in text or "wrong username or password" in text
