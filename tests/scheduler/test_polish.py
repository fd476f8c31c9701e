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
