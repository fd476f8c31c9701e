"""The area search: an area re-solve never loses levels 1-2, and a balance re-solve keeps every
request's session count."""

import random
from collections import Counter

from scheduler.domain import Assignment, Plan
from scheduler.generate import generate
from scheduler.greedy import greedy
from scheduler.lns import Search
from scheduler.solve import new_sessions
from scheduler.validate import validate


def _plan(search: Search) -> Plan:
    kept = [Assignment(b.request, b.slots) for b in search.kept]
    return Plan(search.instance.name, tuple(kept + search.sessions))


def test_served_areas_never_lose_and_stay_valid():
    inst = generate("tiny", seed=21)
    search = Search(inst, new_sessions(inst, greedy(inst)), 1, random.Random(3))
    before = search.served_key(search.sessions)
    for _ in range(4):
        area = search.served_area()
        if area is None:
            break
        search.solve_area(area, 0, 1.0, float("inf"))
        now = search.served_key(search.sessions)
        assert now >= before
        before = now
        assert validate(inst, _plan(search)) == []


def test_balance_areas_keep_each_request_count():
    inst = generate("tiny", seed=22)
    search = Search(inst, new_sessions(inst, greedy(inst)), 1, random.Random(4))
    counts = Counter(a.request for a in search.sessions)
    for _ in range(3):
        area, movers = search.balance_area()
        search.solve_area(area, 1, 1.0, float("inf"), movers)
        assert Counter(a.request for a in search.sessions) == counts
        assert validate(inst, _plan(search)) == []
