"""Property tests: on random tiny weeks every plan is valid, keeps what must be kept, beats greedy."""

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.candidates import kept_bookings
from scheduler.generate import generate
from scheduler.greedy import greedy
from scheduler.solve import solve
from scheduler.validate import validate


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=10_000), workers=st.sampled_from([1, 2]))
def test_every_plan_is_valid_keeps_bookings_and_beats_greedy(seed, workers):
    inst = generate("tiny", seed=seed)
    plan = solve(inst, time_limit_s=1.5, workers=workers, seed=seed)
    assert validate(inst, plan) == [] and plan.stats["fallback"] is None
    held = Counter((a.request, a.slots) for a in plan.assignments)
    must = Counter((b.request, b.slots) for b in kept_bookings(inst))
    assert all(held[k] >= n for k, n in must.items())
    weighted = sum(inst.weight_of(a.request) for a in plan.assignments)
    assert weighted >= sum(inst.weight_of(a.request) for a in greedy(inst).assignments)
