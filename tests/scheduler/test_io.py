"""Reading and writing the exchange format: every way a file can be refused, and round trips."""

import copy
import json

import pytest

from scheduler.domain import Assignment, Plan
from scheduler.io import (
    FormatError,
    dump_instance,
    dump_plan,
    load_instance,
    load_plan,
    read_json,
    write_json,
)
from tests.scheduler.builders import req, slot, week_doc

LOT = {"ready": "2026-12-07T06:00:00+08:00", "best_before": "2026-12-08T00:00:00+08:00"}


@pytest.fixture
def doc():
    return week_doc(
        {"B1-S1": ["kitchen"], "B2-S1": []},
        requests=[req("R1", "P1", sessions=2, prefer=["B1"]), req("R2", "P2", bases=["B2"])],
        bookings=[("R1", [slot("B1-S1", 0, 18)], "confirmed")],
    )


def refused(doc, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        load_instance(doc)


# ---------------------------------------------------------------------------- files


def test_not_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(FormatError, match="not JSON"):
        load_instance(bad)


def test_missing_file_directory_and_not_utf8(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        read_json(tmp_path / "nope.json")
    with pytest.raises(FormatError, match="is a directory"):
        read_json(tmp_path)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"name": "\xe9"}')
    with pytest.raises(FormatError, match="not UTF-8"):
        read_json(latin)


def test_json_that_is_not_an_object(tmp_path):
    f = tmp_path / "list.json"
    f.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(FormatError, match="not an object"):
        load_instance(f)


def test_wrong_format_tag(doc):
    doc["format"] = "livehub-instance/2"
    refused(doc, "expected 'livehub-instance/1'")
    with pytest.raises(FormatError, match="expected 'livehub-plan/1'"):
        load_plan({"format": "livehub-instance/1", "assignments": []})


# ---------------------------------------------------------------------------- unknown ids


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d["slots"][0].update(studio="B9-S9"), "unknown studio 'B9-S9'"),
        (lambda d: d["requests"][0].update(participant="P9"), "unknown participant 'P9'"),
        (lambda d: d["requests"][0].update(bases=["B9"]), r"unknown base\(s\) B9 in 'bases'"),
        (lambda d: d["requests"][0]["prefer"].update(bases=["B9"]), "in 'prefer.bases'"),
        (lambda d: d["bookings"][0].update(request="R9"), "unknown request 'R9'"),
        (lambda d: d["bookings"][0].update(slots=["SLX"]), r"unknown slot\(s\) SLX"),
    ],
)
def test_unknown_ids(doc, mutate, match):
    mutate(doc)
    refused(doc, match)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d["bases"].append(copy.deepcopy(d["bases"][0])), "duplicate base id 'B1'"),
        (
            lambda d: d["bases"][1]["studios"].append({"id": "B1-S1", "features": []}),
            "duplicate studio id 'B1-S1'",
        ),
        (lambda d: d["slots"].append(dict(d["slots"][0])), "duplicate slot id"),
        (
            lambda d: d["participants"].append(dict(d["participants"][0])),
            "duplicate participant id 'P1'",
        ),
        (lambda d: d["requests"].append(copy.deepcopy(d["requests"][0])), "duplicate request id"),
    ],
)
def test_duplicate_ids(doc, mutate, match):
    mutate(doc)
    refused(doc, match)


