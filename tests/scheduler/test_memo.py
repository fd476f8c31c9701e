"""A week's memos go with the week: nothing the scheduler keeps between calls holds a week alive.

A web process explains one request (the whole week built, replayed, validated) and then serves
other pages for hours; a week kept by a module-level cache would be walked by every full garbage
collection (130 ms on the programme week, measured), a pause on whichever page is unlucky.
"""

import gc
import weakref

from scheduler.explain import explain
from scheduler.greedy import greedy
from scheduler.memo import WeekMemo
from scheduler.metrics import figures
from scheduler.solve import solve
from scheduler.validate import sessions_of, validate
from tests.scheduler.builders import req, week


def _busy_week():
    return week(
        requests=[req("R1", "P1", sessions=2), req("R2", "P2"), req("R3", "P1", sessions=3)]
    )


def _gone(ref: weakref.ref) -> bool:
    gc.collect()
    return ref() is None


def test_a_week_validated_counted_and_explained_is_freed_afterwards():
    inst = _busy_week()
    plan = greedy(inst)
    assert validate(inst, plan) == []
    assert figures(inst, plan)["sessions_served"] > 0
    explain(inst, plan, ["R1", "R2", "R3"])
    ref = weakref.ref(inst)
    del inst, plan
    assert _gone(ref), "a module-level memo still holds the week"


def test_a_solved_week_is_freed_afterwards():
    inst = _busy_week()
    plan = solve(inst, time_limit_s=2, workers=1, seed=1)
    assert plan.stats["violations"] == 0
    ref = weakref.ref(inst)
    del inst, plan
    assert _gone(ref), "a module-level memo still holds the week"


def test_the_answer_is_kept_for_the_same_week_and_key_only():
    memo: WeekMemo[list[int]] = WeekMemo()
    one, other = _busy_week(), _busy_week()
    key = ["sessions"]
    answer = memo.put(one, key, [1, 2])
    assert memo.get(one, key) is answer
    assert memo.get(one, ["sessions"]) is None  # an equal key is another key
    assert memo.get(other, key) is None


def test_the_answer_goes_when_its_week_goes():
    memo: WeekMemo[list[int]] = WeekMemo()
    inst = _busy_week()
    memo.put(inst, None, [1])
    del inst
    gc.collect()
    assert memo._last is None


def test_sessions_are_worked_out_once_per_plan():
    inst = _busy_week()
    plan = greedy(inst)
    assert sessions_of(inst, plan) is sessions_of(inst, plan)
