"""create-user: roles, scoping to bases and participants, refusals on one line."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, User
from tests.app.cli_helpers import one_line, run, seed


def test_operator_bound_to_bases(app):
    seed(app, bases=4, requests=40)
    result = run(
        app,
        "create-user",
        "li.ming",
        "--role",
        "operator",
        "--base",
        "B001",
        "--base",
        "B002",
        "--password",
        "s3cret-pass",
    )
    assert result.exit_code == 0, result.stderr
    user = db.session.scalar(select(User).where(User.username == "li.ming"))
    assert [h.code for h in user.hubs] == ["B001", "B002"]
    assert user.check_password("s3cret-pass") and user.password_hash.startswith("$argon2id$")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.subject == "li.ming"))


def test_participant_account_and_admin(app):
    seed(app, bases=4, requests=40)
    ok = run(
        app,
        "create-user",
        "coop",
        "--role",
        "participant",
        "--participant",
        "P00007",
        "--password",
        "longenough",
    )
    assert ok.exit_code == 0, ok.stderr
    assert db.session.scalar(select(User).where(User.username == "coop")).participant.code == (
        "P00007"
    )
    assert (
        run(app, "create-user", "root2", "--role", "admin", "--password", "longenough").exit_code
        == 0
    )


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["x1", "--role", "operator", "--password", "longenough"], "--base"),
        (["x2", "--role", "operator", "--base", "B999", "--password", "longenough"], "B999"),
        (["x3", "--role", "participant", "--password", "longenough"], "--participant"),
        (
            ["x4", "--role", "participant", "--participant", "P99999", "--password", "longenough"],
            "P99999",
        ),
        (["x5", "--role", "admin", "--base", "B001", "--password", "longenough"], "--base"),
        (["x6", "--role", "admin", "--password", "short"], "8 characters"),
        (["x7", "--role", "boss", "--password", "longenough"], "boss"),
        (["admin", "--role", "admin", "--password", "longenough"], "already exists"),
        (["bad name", "--role", "admin", "--password", "longenough"], "username"),
    ],
)
def test_refusals(app, args, expect):
    seed(app, bases=4, requests=40)
    before = db.session.scalars(select(User.username)).all()
    result = run(app, "create-user", *args)
    assert result.exit_code != 0
    assert one_line(result.stderr) and expect in result.stderr
    assert db.session.scalars(select(User.username)).all() == before
