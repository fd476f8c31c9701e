"""The spreadsheet commands: a bad sheet is one line on stderr, exit 1, nothing written; a good
one imports (and publishes); exports and templates are written as .xlsx."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Hub, Participant, Slot, TimetableWeek
from tests.app.cli_helpers import WEEK, one_line, run, seed
from tests.xlsx_files import read_back, xlsx

NEXT = (WEEK + timedelta(days=7)).isoformat()


def _line(result) -> str:
    """The refusal: exactly one line on stderr."""
    assert one_line(result.stderr), result.stderr
    return result.stderr.strip()


def _slots() -> int:
    return db.session.scalar(select(func.count(Slot.id)))


def test_import_timetable_refuses_a_bad_sheet_and_publishes_a_good_one(app, tmp_path):
    seed(app, bases=3, requests=30)
    template = tmp_path / "week.xlsx"
    made = run(
        app, "sheet-template", "timetable", "--base", "B001", "--week", NEXT, "-o", str(template)
    )
    assert made.exit_code == 0, made.stderr
    rows = read_back(template.read_bytes())
    assert len(rows) > 2 and rows[1][0].startswith("B001-S")
    bad = [rows[0], *rows[1:], [rows[1][0], rows[1][1], "25:00", "26:00", "no"]]
    bad_file = tmp_path / "bad.xlsx"
    bad_file.write_bytes(xlsx(bad))
    before = _slots()
    refused = run(
        app, "import-timetable", str(bad_file), "--base", "B001", "--week", NEXT, "--as", "op-b001"
    )
    assert refused.exit_code == 1
    line = _line(refused)
    assert f"row {len(bad)}, start: not a time of day" in line and "nothing imported" in line
    assert _slots() == before
    ok = run(
        app, "import-timetable", str(template), "--base", "B001", "--week", NEXT, "--as", "op-b001"
    )
    assert ok.exit_code == 0, ok.stderr
    assert _slots() == before + len(rows) - 1
    hub = db.session.scalar(select(Hub).where(Hub.code == "B001"))
    week = db.session.scalar(
        select(TimetableWeek).where(
            TimetableWeek.hub_id == hub.id, TimetableWeek.week_start == WEEK + timedelta(7)
        )
    )
    assert week.state == "published"


def test_commands_refuse_bad_input_on_one_line(app, tmp_path):
    seed(app, bases=3, requests=30)
    text_file = tmp_path / "week.csv"
    text_file.write_text("studio,date\n")
    cases = [
        (
            (
                "import-timetable",
                str(text_file),
                "--base",
                "B001",
                "--week",
                NEXT,
                "--as",
                "op-b001",
            ),
            "only .xlsx",
        ),
        (
            (
                "import-timetable",
                str(tmp_path / "none.xlsx"),
                "--base",
                "B001",
                "--week",
                NEXT,
                "--as",
                "op-b001",
            ),
            "cannot read",
        ),
        (
            (
                "import-timetable",
                str(text_file),
                "--base",
                "B002",
                "--week",
                NEXT,
                "--as",
                "op-b001",
            ),
            "no base 'B002' that op-b001 operates",
        ),
        (("import-participants", str(text_file), "--as", "op-b001"), "administrator"),
        (
            (
                "import-timetable",
                str(text_file),
                "--base",
                "B001",
                "--week",
                WEEK.isoformat(),
                "--as",
                "op-b001",
            ),
            "already published",
        ),
    ]
    for args, expected in cases:
        result = run(app, *args)
        assert result.exit_code != 0, args
        assert expected in _line(result), (args, result.stderr)


def test_import_participants_and_export_bookings(app, tmp_path):
    seed(app, bases=3, requests=30)
    people = tmp_path / "people.xlsx"
    people.write_bytes(
        xlsx(
            [
                ("name", "kind", "county", "category", "priority", "contact"),
                ("丽水香菇合作社", "producer", "浙江省/庆元县", "mushroom", 3, "wx_qy"),
            ]
        )
    )
    before = db.session.scalar(select(func.count(Participant.id)))
    done = run(app, "import-participants", str(people), "--as", "admin")
    assert done.exit_code == 0, done.stderr
    assert "1 added" in done.output
    assert db.session.scalar(select(func.count(Participant.id))) == before + 1
    out = tmp_path / "bookings.xlsx"
    exported = run(
        app,
        "export-bookings",
        "--base",
        "B001",
        "--week",
        WEEK.isoformat(),
        "--as",
        "op-b001",
        "-o",
        str(out),
    )
    assert exported.exit_code == 0, exported.stderr
    rows = read_back(out.read_bytes())
    assert rows[0][0] == "booking" and len(rows) > 1 and all(r[0].startswith("K") for r in rows[1:])
