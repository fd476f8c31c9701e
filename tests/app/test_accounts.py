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
        (["x6", "--role", "admin", "--password", "short"], "10 characters"),
        (["x8", "--role", "admin", "--password", "12345678"], "too common"),
        (["x9", "--role", "admin", "--password", "password"], "too common"),
        (["root3", "--role", "admin", "--password", "root3"], "username"),
        (["root4", "--role", "admin", "--password", "my-root4-account"], "username"),
        (["x10", "--role", "admin", "--password", "nine-char"], "10 characters"),
        (["x11", "--role", "operator", "--base", "B001", "--password", "qwertyuiop"], "too common"),
        (
            ["x12", "--role", "participant", "--participant", "P00007", "--password", "tea-7x7"],
            "8 characters",
        ),
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


def test_participants_need_eight_characters_staff_ten(app):
    seed(app, bases=4, requests=40)
    participant = ["--role", "participant", "--participant", "P00007", "--password", "plum-tea"]
    assert run(app, "create-user", "coop8", *participant).exit_code == 0
    staff = run(app, "create-user", "lead", "--role", "admin", "--password", "plum-tea")
    assert staff.exit_code != 0 and "10 characters" in staff.stderr
    assert (
        run(app, "create-user", "lead", "--role", "admin", "--password", "plum-tea-42").exit_code
        == 0
    )


def test_set_password_applies_the_policy_and_ends_every_login_and_token(app):
    """An administrator's reset (a stolen account): the old password, logins and tokens end."""
    from app.api.auth import issue_token, user_from_token
    from app.models import LoginSession
    from app.services.accounts import sessions

    seed(app, bases=4, requests=40)
    user = db.session.scalar(select(User).where(User.username == "p00001"))
    sessions.open_login(user, remember=True)
    db.session.commit()
    token = issue_token(user)
    assert user_from_token(token) is not None

    weak = run(app, "set-password", "p00001", "--password", "password1")
    assert weak.exit_code != 0 and one_line(weak.stderr) and "too common" in weak.stderr
    assert run(app, "set-password", "nobody", "--password", "plum-tea-42").exit_code != 0
    db.session.expire_all()
    assert user.check_password("chunlei-p") and user_from_token(token) is not None

    done = run(app, "set-password", "p00001", "--password", "plum-tea-42")
    assert done.exit_code == 0, done.stderr
    db.session.expire_all()
    assert user.check_password("plum-tea-42") and not user.check_password("chunlei-p")
    assert user_from_token(token) is None
    open_logins = select(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    )
    assert db.session.scalars(open_logins).all() == []
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password_reset"))
