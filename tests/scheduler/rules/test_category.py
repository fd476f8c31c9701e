"""Competing categories: add_category_separation (hard, rule 9: one base never runs same-category
sessions of different participants at once), the same against kept sessions (decided per
candidate), and soft_category_clashes_province (level 4: sessions beyond the first at one time in
one province and category, ``CLASH_POINTS`` each)."""

from scheduler.io import load_instance
from scheduler.rules.category import CLASH_POINTS, soft_category_clashes_province
from tests.scheduler.builders import req, slot, week, week_doc
from tests.scheduler.rules.helpers import penalty, sessions, solved, starts, status

S1, S2 = "B1-S1", "B1-S2"
SEPARATE = {"category_separation": "base"}


def tea_week(policy=None, category2="tea", studios=(S1, S2)):
    reqs = [req("R1", "P1", category="tea"), req("R2", "P2", category=category2)]
    return week({s: [] for s in studios}, hours=(18,), requests=reqs, policy=policy)


def test_separation_bites_on_two_teas_at_one_base_at_once():
    inst = tea_week(SEPARATE)
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(S2, 0, 18)])) == "INFEASIBLE"


def test_separation_holds_for_other_categories_other_bases_or_without_the_policy():
    for inst, s2 in (
        (tea_week(SEPARATE, category2="citrus"), S2),
        (tea_week(SEPARATE, studios=(S1, "B2-S1")), "B2-S1"),
        (tea_week(None), S2),
    ):
        assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(s2, 0, 18)])) == "OPTIMAL"


def test_separation_holds_at_different_times():
    reqs = [req("R1", "P1", category="tea"), req("R2", "P2", category="tea")]
    inst = week({S1: [], S2: []}, hours=(18, 20), requests=reqs, policy=SEPARATE)
    assert status(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(S2, 0, 20)])) == "OPTIMAL"


def test_end_to_end_two_teas_take_turns():
    reqs = [req("R1", "P1", category="tea"), req("R2", "P2", category="tea")]
    inst = week({S1: [], S2: []}, hours=(18, 20), requests=reqs, policy=SEPARATE)
    got = sessions(solved(inst))
    assert {got["R1"][0][0][-2:], got["R2"][0][0][-2:]} == {"18", "20"}


def test_no_placement_beside_a_kept_same_category_session():
    reqs = [req("R1", "P1", category="tea"), req("R2", "P2", category="tea")]
    inst = week(
        {S1: [], S2: []},
        hours=(18, 20),
        requests=reqs,
        bookings=[("R1", [slot(S1, 0, 18)], "locked")],
        policy=SEPARATE,
    )
    assert starts(inst, "R2") == {slot(S1, 0, 20), slot(S2, 0, 20)}


def test_input_bookings_that_already_clash_stay_as_they_are():
    reqs = [req("R1", "P1", category="tea"), req("R2", "P2", category="tea")]
    booked = [("R1", [slot(S1, 0, 18)], "tentative"), ("R2", [slot(S2, 0, 18)], "tentative")]
    inst = week({S1: [], S2: []}, hours=(18,), requests=reqs, bookings=booked, policy=SEPARATE)
    assert starts(inst, "R1") == starts(inst, "R2") == set()  # kept as they are, not re-placed
    got = sessions(solved(inst))
    assert got == {"R1": [(slot(S1, 0, 18),)], "R2": [(slot(S2, 0, 18),)]}


def province_week(bookings=()):
    """Two bases of one province and one of another, a tea seller bound to each base."""
    reqs = [req(f"R{k}", f"P{k}", category="tea", bases=[f"B{k}"]) for k in (1, 2, 3)]
    doc = week_doc(
        {"B1-S1": [], "B2-S1": [], "B3-S1": []}, hours=(18, 20), requests=reqs, bookings=bookings
    )
    for b in doc["bases"]:
        b["province"] = "浙江省" if b["id"] in ("B1", "B2") else "江苏省"
    return load_instance(doc)


def test_clashes_cost_per_session_too_many_in_a_province():
    inst = province_week()
    same_time = [("R1", [slot("B1-S1", 0, 18)]), ("R2", [slot("B2-S1", 0, 18)])]
    apart = [("R1", [slot("B1-S1", 0, 18)]), ("R2", [slot("B2-S1", 0, 20)])]
    other_province = [("R1", [slot("B1-S1", 0, 18)]), ("R3", [slot("B3-S1", 0, 18)])]
    assert penalty(inst, soft_category_clashes_province, *same_time) == CLASH_POINTS
    assert penalty(inst, soft_category_clashes_province, *apart) == 0
    assert penalty(inst, soft_category_clashes_province, *other_province) == 0


def test_clashes_count_kept_sessions():
    inst = province_week(bookings=[("R2", [slot("B2-S1", 0, 18)], "locked")])
    same_time = ("R1", [slot("B1-S1", 0, 18)])
    assert penalty(inst, soft_category_clashes_province, same_time) == CLASH_POINTS
    assert penalty(inst, soft_category_clashes_province, ("R1", [slot("B1-S1", 0, 20)])) == 0


def test_end_to_end_same_category_sessions_spread_out():
    got = sessions(solved(province_week()))
    assert got["R1"][0][0][-2:] != got["R2"][0][0][-2:]
