"""export-week / export-plan / import-week: the exchange format, exactly, and clean refusals."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.services.timetable.weeks import is_database_empty
from scheduler.io import load_instance, load_plan
from scheduler.validate import validate
from tests.app.cli_helpers import FREEZE, WEEK, export, one_line, run, seed, write
from tests.conftest import _app_with_schema


def _normal(doc: dict) -> dict:
    """The document with every list of records in id order (the format is unordered)."""
    doc = json.loads(json.dumps(doc))
    for key in ("bases", "slots", "participants", "requests"):
        doc[key].sort(key=lambda x: x["id"])
    doc["bookings"].sort(key=lambda b: (b["request"], b["slots"]))
    return doc


def test_export_matches_the_format(app, tmp_path):
    seed(app)
    inst, plan = export(app, tmp_path)
    assert inst["format"] == "livehub-instance/1" and plan["format"] == "livehub-plan/1"
    assert inst["name"] == plan["instance"] == "week-2026-12-07"
    assert inst["horizon"] == {"start": "2026-12-07", "days": 7}
    assert inst["timezone"] == "Asia/Shanghai"
    assert inst["slots"][0]["start"].endswith("+08:00")
    assert inst["policy"]["freeze_until"] == "2026-12-01T00:00:00+08:00"
    base = inst["bases"][0]
    assert base["id"] == "B001" and base["studios"][0]["id"] == "B001-S1"
    assert set(base) == {"id", "name", "city", "province", "region", "lat", "lon", "studios"}
    request = inst["requests"][0]
    assert set(request) == {
        "id",
        "participant",
        "sessions",
        "length",
        "window",
        "bases",
        "max_km",
        "needs",
        "prefer",
    }
    direct = [r for r in inst["requests"] if r["id"].startswith("RK")]
    assert direct, "the demo week has direct bookings"
    for r in direct:
        assert r["sessions"] == 1 and len(r["bases"]) == 1 and r["max_km"] is None
    assert validate(load_instance(inst), load_plan(plan)) == []


def test_import_then_export_gives_back_the_week(app, tmp_path):
    seed(app)
    first, first_plan = export(app, tmp_path, "first")
    path = write(tmp_path, "in.json", first)
    for other in _app_with_schema("sqlite://"):
        result = run(other, "import-week", path)
        assert result.exit_code == 0, result.stderr
        again, again_plan = export(other, tmp_path, "again")
    assert _normal(again) == _normal(first)
    assert sorted(map(json.dumps, again_plan["assignments"])) == sorted(
        map(json.dumps, first_plan["assignments"])
    )


@pytest.mark.postgres
def test_import_then_export_on_postgresql(pg_app, tmp_path):
    for source in _app_with_schema("sqlite://"):
        seed(source)
        first, _ = export(source, tmp_path, "first")
    result = run(pg_app, "import-week", write(tmp_path, "in.json", first))
    assert result.exit_code == 0, result.stderr
    again, _ = export(pg_app, tmp_path, "again")
    assert _normal(again) == _normal(first)


def _doc_with(tmp_path, app, change):
    for source in _app_with_schema("sqlite://"):
        seed(source, requests=60, bases=4)
        doc, _ = export(source, tmp_path, "src")
    change(doc)
    return doc


def _two_on_one_slot(doc):
    doc["bookings"].append(dict(doc["bookings"][0], request=doc["requests"][-1]["id"]))


@pytest.mark.parametrize(
    ("name", "change", "expect"),
    [
        ("wrong-format", lambda d: d.update(format="livehub-instance/2"), "format"),
        ("unknown-slot", lambda d: d["bookings"][0].update(slots=["SL999999"]), "SL999999"),
        ("unknown-base", lambda d: d["requests"][0].update(bases=["B999"]), "B999"),
        ("two-on-one-slot", _two_on_one_slot, "rule"),
        ("no-slots-list", lambda d: d.pop("slots"), "slots"),
        ("huge-horizon", lambda d: d["horizon"].update(days=10**9), "horizon.days"),
        ("huge-sessions", lambda d: d["requests"][0].update(sessions=10**20), "sessions"),
        ("huge-length", lambda d: d["requests"][0].update(length=2**40), "length"),
        ("huge-cap", lambda d: d["policy"].update(max_sessions_per_day=2**63), "max_sessions"),
    ],
)
def test_import_refuses_bad_files_without_writing(app, tmp_path, name, change, expect):
    path = write(tmp_path, f"{name}.json", _doc_with(tmp_path, app, change))
    result = run(app, "import-week", path)
    assert result.exit_code != 0
    assert one_line(result.stderr) and expect in result.stderr
    assert is_database_empty(db.session)


def test_import_refuses_not_json_and_a_missing_file(app, tmp_path):
    for path in (write(tmp_path, "x.json", "{not json"), str(tmp_path / "missing.json")):
        result = run(app, "import-week", path)
        assert result.exit_code != 0 and one_line(result.stderr)
    assert is_database_empty(db.session)


def test_import_refuses_a_non_empty_database(app, tmp_path):
    seed(app)
    doc, _ = export(app, tmp_path)
    result = run(app, "import-week", write(tmp_path, "w.json", doc))
    assert result.exit_code != 0 and "not empty" in result.stderr


def test_export_of_an_unknown_week_writes_no_file(app, tmp_path):
    seed(app)
    out = tmp_path / "none.json"
    result = run(app, "export-week", "--week", "2027-01-04", "-o", str(out))
    assert result.exit_code != 0 and one_line(result.stderr) and not out.exists()
    result = run(app, "export-plan", "--week", "not-a-date", "-o", str(out))
    assert result.exit_code != 0 and one_line(result.stderr) and not out.exists()
    result = run(
        app, "export-week", "--week", WEEK.isoformat(), "-o", str(tmp_path / "no/dir.json")
    )
    assert result.exit_code != 0 and one_line(result.stderr)


def test_a_huge_number_on_postgresql_is_one_clean_line(pg_app, tmp_path):
    doc = _doc_with(tmp_path, pg_app, lambda d: d["requests"][0].update(sessions=10**20))
    result = run(pg_app, "import-week", write(tmp_path, "huge.json", doc))
    assert result.exit_code != 0
    assert one_line(result.stderr) and "sessions" in result.stderr, result.stderr
    assert is_database_empty(db.session)


def test_deeply_nested_json_and_a_far_off_freeze_are_one_line_without_writing(app, tmp_path):
    deep = write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    for args in (("import-week", deep), ("apply-plan", deep)):
        result = run(app, *args)
        assert result.exit_code != 0 and one_line(result.stderr), result.stderr
        assert (
            "nested" in result.stderr
            and result.exception is None
            or isinstance(result.exception, SystemExit)
        )
    assert is_database_empty(db.session)
    seed(app, requests=20, bases=3)
    for freeze in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:00:00-05:00"):
        out = tmp_path / "w.json"
        result = run(
            app, "export-week", "--week", WEEK.isoformat(), "-o", str(out), "--freeze-until", freeze
        )
        assert result.exit_code != 0 and one_line(result.stderr), result.stderr
        assert "2000-01-01" in result.stderr and not out.exists()
    result = run(app, "export-week", "--week", "0001-01-01", "-o", str(tmp_path / "w.json"))
    assert result.exit_code != 0 and one_line(result.stderr)


def test_categories_prime_history_harvest_lots_and_separation_make_the_round_trip(app, tmp_path):
    from scheduler.generate import generate
    from scheduler.io import dump_instance

    doc = json.loads(json.dumps(dump_instance(generate("S", seed=3, programme=True))))
    doc["policy"]["freeze_until"] = FREEZE
    assert any("harvest" in r for r in doc["requests"])
    result = run(app, "import-week", write(tmp_path, "programme.json", doc))
    assert result.exit_code == 0, result.stderr
    again, _ = export(app, tmp_path, "again")
    assert again["policy"]["category_separation"] == "base"
    assert _normal(again) == _normal(doc)
    with app.app_context():
        from sqlalchemy import func, select

        from app.models import HarvestLot

        lots = db.session.scalar(select(func.count(HarvestLot.id)))
    keys = {
        (r["participant"], r["harvest"]["ready"], r["harvest"]["best_before"])
        for r in doc["requests"]
        if "harvest" in r
    }
    assert lots == len(keys)  # one lot per producer and dates, shared by its requests


def test_prime_recent_counts_the_prime_sessions_of_the_four_weeks_before(app, tmp_path):
    from datetime import timedelta

    from app.models import PlanningWeek
    from app.services.programme.prime import prime_recent

    seed(app, requests=120, bases=4)
    inst, plan = export(app, tmp_path)
    prime = {s["id"] for s in inst["slots"] if s["prime"]}
    owner = {r["id"]: r["participant"] for r in inst["requests"]}
    expected = {p["id"]: 0 for p in inst["participants"]}
    for a in plan["assignments"]:
        if prime & set(a["slots"]):
            expected[owner[a["request"]]] += 1
    assert any(expected.values())
    with app.app_context():
        this_week = db.session.query(PlanningWeek).one()
        assert prime_recent(db.session, this_week) is None  # no week before it: not known
        later = []
        for weeks in (1, 4, 5):
            w = PlanningWeek(week_start=WEEK + timedelta(weeks=weeks), name=f"w{weeks}")
            db.session.add(w)
            later.append(w)
        db.session.flush()
        assert prime_recent(db.session, later[0]) == expected
        assert prime_recent(db.session, later[1]) == expected
        assert prime_recent(db.session, later[2]) == dict.fromkeys(expected, 0)
        db.session.rollback()
