"""The timetable service alone: templates to blocks (prime hours, breaks), idempotent weeks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.localtime import local_zone
from app.services.timetable import service as timetable
from app.services.timetable.service import TemplateSpec, TimetableError


def test_blocks_cover_opening_hours_with_prime_time():
    spec = TemplateSpec(weekdays=(0,), open_minute=16 * 60, close_minute=24 * 60)
    assert spec.blocks() == [
        (0, 960, 1080, False),
        (0, 1080, 1200, True),
        (0, 1200, 1320, True),
        (0, 1320, 1440, False),
    ]


def test_a_daily_break_removes_the_slots_it_touches():
    spec = TemplateSpec(
        weekdays=(2, 3), open_minute=8 * 60, close_minute=18 * 60, break_start=12 * 60,
        break_end=13 * 60,
    )  # fmt: skip
    starts = [start // 60 for day, start, _end, _prime in spec.blocks() if day == 2]
    assert starts == [8, 10, 13, 15]


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (TemplateSpec(weekdays=(), open_minute=480, close_minute=600), "no_days"),
        (TemplateSpec(weekdays=(0,), open_minute=600, close_minute=480), "hours"),
        (TemplateSpec(weekdays=(0,), open_minute=480, close_minute=540), "hours"),
        (
            TemplateSpec(weekdays=(0,), open_minute=0, close_minute=600, slot_minutes=10),
            "slot_length",
        ),
        (
            TemplateSpec(
                weekdays=(0,), open_minute=0, close_minute=600, break_start=300, break_end=200
            ),
            "break",
        ),
    ],
)
def test_impossible_templates_are_refused_with_a_reason(spec, code):
    with pytest.raises(TimetableError) as refused:
        spec.blocks()
    assert refused.value.code == code


def test_a_saved_template_reads_back_as_the_form_showed_it(app, world):
    hub = world.hubs["B002"]
    spec = TemplateSpec(
        weekdays=(0, 2, 4), open_minute=8 * 60, close_minute=22 * 60, prime_start=18 * 60,
        prime_end=22 * 60, break_start=12 * 60, break_end=14 * 60,
    )  # fmt: skip
    timetable.save_template(hub, spec, world.users["op2"])
    back = timetable.describe_template(timetable.default_template(hub))
    assert back == spec


def test_generate_is_idempotent_and_publish_needs_slots(app, world):
    hub = world.hubs["B001"]
    actor = world.users["op1"]
    week = world.week_start + timedelta(days=28)
    with pytest.raises(TimetableError, match="template"):
        timetable.generate_week(hub, week, actor)
    timetable.save_template(
        hub, TemplateSpec(weekdays=(5,), open_minute=600, close_minute=840), actor
    )
    tw, added = timetable.generate_week(hub, week, actor)
    assert added == 4 and tw.state == "draft"  # 2 studios × 2 slots
    assert timetable.generate_week(hub, week, actor)[1] == 0
    assert {s.start.astimezone(local_zone()).hour for s in tw.slots} == {10, 12}
    timetable.publish_week(tw, actor)
    with pytest.raises(TimetableError):
        timetable.publish_week(tw, actor)
    with pytest.raises(TimetableError):
        timetable.generate_week(hub, week + timedelta(days=1), actor)  # not a Monday
