"""The what-if page while it works: the share of its two solves done and the time left, polled
as JSON; its form's refusals name the field in the reader's language."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Job, utcnow


def _running_whatif(world, *, started_s_ago: float) -> int:
    row = Job(kind="whatif.run", status="running", started_at=utcnow() - timedelta(seconds=started_s_ago),
              payload={"week": world.week_start.isoformat(), "time_limit_s": 10,
                       "changes": {"close_base": ["B001"]}, "user": world.users["op1"].id})  # fmt: skip
    db.session.add(row)
    db.session.commit()
    return row.id


def test_a_working_what_if_shows_its_share_and_time_left(app, world, login):
    job_id = _running_whatif(world, started_s_ago=10)  # two solves of 10 s: half done
    op1 = login("op1")
    page = op1.get(f"/runs/what-if/{job_id}").get_data(as_text=True)
    assert 'data-testid="what-if-progress"' in page and "优化器正在为两个版本的周安排方案" in page
    percent = int(re.search(r'data-field="percent">(\d+)</span>%', page).group(1))
    assert 49 <= percent <= 60  # (10 s + the time of signing in) of 20 s
    body = op1.get(f"/runs/what-if/{job_id}/progress.json").get_json()
    assert body["status"] == "running" and 49 <= body["progress"]["percent"] <= 60
    assert 7 <= body["progress"]["left_s"] <= 10
    assert login("op2").get(f"/runs/what-if/{job_id}/progress.json").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "zh", "en"),
    [("add_studio", "B001:jacuzzi", "添加直播间请写成", "Add a studio as BASE:feature"),
     ("block_day", "B001:tomorrow", "封锁一天请写成", "Block a day as BASE:YYYY-MM-DD"),
     ("add_demand", "B001:many", "添加一个县的需求请写成", "Add the demand of a county"),
     ("", "", "请至少填写一项变更", "Name at least one change")],
)  # fmt: skip
def test_form_refusals_are_translated(app, world, login, field, value, zh, en):
    op1 = login("op1")
    form = {"week": world.week_start.isoformat()} | ({field: value} if field else {})
    assert zh in op1.post("/runs/what-if", data=form).get_data(as_text=True)
    assert en in op1.post("/runs/what-if?lang=en", data=form).get_data(as_text=True)
    assert db.session.scalars(select(Job).where(Job.kind == "whatif.run")).first() is None
