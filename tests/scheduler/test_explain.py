"""explain(): the binding reason for each denied session, one tiny week per reason."""

from collections import Counter
from dataclasses import replace

from scheduler.domain import Assignment, Booking, Plan
from scheduler.explain import CODES, STATIC, explain, neighbourhood, reachable
from scheduler.generate import generate
from scheduler.greedy import greedy
from scheduler.io import load_instance
from scheduler.validate import validate
from tests.scheduler.builders import at, plan, req, slot, week, week_doc

S1, S2 = "B1-S1", "B2-S1"


def codes(inst, p=None, request="R1"):
    p = greedy(inst) if p is None else p
    assert validate(inst, p) == []
    (e,) = explain(inst, p, [request])
    return [d.code for d in e.denials]


def test_served_in_full_has_no_denial_and_is_not_listed():
    inst = week(requests=[req("R1", "P1")])
    p = greedy(inst)
    assert explain(inst, p) == []
    (e,) = explain(inst, p, ["R1"])
    assert (e.asked, e.served, e.missing, e.denials) == (1, 1, 0, ())


def test_not_allowed_base():
    doc = week_doc({S1: [], S2: []}, requests=[req("R1", "P1", bases=["B1"])])
    doc["slots"] = [s for s in doc["slots"] if s["studio"] != S1]  # B1 publishes nothing
    inst = load_instance(doc)
    (d,) = explain(inst, greedy(inst))[0].denials
    assert d.code == "not_allowed_base" and "allowed: B1" in d.en


def test_first_relaxation_that_opens_a_run_binds():
    # B1 (allowed) lacks the kitchen that B2 (not allowed) has: relaxing either would do;
    # the needs come first in the order of relaxations.
    inst = week(
        {S1: [], S2: ["kitchen"]}, requests=[req("R1", "P1", bases=["B1"], needs=["kitchen"])]
    )
    assert codes(inst) == ["features_missing"]


def test_two_constraints_together_name_the_first_filter_that_leaves_nothing():
    # B1 (allowed) is far and has no kitchen, B2 is near without a kitchen, B3 has one but is
    # far and not allowed: no single relaxation opens a run.
    inst = week(
        {S1: [], S2: [], "B3-S1": ["kitchen"]},
        base_at={"B1": (45.0, 120.0), "B3": (45.0, 120.0)},
        requests=[req("R1", "P1", bases=["B1"], needs=["kitchen"], max_km=100)],
    )
    assert codes(inst) == ["too_far"]


def test_too_far_names_the_nearest_base():
    inst = week(
        {S1: [], S2: []},
        base_at={"B1": (40.0, 120.0), "B2": (45.0, 120.0)},
        requests=[req("R1", "P1", max_km=500, sessions=2)],
    )
    p = greedy(inst)
    (e,) = explain(inst, p)
    assert [d.code for d in e.denials] == ["too_far", "too_far"]
    assert "B1 at 1112 km" in e.denials[0].en and "B1" in e.denials[0].zh


def test_features_missing():
    inst = week({S1: ["kitchen"]}, requests=[req("R1", "P1", needs=["cold_chain"])])
    (d,) = explain(inst, greedy(inst))[0].denials
    assert d.code == "features_missing" and "cold_chain" in d.en and "cold_chain" in d.zh


def test_no_studio_in_window():
    inst = week(
        days=3,
        hours=(18,),
        requests=[req("R1", "P1", length=2, days=(1, 2))],  # one slot a day: no 2-slot run
    )
    assert codes(inst) == ["no_studio_in_window"]
    inst = week(
        days=3,
        hours=(18,),
        requests=[req("R1", "P1", window=(at(1, 0), at(1, 12)))],  # the day's slot is at 18:00
    )
    assert codes(inst) == ["no_studio_in_window"]


def test_frozen_horizon():
    inst = week(
        days=2,
        requests=[req("R1", "P1", days=(0, 1))],
        policy={"freeze_until": at(1).isoformat()},
    )
    assert codes(inst) == ["frozen"]


def test_slots_taken_by_higher_priority_and_by_bookings():
    inst = week(
        requests=[
            req("R0", "P0", sessions=2, priority=3),
            req("R1", "P1", priority=1),
        ],
    )
    (d,) = explain(inst, greedy(inst))[0].denials
    assert d.code == "slots_taken"
    assert "1 of higher" in d.en and "优先级更高 1 场" in d.zh
    inst = week(
        requests=[req("R0", "P0", sessions=2), req("R1", "P1")],
        bookings=[("R0", [slot(S1, 0, 18)], "locked"), ("R0", [slot(S1, 0, 20)], "confirmed")],
    )
    assert codes(inst) == ["taken_by_bookings"]


def test_daily_cap_and_same_day_same_base():
    inst = week(
        {S1: [], S2: []},
        hours=(14, 16, 18),
        requests=[req("R1", "P1", sessions=3)],
    )
    assert codes(inst) == ["daily_cap"]
    inst = week(
        {S1: [], S2: []},
        hours=(14, 16),
        requests=[req("R0", "P1", bases=["B1"]), req("R1", "P1", bases=["B2"])],
    )
    assert codes(inst) == ["same_day_same_base"]


