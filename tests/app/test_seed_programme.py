"""seed-demo --programme: origin bases at distinct real counties, spread, deterministic."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.demo.programme import COUNTY_SUFFIXES, pick_origin_counties
from app.demo.seed import SeedError, seed_demo
from app.extensions import db
from app.geo import gazetteer
from app.models import Hub, Participant, Studio
from app.services.timetable.weeks import is_database_empty
from scheduler.io import load_instance, load_plan
from scheduler.validate import check_instance, validate
from tests.app.cli_helpers import WEEK, export, run
from tests.conftest import _app_with_schema


def test_the_origin_counties_are_distinct_real_counties_spread_over_provinces():
    chosen = pick_origin_counties(random.Random(5), 1000, set())
    assert len(chosen) == 1000
    assert len({p.adcode for p in chosen}) == 1000
    assert all(p.is_county and p.name.endswith(COUNTY_SUFFIXES) for p in chosen)
    per_province = Counter(p.province for p in chosen)
    assert len(per_province) >= 28  # Beijing, Tianjin and Shanghai have districts only
    # Round-robin: a province has no more than its fair share unless the others ran out.
    available = Counter(p.province for p in gazetteer().counties(suffixes=COUNTY_SUFFIXES))
    fair = max(per_province.values())
    assert all(n == fair or n == available[p] or n == fair - 1 for p, n in per_province.items())


def test_the_same_seed_picks_the_same_counties_and_another_seed_others():
    a = [p.adcode for p in pick_origin_counties(random.Random(5), 200, set())]
    assert a == [p.adcode for p in pick_origin_counties(random.Random(5), 200, set())]
    assert a != [p.adcode for p in pick_origin_counties(random.Random(6), 200, set())]
    taken = set(a[:50])
    assert not taken & {p.adcode for p in pick_origin_counties(random.Random(5), 200, taken)}


def test_too_many_origin_bases_is_a_clear_error():
    with pytest.raises(ValueError, match="fewer than"):
        pick_origin_counties(random.Random(5), 100_000, set())


def _seed_small_programme(session):
    return seed_demo(
        session, seed=5, week_start=WEEK, bases=8, requests=500, participants=300, origin_bases=40
    )


def test_a_small_programme_week_keeps_every_rule(app, tmp_path):
    result = _seed_small_programme(db.session)
    assert result.counts["bases"] == 48 and result.counts["origin bases"] == 40
    assert result.counts["requests"] == 500 and result.counts["participants"] == 300
    hubs = db.session.scalars(select(Hub).order_by(Hub.code)).all()
    assert [h.code for h in hubs] == [f"B{i:04d}" for i in range(1, 49)]
    origins = [h for h in hubs if h.name.endswith("数字农业基地")]
    assert len(origins) == 40 and len({h.adcode for h in hubs}) == 48
    studios = Counter(
        db.session.scalars(
            select(Hub.code).join(Studio, Studio.hub_id == Hub.id).where(Hub.id.in_([h.id for h in origins]))
        )
    )  # fmt: skip
    assert set(studios.values()) <= {1, 2}
    features = {
        f
        for fs in db.session.scalars(
            select(Studio.features).where(Studio.hub_id.in_([h.id for h in origins]))
        )
        for f in fs
    }
    assert {"cold_chain", "kitchen"} <= features
    # Most producers live in an origin base's county.
    origin_counties = {h.adcode for h in origins}
    producers = db.session.scalars(select(Participant).where(Participant.kind == "producer")).all()
    at_origin = sum(1 for p in producers if p.adcode in origin_counties)
    assert at_origin >= 0.6 * len(producers)
    doc, plan_doc = export(app, tmp_path)
    inst, plan = load_instance(doc), load_plan(plan_doc)
    assert len(inst.bases) == 48
    assert check_instance(inst) == []
    assert validate(inst, plan) == []


def test_the_same_seed_gives_the_same_programme_week(tmp_path):
    exports = []
    for k in range(2):
        for app in _app_with_schema("sqlite://"):
            _seed_small_programme(db.session)
            exports.append(export(app, tmp_path, f"w{k}"))
    assert exports[0] == exports[1]


def test_bad_origin_counts_are_refused_before_writing(app):
    with pytest.raises(SeedError, match="origin bases"):
        seed_demo(db.session, seed=5, week_start=WEEK, requests=10, origin_bases=-1)
    assert is_database_empty(db.session)


@pytest.mark.parametrize(
    "extra",
    [["--bases", "100"], ["--requests", "30000"], ["--participants", "5"], ["--bases", "3"]],
)
def test_programme_with_its_own_sizes_is_one_line_and_writes_nothing(app, extra):
    result = run(app, "seed-demo", "--programme", "--week", WEEK.isoformat(), *extra)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--programme" in lines[0] and extra[0] in lines[0]
    assert is_database_empty(db.session)
    assert db.session.scalar(select(func.count()).select_from(Hub)) == 0


def test_programme_on_a_wrong_week_is_refused(app):
    result = run(app, "seed-demo", "--programme", "--week", "2026-12-08")
    assert result.exit_code != 0 and len(result.stderr.strip().splitlines()) == 1
    assert is_database_empty(db.session)


def test_the_help_says_programme_sets_its_own_size(app):
    result = run(app, "seed-demo", "--help")
    assert "--programme" in result.output and "cannot be combined" in result.output
