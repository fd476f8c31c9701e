"""figures() on a tiny hand-built week, checked by hand."""

from dataclasses import replace

import pytest

from scheduler.metrics import figures
from tests.scheduler.builders import at, plan, req, slot, week

S1, S2 = "B1-S1", "B2-S1"


@pytest.fixture
def inst():
    # B1: one studio x 1 day x 2 slots; B2 (north, 1,112 km away) likewise.
    return week(
        {S1: [], S2: []},
        base_at={"B2": (40.0, 120.0)},
        base_region={"B2": "north"},
        requests=[
            req("R1", "P1", sessions=2, prime=True, prefer=["B1"], priority=3, region="east"),
            req("R2", "P2", sessions=1, priority=2, region="north", kind="merchant"),
            req("R3", "P3", sessions=1, region="north"),
        ],
        bookings=[("R3", [slot(S2, 0, 18)], "tentative"), ("R2", [slot(S2, 0, 20)], "tentative")],
    )


def test_figures_by_hand(inst):
    p = plan(inst, ("R1", [slot(S1, 0, 18)]), ("R2", [slot(S1, 0, 20)]), ("R3", [slot(S2, 0, 18)]))
    f = figures(inst, p)
    assert f["sessions_served"] == 3
    assert f["sessions_asked"] == 4
    assert f["served_ratio"] == 0.75
    assert f["weighted_served"] == 4 + 2 + 1
    assert f["weighted_asked"] == 4 * 2 + 2 + 1
    assert f["served_by_kind"] == {"producer": 2, "merchant": 1}
    assert f["region_served_ratio"] == {"east": 0.5, "north": 1.0}
    assert f["min_region_ratio"] == 0.5
    assert (f["utilization_max"], f["utilization_min"], f["utilization_stdev"]) == (1.0, 0.5, 0.25)
    assert f["bases_over_target"] == 1  # B1 at 100 % > 85 %
    assert f["preferred_base_share"] == round(1 / 3, 4)
    assert f["prime_satisfaction"] == 1.0  # R1's one session is at 18:00
    assert f["tentative_moved_or_dropped"] == 1  # R2's booking moved to B1
    assert f["mean_km"] == pytest.approx(1111.9 / 3, abs=0.1)


def test_figures_of_an_empty_plan(inst):
    f = figures(inst, plan(inst))
    assert f["sessions_served"] == 0 and f["weighted_served"] == 0
    assert f["min_region_ratio"] == 0.0
    assert f["utilization_stdev"] == 0.0
    assert f["preferred_base_share"] is None and f["prime_satisfaction"] is None
    assert f["mean_km"] is None
    assert f["tentative_moved_or_dropped"] == 2


def test_unknown_ids_are_left_out(inst):
    f = figures(inst, plan(inst, ("R9", [slot(S1, 0, 18)]), ("R1", ["nope"])))
    assert f["sessions_served"] == 0


def test_new_figures_are_none_without_their_inputs(inst):
    f = figures(inst, plan(inst, ("R1", [slot(S1, 0, 18)])))
    assert f["prime_winners_mean_recent"] is None
    assert f["harvest_mean_hours_after_ready"] is None
    assert f["category_clashes_province"] is None


def test_prime_rotation_harvest_freshness_and_province_clashes_by_hand():
    # B1 and B2 in one province, B3 in another; tea sellers P1, P2, P4 and a citrus grower P3.
    studios = {S1: [], "B1-S2": [], S2: [], "B3-S1": []}
    inst = week(
        studios,
        days=2,
        hours=(10, 18),
        requests=[
            req("R1", "P1", prime=True, category="tea", prime_recent=3),
            req("R2", "P2", prime=True, category="tea", prime_recent=0),
            req("R3", "P3", prime=True, category="citrus"),  # prime_recent unknown
            req("R4", "P4", category="tea", harvest=(at(0, 6), at(2, 0))),
            req("R5", "P5", prime=True, prime_recent=7, harvest=(at(1, 0), at(2, 0))),
        ],
        policy={"max_sessions_per_day": 2},
    )
    provinces = {"B1": "浙江省", "B2": "浙江省", "B3": "山东省"}
    inst = replace(inst, bases=tuple(replace(b, province=provinces[b.id]) for b in inst.bases))
    p = plan(
        inst,
        ("R1", [slot(S1, 0, 18)]),  # prime, recent 3
        ("R2", [slot(S2, 0, 18)]),  # prime, recent 0; tea at B2 beside R1's tea at B1: a clash
        ("R3", [slot("B1-S2", 0, 18)]),  # prime, no recent: left out of the mean
        ("R4", [slot("B3-S1", 0, 18)]),  # tea in another province: no clash; 12 h after ready
        ("R5", [slot(S1, 1, 10)]),  # not prime; 10 h after ready
    )
    f = figures(inst, p)
    assert f["prime_winners_mean_recent"] == 1.5  # (3 + 0) / 2
    assert f["harvest_mean_hours_after_ready"] == 11.0  # (12 + 10) / 2
    assert f["category_clashes_province"] == 1