# ---------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d["slots"][0].update(start="yesterday"), "not an ISO 8601 time"),
        (lambda d: d["slots"][0].update(start="2026-12-07T18:00:00"), "has no UTC offset"),
        (lambda d: d["slots"][0].update(end=d["slots"][0]["start"]), "is not after start"),
        (
            lambda d: d["requests"][0]["window"].update(end=d["requests"][0]["window"]["start"]),
            "window ends before it starts",
        ),
        (lambda d: d["policy"].update(freeze_until="soon"), "policy.freeze_until"),
        (lambda d: d["horizon"].update(start="2026-13-01"), "is not a date"),
        (lambda d: d.update(timezone="Mars/Olympus"), "unknown timezone"),
        (lambda d: d["requests"][0]["window"].update(start=20261207), "expected an ISO 8601 time"),
    ],
)
def test_bad_times(doc, mutate, match):
    mutate(doc)
    refused(doc, match)


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d["bases"][0].update(region="moon"), "region 'moon'"),
        (lambda d: d["participants"][0].update(kind="robot"), "kind 'robot'"),
        (lambda d: d["participants"][0].update(priority=4), "priority must be 1, 2 or 3"),
        (lambda d: d["participants"][0].update(priority=True), "'priority' must be an integer"),
        (lambda d: d["requests"][0].update(sessions=0), "at least 1"),
        (lambda d: d["requests"][0].update(max_km=-1), "max_km must not be negative"),
        (lambda d: d["requests"][0].update(needs="kitchen"), "expected a list of strings"),
        (lambda d: d["bookings"][0].update(status="maybe"), "status 'maybe'"),
        (lambda d: d["bookings"][0].update(slots=[]), "holds no slot"),
        (lambda d: d["participants"][0].pop("lat"), "missing 'lat'"),
        (lambda d: d.update(slots={}), "'slots' must be a list"),
        (lambda d: d["policy"].update(max_sessions_per_day=0), "at least 1"),
        (lambda d: d["participants"][0].update(category=""), "'category' must not be empty"),
        (lambda d: d["participants"][0].update(category=3), "'category' must be a string"),
        (lambda d: d["participants"][0].update(prime_recent=-1), "must not be negative"),
        (lambda d: d["participants"][0].update(prime_recent=1.5), "must be an integer"),
        (lambda d: d["requests"][0].update(harvest=[]), "'harvest' must be an object"),
        (
            lambda d: d["requests"][0].update(harvest={"ready": "2026-12-07T06:00:00+08:00"}),
            "harvest.best_before: expected an ISO 8601 time",
        ),
        (
            lambda d: d["requests"][0].update(harvest=LOT | {"ready": "2026-12-08"}),
            "has no UTC offset",
        ),
        (
            lambda d: d["requests"][0].update(harvest=LOT | {"best_before": LOT["ready"]}),
            "best_before is not after harvest.ready",
        ),
        (
            lambda d: d["policy"].update(category_separation="province"),
            "category_separation 'province' is not 'base'",
        ),
    ],
)
def test_bad_values(doc, mutate, match):
    mutate(doc)
    refused(doc, match)


def test_messages_name_the_offending_item(doc):
    doc["requests"][1]["participant"] = "P7"
    with pytest.raises(FormatError) as e:
        load_instance(doc)
    assert str(e.value) == "requests[1] (R2): unknown participant 'P7'"


def test_bad_plans():
    with pytest.raises(FormatError, match="'assignments' must be a list"):
        load_plan({"format": "livehub-plan/1", "assignments": {}})
    with pytest.raises(FormatError, match="expected a list of strings"):
        load_plan({"format": "livehub-plan/1", "assignments": [{"request": "R1", "slots": [1]}]})
    with pytest.raises(FormatError, match="missing 'request'"):
        load_plan({"format": "livehub-plan/1", "assignments": [{"slots": ["S"]}]})


# ---------------------------------------------------------------------------- round trips


def test_instance_round_trip(doc, tmp_path):
    inst = load_instance(doc)
    again = load_instance(json.loads(json.dumps(dump_instance(inst))))
    assert again == inst
    write_json(dump_instance(inst), tmp_path / "week.json")
    assert load_instance(tmp_path / "week.json") == inst
    assert not list(tmp_path.glob(".*.tmp"))


def test_optional_fields_round_trip_and_absent_stays_absent(doc):
    plain = dump_instance(load_instance(doc))
    assert "category" not in plain["participants"][0]
    assert "prime_recent" not in plain["participants"][0]
    assert "harvest" not in plain["requests"][0]
    assert "category_separation" not in plain["policy"]
    doc["participants"][0].update(category="tea", prime_recent=0)
    doc["requests"][0]["harvest"] = dict(LOT)
    doc["policy"]["category_separation"] = "base"
    inst = load_instance(doc)
    p, r = inst.participants[0], inst.requests[0]
    assert (p.category, p.prime_recent, inst.policy.category_separation) == ("tea", 0, "base")
    assert r.harvest is not None and r.harvest.ready.isoformat() == LOT["ready"]
    out = dump_instance(inst)
    assert out["participants"][0]["category"] == "tea"
    assert out["participants"][0]["prime_recent"] == 0
    assert out["requests"][0]["harvest"] == LOT
    assert out["policy"]["category_separation"] == "base"
    assert load_instance(json.loads(json.dumps(out))) == inst
    doc["policy"]["category_separation"] = None  # null is "off", as absent
    assert load_instance(doc).policy.category_separation is None


def test_plan_round_trip(tmp_path):
    plan = Plan("w", (Assignment("R1", ("S1", "S2")),), stats={"status": "OPTIMAL"})
    write_json(dump_plan(plan), tmp_path / "plan.json")
    back = load_plan(tmp_path / "plan.json")
    assert back == plan and back.stats == {"status": "OPTIMAL"}
