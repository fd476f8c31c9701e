"""The run pages: history, report in Chinese and English, progress, files, and the button.

Requests run outside any app context of the test (as in production, each request has its own),
so the signed-in user and the language are never carried over from one request to the next.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Hub, OptimizationRun, Participant, Role, RunChange, User
from app.services.runs.reoptimize import reoptimize
from tests.app.nightly.conftest import WEEK, configured_app, seed_small_week, sqlite_file

PASSWORD = "correct horse battery"


@pytest.fixture
def web_app(tmp_path) -> Iterator:
    """The seeded small week on a SQLite file, with no app context left pushed."""
    app = configured_app(sqlite_file(tmp_path), tmp_path)
    with app.app_context():
        seed_small_week()
    yield app
    with app.app_context():
        db.engine.dispose()


def signed_in(app, role: str, bases: tuple[str, ...] = ("B001",)):
    """A test client signed in as a new account of ``role`` (an operator runs ``bases``)."""
    name = f"{role}-runs"
    with app.app_context():
        user = User(username=name, role=role)
        if role == Role.PARTICIPANT.value:
            user.participant_id = db.session.scalar(select(Participant.id).limit(1))
        if role == Role.OPERATOR.value:
            user.hubs = list(db.session.scalars(select(Hub).where(Hub.code.in_(bases))))
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    response = client.post("/auth/login", data={"username": name, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_the_report_shows_what_changed_and_why_in_chinese_and_english(web_app):
    with web_app.app_context():
        run = reoptimize(WEEK, time_limit_s=3)
        assert run.state == "applied", run.message
        run_id = run.id
    client = signed_in(web_app, "admin")

    zh = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "关键指标" in zh and "已应用" in zh and "加权服务场次" in zh
    assert "变更的场次" in zh and "新安排" in zh and "按区域" in zh
    assert "instance.json" in zh

    client.get("/lang/en")
    en = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "Key figures before and after" in en and "Applied" in en
    assert "Changed sessions" in en and "Newly placed" in en and "Changes per base" in en

    history = client.get("/runs/").get_data(as_text=True)
    assert f"#{run_id}" in history and "Re-optimize now" in history

    files = client.get(f"/runs/{run_id}/files/instance.json")
    assert files.status_code == 200 and b"livehub-instance/1" in files.data
    files.close()
    assert client.get(f"/runs/{run_id}/files/secrets.txt").status_code == 404
    progress = client.get(f"/runs/{run_id}/progress.json").get_json()
    assert progress["status"] == "applied" and progress["progress"]["phase"] == "done"


def test_the_button_starts_a_run_for_operators_and_participants_cannot(web_app):
    participant = signed_in(web_app, "participant")
    assert participant.get("/runs/").status_code == 403
    assert participant.post("/runs/reoptimize", data={"week": WEEK.isoformat()}).status_code == 403

    operator = signed_in(web_app, "operator")
    response = operator.post("/runs/reoptimize", data={"week": WEEK.isoformat(), "confirm": "yes"})
    assert response.status_code == 302
    with web_app.app_context():
        run = db.session.scalar(select(OptimizationRun).order_by(OptimizationRun.id.desc()))
        assert response.headers["Location"].endswith(f"/runs/{run.id}")
        assert run.kind == "manual" and run.actor_label == "operator-runs"
        assert run.state in ("applied", "no_change"), run.message
        assert run.scope_bases == ["B001"]  # an operator re-plans their own bases only

    bad = operator.post("/runs/reoptimize", data={"week": "not-a-day"})
    assert bad.status_code == 302 and bad.headers["Location"].endswith("/runs/")


def test_a_run_in_progress_shows_its_progress(web_app):
    with web_app.app_context():
        from app.services.runs import guard as run_guard
        from app.services.runs import liveness
        from app.services.timetable.weeks import get_week

        week = get_week(db.session, WEEK)
        run, granted = run_guard.claim(week, trigger="manual", actor=None, actor_label="t")
        assert granted
        liveness.heartbeat(
            run.id, {"phase": "solving", "elapsed_s": 12.3, "limit_s": 60, "objective": 4242}
        )
        run_id = run.id
    client = signed_in(web_app, "admin")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert 'data-testid="run-progress"' in page and "运行中" in page and "求解器正在计算" in page
    assert 'data-field="percent"' in page and "4242" not in page  # a share, not the objective
    progress = client.get(f"/runs/{run_id}/progress.json").get_json()["progress"]
    assert progress["elapsed_s"] == 12 and progress["phase"] == "solving"
    assert 0 < progress["percent"] < 100 and progress["left_s"] > 0


def test_a_run_starts_only_after_a_confirmation_page(web_app):
    admin = signed_in(web_app, "admin")
    unconfirmed = admin.post("/runs/reoptimize", data={"week": WEEK.isoformat()})
    assert unconfirmed.status_code == 302
    assert "/runs/reoptimize?week=" in unconfirmed.headers["Location"]
    with web_app.app_context():
        assert db.session.scalar(select(OptimizationRun.id)) is None  # nothing started

    page = admin.get(f"/runs/reoptimize?week={WEEK.isoformat()}&lang=en").get_data(as_text=True)
    assert 'data-testid="reoptimize-confirm"' in page and "every base of the week" in page
    assert 'name="csrf_token"' in page and 'name="confirm" value="yes"' in page

    operator = signed_in(web_app, "operator", bases=("B002",))
    mine = operator.get(f"/runs/reoptimize?week={WEEK.isoformat()}&lang=en").get_data(as_text=True)
    assert "only your bases" in mine and "B002" in mine and "B001" not in mine


def test_operators_see_only_their_bases_changes_and_never_the_run_files(web_app):
    with web_app.app_context():
        run = reoptimize(WEEK, time_limit_s=3)
        assert run.state == "applied", run.message
        run_id = run.id
        changes = db.session.scalars(select(RunChange).where(RunChange.run_id == run_id)).all()
        requests = {c.request_code for c in changes}
    assert len(requests) > 1
    operator = signed_in(web_app, "operator", bases=("B001",))
    page = operator.get(f"/runs/{run_id}?lang=en").get_data(as_text=True)
    assert 'data-testid="report-scope"' in page
    admin = signed_in(web_app, "admin")
    admin_page, number = "", 1
    while True:  # the changed sessions come a page at a time
        one = admin.get(f"/runs/{run_id}?page={number}").get_data(as_text=True)
        admin_page += one
        if 'rel="next"' not in one:
            break
        number += 1
    shown_to_operator = {r for r in requests if f">{r}<" in page}
    shown_to_admin = {r for r in requests if f">{r}<" in admin_page}
    assert shown_to_admin == requests
    assert shown_to_operator < requests  # other bases' sessions are not listed
    assert "instance.json" not in page
    for name in ("instance.json", "before.json", "plan.json"):
        assert operator.get(f"/runs/{run_id}/files/{name}").status_code == 403
