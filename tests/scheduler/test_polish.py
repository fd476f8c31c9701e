"""polish: single moves within a base, only where level 4 gains, never breaking a hard rule."""

import time

from scheduler.domain import Plan
from scheduler.io import load_instance
from scheduler.metrics import figures
from scheduler.polish import polish
from scheduler.validate import validate
from tests.scheduler.builders import at, plan, req, slot, week, week_doc

S1, S2 = "B1-S1", "B1-S2"


def polished(inst, p):
    out = Plan(inst.name, tuple(polish(inst, list(p.assignments), time.monotonic() + 10)))
    assert validate(inst, out) == []
    return {a.request: a.slots for a in out.assignments}


def test_a_harvest_session_moves_to_the_earliest_legal_run():
    inst = week(
        {S1: []}, days=3, hours=(10, 18), requests=[req("R1", "P1", harvest=(at(1, 6), at(3)))]
    )
    assert polished(inst, plan(inst, ("R1", [slot(S1, 2, 18)])))["R1"] == (slot(S1, 1, 10),)


def test_moves_never_break_separation_or_take_a_kept_session():
    reqs = [
        req("R1", "P1", category="tea", harvest=(at(0), at(1))),
        req("R2", "P2", category="tea"),
    ]
    inst = week(
        {S1: [], S2: []},
        hours=(10, 18),
        requests=reqs,
        bookings=[("R2", [slot(S2, 0, 10)], "locked")],
        policy={"category_separation": "base"},
    )
    got = polished(inst, plan(inst, ("R2", [slot(S2, 0, 10)]), ("R1", [slot(S1, 0, 18)])))
    assert got == {"R2": (slot(S2, 0, 10),), "R1": (slot(S1, 0, 18),)}


def test_same_category_sessions_spread_out_across_a_province():
    reqs = [req("R1", "P1", category="tea", bases=["B1"]), req("R2", "P2", category="tea")]
    reqs[1]["bases"] = ["B2"]
    doc = week_doc({"B1-S1": [], "B2-S1": []}, hours=(10, 18), requests=reqs)
    for b in doc["bases"]:
        b["province"] = "浙江省"
    inst = load_instance(doc)
    before = plan(inst, ("R1", [slot("B1-S1", 0, 10)]), ("R2", [slot("B2-S1", 0, 10)]))
    assert figures(inst, before)["category_clashes_province"] == 1
    got = polished(inst, before)
    after = plan(inst, *((r, s) for r, s in got.items()))
    assert figures(inst, after)["category_clashes_province"] == 0
    assert {s[0][:2] for s in got.values()} == {"B1", "B2"}  # bases (level 3) unchanged


def _province_week(requests, **kwargs):
    doc = week_doc({"B1-S1": [], "B2-S1": []}, hours=(10, 12), requests=requests, **kwargs)
    for b in doc["bases"]:
        b["province"] = "浙江省"
    return load_instance(doc)


def _clash_week(r3_window=None, **kwargs):
    """Both bases full (two slots each), tea at 10:00 and rice at 12:00 at both: two province
    clashes and no free run to move to. ``r3_window`` narrows R3's window."""
    narrowed = {} if r3_window is None else {"window": r3_window}
    reqs = [
        req("R1", "P1", category="tea", bases=["B1"]),
        req("R3", "P3", category="rice", bases=["B1"], **narrowed),
        req("R2", "P2", category="tea", bases=["B2"]),
        req("R4", "P4", category="rice", bases=["B2"]),
    ]
    inst = _province_week(reqs, **kwargs)
    start = plan(
        inst,
        ("R1", [slot("B1-S1", 0, 10)]),
        ("R3", [slot("B1-S1", 0, 12)]),
        ("R2", [slot("B2-S1", 0, 10)]),
        ("R4", [slot("B2-S1", 0, 12)]),
    )
    return inst, start


def test_a_swap_at_a_full_base_removes_a_province_clash():
    inst, before = _clash_week()
    assert figures(inst, before)["category_clashes_province"] == 2
    got = polished(inst, before)
    after = plan(inst, *((r, s) for r, s in got.items()))
    assert figures(inst, after)["category_clashes_province"] == 0
    assert figures(inst, after)["weighted_served"] == figures(inst, before)["weighted_served"]
    assert {r: s[0][:2] for r, s in got.items()} == {"R1": "B1", "R3": "B1", "R2": "B2", "R4": "B2"}


def test_no_swap_that_breaks_a_window_or_moves_a_kept_booking():
    # R3 may only run 12:00-14:00 and R4 is locked: the only swaps that remove the clash would
    # break R3's window or move R4, so the plan stays as it is.
    inst, start = _clash_week(
        r3_window=(at(0, 12), at(0, 14)), bookings=[("R4", [slot("B2-S1", 0, 12)], "locked")]
    )
    got = polished(inst, start)
    assert got == {a.request: a.slots for a in start.assignments}


def test_a_swap_never_puts_two_same_category_sessions_together_at_one_base():
    # B1 has two studios; tea R1 and tea R5 (another participant) at 10:00 and 12:00 in B1's
    # studios would be a rule-9 clash after a swap with R3 in the second studio: refused.
    reqs = [
        req("R1", "P1", category="tea", bases=["B1"]),
        req("R5", "P5", category="tea", bases=["B1"]),
        req("R2", "P2", category="tea", bases=["B2"]),
    ]
    doc = week_doc(
        {"B1-S1": [], "B1-S2": [], "B2-S1": []},
        hours=(10, 12),
        requests=reqs,
        policy={"category_separation": "base"},
    )
    for b in doc["bases"]:
        b["province"] = "浙江省"
    inst = load_instance(doc)
    before = plan(
        inst,
        ("R1", [slot("B1-S1", 0, 10)]),
        ("R5", [slot("B1-S2", 0, 12)]),
        ("R2", [slot("B2-S1", 0, 10)]),
    )
    got = polished(inst, before)  # validate() inside: rule 9 holds whatever moved
    after = plan(inst, *((r, s) for r, s in got.items()))
    assert figures(inst, after)["category_clashes_province"] <= 1


def test_on_a_generated_programme_week_only_level_4_changes_and_no_rule_breaks():
    from collections import Counter

    from scheduler.generate import generate
    from scheduler.greedy import greedy

    inst = generate("S", seed=31, programme=True)
    before = greedy(inst)
    after = Plan(inst.name, tuple(polish(inst, list(before.assignments), time.monotonic() + 20)))
    assert validate(inst, after) == []
    f0, f1 = figures(inst, before), figures(inst, after)
    for key in ("weighted_served", "min_region_ratio", "utilization_stdev"):
        assert f1[key] == f0[key]

    def per_base(p):
        return Counter(
            (a.request, inst.base_of_slot(a.slots[0]), len(a.slots)) for a in p.assignments
        )

    assert per_base(after) == per_base(before)  # every session stays at its base
    assert f1["category_clashes_province"] < f0["category_clashes_province"]
