"""What-if changes: pure copies of a week, each doing only what it says; the comparison."""

import pytest

from scheduler.greedy import greedy
from scheduler.scenario import (
    ScenarioError,
    add_studio,
    block_day,
    close_base,
    compare,
    open_evenings,
)
from scheduler.validate import check_instance, validate
from tests.scheduler.builders import START, req, slot, week


def _week():
    reqs = [req("R1", "P1", needs=["kitchen"], sessions=2), req("R2", "P2", bases=["B1"])]
    return week(
        {"B1-S1": [], "B2-S1": []},
        days=2,
        hours=(10, 14),
        requests=reqs,
        bookings=[("R2", [slot("B1-S1", 0, 10)], "tentative")],
    )


def test_add_studio_copies_the_base_hours_with_its_features():
    inst = _week()
    after = add_studio(inst, "B1", frozenset({"kitchen"}))
    assert [s.id for s in after.base_by_id["B1"].studios] == ["B1-S1", "B1-S2"]
    new = after.slots_by_studio["B1-S2"]
    assert [(s.start, s.end) for s in new] == [
        (s.start, s.end) for s in inst.slots_by_studio["B1-S1"]
    ]
    assert check_instance(after) == [] and len(inst.slots) == 8  # the week itself is unchanged
    before_plan, after_plan = greedy(inst), greedy(after)
    assert validate(after, after_plan) == []
    c = compare(inst, before_plan, after, after_plan)
    assert c.before["sessions_served"] == 1 and c.after["sessions_served"] == 3
    assert c.gains == {"P1": 2} and c.losses == {}


def test_open_evenings_adds_slots_until_midnight():
    after = open_evenings(_week(), "B2")
    evening = [s for s in after.slots_by_studio["B2-S1"] if s.id.startswith("WI")]
    assert sorted({s.start.hour for s in evening}) == [16, 18, 20, 22]
    assert all(s.prime == (18 <= s.start.hour < 22) for s in evening)
    assert check_instance(after) == []


def test_block_day_and_close_base_drop_free_slots_and_tentative_bookings_there():
    inst = _week()
    blocked = block_day(inst, "B1", START)
    assert not any(s.studio == "B1-S1" and s.start.date() == START for s in blocked.slots)
    assert blocked.bookings == ()  # the tentative booking there is re-planned
    closed = close_base(inst, "B2")
    assert not closed.slots_by_studio["B2-S1"] and len(closed.bookings) == 1
    assert validate(closed, greedy(closed)) == []


def test_unknown_bases_and_days_are_one_line_errors():
    with pytest.raises(ScenarioError, match="unknown base B9"):
        close_base(_week(), "B9")
    with pytest.raises(ScenarioError, match="not a day of the week"):
        block_day(_week(), "B1", START.replace(year=2030))


def test_add_demand_brings_a_new_countys_producers_beside_a_base():
    from scheduler.scenario import DEMAND_MAX_KM, add_demand

    inst = _week()
    after = add_demand(inst, "B2", 3)
    new = [r for r in after.requests if r.id.startswith("RWB2-")]
    assert len(new) == 3 and all(r.max_km == DEMAND_MAX_KM and r.sessions == 1 for r in new)
    assert all(after.participant_by_id[r.participant].priority == 3 for r in new)
    assert check_instance(after) == [] and len(inst.requests) == 2
    c = compare(inst, greedy(inst), after, greedy(after))
    assert sum(c.gains.values()) == 3  # the two bases have room for them
    with pytest.raises(ScenarioError, match="1 to 10000"):
        add_demand(inst, "B2", 0)
