"""The linear bound on weighted served: never below what a valid plan serves, as tight as HiGHS's
proof on a small week, and the search stops its lower levels early once the bound is reached."""

import random

import pytest

from scheduler import bound, lns
from scheduler.bound import served_bound
from scheduler.candidates import eligibility
from scheduler.generate import generate
from scheduler.greedy import greedy
from scheduler.lns import Search
from scheduler.solve import _served_bound, new_sessions, solve
from tests.scheduler.builders import req, slot, week


@pytest.mark.parametrize("seed", [1, 2, 3, 21])
def test_the_bound_is_never_below_an_optimal_plan_nor_above_the_session_count(seed):
    inst = generate("tiny", seed=seed)
    eligible = eligibility(inst)
    bound = served_bound(inst, eligible)
    plan = solve(inst, time_limit_s=10, workers=1, seed=1)
    assert plan.stats["status"] == "OPTIMAL"  # CP-SAT proved levels 1-2 on the whole week
    assert bound is not None and bound >= plan.stats["objective"]
    search = Search(inst, new_sessions(inst, greedy(inst)), 1, random.Random(1), eligible)
    assert bound <= _served_bound(search)


def test_the_bound_is_the_proven_optimum_of_a_small_week():
    # The generated S week of seed 1: HiGHS proves 748 optimal in ~120 s (benchmarks/README.md);
    # counting every session of every request with an eligible base gives 806.
    inst = generate("S", seed=1)
    eligible = eligibility(inst)
    assert served_bound(inst, eligible) == 748
    assert greedy(inst).stats["objective"] <= 748


@pytest.mark.parametrize("week", [("tiny", 3), ("S", 1), ("S", 2)])
def test_column_generation_ends_at_the_optimum_of_the_whole_relaxation(monkeypatch, week):
    # With room for every column in the first round, the LP holds all of them at once: the
    # relaxation itself. Grown a few columns per request at a time, it must end at the same value.
    inst = generate(week[0], seed=week[1])
    eligible = eligibility(inst)
    grown = bound._Relaxation(inst, eligible)
    grown.bound(None)
    monkeypatch.setattr(bound, "COLUMNS_PER_REQUEST", 10**6)
    whole = bound._Relaxation(inst, eligible)
    whole.bound(None)
    assert grown.value == pytest.approx(whole.value, abs=1e-6)
    assert len(grown.columns) <= len(whole.columns)


@pytest.mark.parametrize("week", [("tiny", 1), ("tiny", 2), ("S", 1), ("S", 2)])
def test_starting_from_a_plans_columns_ends_at_the_same_bound(week):
    inst = generate(week[0], seed=week[1])
    eligible = eligibility(inst)
    start = new_sessions(inst, greedy(inst))
    assert start
    assert served_bound(inst, eligible, start=start) == served_bound(inst, eligible)


def test_a_bound_stopped_by_its_deadline_is_looser_but_still_a_bound(monkeypatch):
    inst = generate("S", seed=1)
    eligible = eligibility(inst)
    converged = served_bound(inst, eligible)
    rounds = []
    for stop_after in (0, 1, 2, 3):
        clock = iter(range(10**6))
        monkeypatch.setattr(bound.time, "monotonic", lambda clock=clock: next(clock))
        rounds.append(served_bound(inst, eligible, deadline=stop_after - 0.5))
    assert converged == 748
    assert all(b is not None and b >= converged for b in rounds)
    assert rounds[-1] < rounds[0]  # each round's duals price the columns left out closer


class _Clock:
    """A fake ``time.monotonic`` for ``lns``: each area solve takes one second and gains nothing."""

    def __init__(self) -> None:
        self.now = 0.0
        self.solves: list[int] = []

    def monotonic(self) -> float:
        return self.now

    def solve_area(self, area, stage, limit, end, movers=None):
        self.now += 1.0
        self.solves.append(stage)
        return False, False


def _stage2_solves(monkeypatch, bound: int | None) -> int:
    clock = _Clock()
    monkeypatch.setattr(lns.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(lns.Search, "solve_area", clock.solve_area)
    inst = generate("tiny", seed=2)
    search = Search(inst, new_sessions(inst, greedy(inst)), 1, random.Random(1))
    lns.run(search, 100.0, 0.5, bound=bound)
    return clock.solves.count(1)


def test_once_level_one_reaches_the_bound_the_lower_levels_stop_when_they_stall(monkeypatch):
    inst = generate("tiny", seed=2)
    reached = Search(inst, new_sessions(inst, greedy(inst)), 1, random.Random(1))
    served = reached.served_key(reached.sessions)[0]
    unproved = _stage2_solves(monkeypatch, None)  # runs to the deadline
    proved = _stage2_solves(monkeypatch, served)  # the start already holds the bound
    assert unproved >= 45
    assert proved <= lns.STALL_SHARE * 100 + 2 < unproved


def _kept_and_one_more(hours, same_day_same_base):
    # P1's locked session at B1 on the week's one day at 18:00; their second request needs the
    # kitchen that only B2 has.
    return week(
        {"B1-S1": [], "B2-S1": ["kitchen"]},
        hours=hours,
        requests=[req("R1", "P1"), req("R2", "P1", needs=["kitchen"])],
        bookings=[("R1", [slot("B1-S1", 0, 18)], "locked")],
        policy={"same_day_same_base": same_day_same_base, "max_sessions_per_day": 2},
    )


def test_a_day_that_holds_a_kept_session_is_that_bases_day():
    # With one base a day, B2 is closed to P1 that day: R2 cannot be served.
    assert served_bound(*_bound_args(_kept_and_one_more((18, 20), True))) == 1
    assert served_bound(*_bound_args(_kept_and_one_more((18, 20), False))) == 2


def test_a_run_over_the_participants_kept_session_is_not_counted():
    # B2's only slot is at 18:00, the hour of P1's own kept session.
    assert served_bound(*_bound_args(_kept_and_one_more((18,), False))) == 1


def _bound_args(inst):
    return inst, eligibility(inst)


def test_the_interior_point_path_of_large_weeks_ends_at_the_same_bound(monkeypatch):
    # Without crossover and with HiGHS's presolve, the duals of the interior point came back off
    # by whole weights (a bound of 804 here).
    monkeypatch.setattr(bound, "INTERIOR_POINT_PAIRS", 0)
    inst = generate("S", seed=1)
    assert served_bound(inst, eligibility(inst)) == 748


@pytest.mark.parametrize("week", [("tiny", 2), ("S", 1), ("S", 2), ("M", 7)])
def test_the_lp_is_solved_again_only_once_it_holds_new_columns(week):
    # Priced columns found to have no run give way to the next best at the same prices within
    # the round: a solve with no new column would only repeat the last one.
    inst = generate(week[0], seed=week[1])
    relaxation = bound._Relaxation(inst, eligibility(inst))
    sizes: list[int] = []
    run = relaxation.highs.run

    def counted():
        sizes.append(len(relaxation.columns))
        return run()

    relaxation.highs.run = counted
    relaxation.bound(None, new_sessions(inst, greedy(inst)))
    assert sizes == sorted(set(sizes))


def test_the_solver_leaves_the_lp_to_the_bound_command_on_weeks_above_its_size(monkeypatch):
    inst = generate("tiny", seed=1)
    assert solve(inst, time_limit_s=5, workers=1, seed=1).stats["bound_kind"] == "lp"
    monkeypatch.setattr("scheduler.solve.BOUND_MAX_PAIRS", 0)
    assert solve(inst, time_limit_s=5, workers=1, seed=1).stats["bound_kind"] == "sessions"