def test_own_overlap():
    inst = week(
        {S1: [], S2: []},
        hours=(18,),
        requests=[req("R0", "P1"), req("R1", "P1")],
        policy={"same_day_same_base": False},
    )
    assert codes(inst) == ["own_overlap"]


def test_free_run_the_plan_did_not_use():
    inst = week(requests=[req("R1", "P1", sessions=2)])
    p = plan(inst, ("R1", [slot(S1, 0, 18)]))
    (d,) = explain(inst, p)[0].denials
    assert d.code == "free_run_unused" and slot(S1, 0, 20) in d.en


def test_one_reason_per_denied_session():
    inst = week(
        hours=(18,), days=2, requests=[req("R0", "P0", priority=3), req("R1", "P1", sessions=3)]
    )
    p = plan(inst, ("R0", [slot(S1, 0, 18)]))
    (r1,) = explain(inst, p, ["R1"])
    assert r1.missing == 3
    assert [d.code for d in r1.denials] == ["free_run_unused", "slots_taken", "slots_taken"]
    assert all(d.code in CODES and d.zh and d.en for d in r1.denials)


def test_a_lot_past_its_best_before():
    inst = week(
        {S1: []},
        days=3,
        requests=[req("R1", "P1", harvest=(at(0, 0), at(1, 0)))],
        policy={"freeze_until": at(1, 0).isoformat()},
    )
    (d,) = explain(inst, greedy(inst))[0].denials
    assert d.code == "harvest_past" and "best-before" in d.en and "最佳销售期" in d.zh


def test_no_run_inside_the_lot():
    # the lot is ready from 22:00 on day 0 until 06:00 on day 1: no 2-hour slot fits
    inst = week({S1: []}, days=2, requests=[req("R1", "P1", harvest=(at(0, 22), at(1, 6)))])
    assert codes(inst) == ["harvest_window"]


def test_a_category_clash_at_the_only_free_studio():
    reqs = [req("R0", "P0", category="tea"), req("R1", "P1", category="tea")]
    inst = week(
        {S1: [], "B1-S2": []},
        hours=(18,),
        requests=reqs,
        bookings=[("R0", [slot(S1, 0, 18)], "locked")],
        policy={"category_separation": "base"},
    )
    (d,) = explain(inst, greedy(inst), ["R1"])[0].denials
    assert d.code == "category_clash" and "tea" in d.en and "品类" in d.zh
    assert d.code in CODES


def test_a_requests_neighbourhood_explains_it_as_the_whole_week_does():
    # The web app explains one request from the part of the week around it: every dynamic
    # reason (free runs, who holds the slots, the participant's own rules, category
    # separation) must come out the same as on the whole week.
    seen: Counter[str] = Counter()
    read, whole_weeks = 0, 0
    weeks = [
        ("tiny", 1, False),
        ("tiny", 2, False),
        ("S", 1, False),
        ("S", 3, True),
        ("M", 7, False),
    ]
    for size, seed, programme in weeks:
        inst = generated_and_booked(size, seed, programme)
        for whole in explain(inst, bookings_of(inst)):
            part = neighbourhood(inst, whole.request)
            read, whole_weeks = read + len(part.slots), whole_weeks + len(inst.slots)
            (alone,) = explain(part, bookings_of(part), [whole.request])
            if any(d.code in STATIC for d in whole.denials):
                continue  # these read every base: explained on the whole week
            assert alone == whole, (size, seed, whole.request)
            seen.update(d.code for d in whole.denials)
    assert len(seen) >= 4, seen
    assert read < whole_weeks / 2  # the point of it: most requests read a part of the week


def generated_and_booked(size, seed, programme=False):
    """A generated week whose greedy plan is booked (but a few sessions), as the web app's weeks
    are (the app explains the bookings it holds)."""
    inst = generate(size, seed=seed, programme=programme)
    status = {(b.request, b.slots): b.status for b in inst.bookings}
    # Every seventh new session left out: free runs the bookings leave open, too.
    booked = tuple(
        Booking(a.request, a.slots, status.get((a.request, a.slots), "tentative"))
        for k, a in enumerate(greedy(inst).assignments)
        if (a.request, a.slots) in status or k % 7
    )
    return replace(inst, bookings=booked)


def bookings_of(inst):
    return Plan(inst.name, tuple(Assignment(b.request, b.slots) for b in inst.bookings))


def test_every_base_within_reach_is_in_the_neighbourhood_and_no_other():
    inst = generated_and_booked("S", 1)
    r = next(r for r in inst.requests if r.max_km is not None)
    near = set(reachable(inst, r))
    assert near and len(near) < len(inst.bases)
    part = neighbourhood(inst, r.id)
    mine = {q.id for q in inst.requests if q.participant == r.participant}
    for s in part.slots:
        held_by_mine = any(s.id in b.slots for b in part.bookings if b.request in mine)
        assert part.base_of_slot(s.id) in near or held_by_mine
    assert {s.id for s in inst.slots if inst.base_of_slot(s.id) in near} <= {
        s.id for s in part.slots
    }
