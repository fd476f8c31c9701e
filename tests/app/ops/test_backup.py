"""``flask backup`` / ``flask restore`` as real commands: a seeded PostgreSQL week with a run
comes back whole in an empty database (every row of every table, the run files, the week's
export byte for byte); bad archives and non-empty databases are refused in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select

from app.extensions import db
from app.services.runs.reoptimize import reoptimize
from tests.app.nightly.conftest import WEEK, configured_app, in_seeded_week

ROOT = Path(__file__).resolve().parents[3]
FREEZE = "2000-01-01T00:00:00+00:00"  # the same frozen horizon for both exports


def flask(*args: str, url: str, runs: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "RUNS_DIR": str(runs), "PYTHONPATH": str(ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def every_row(url: str) -> dict[str, list[dict]]:
    """Every table's rows (alembic's and the timetable's cache version left out: not data, as
    the backup leaves them out), in primary-key order."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            meta = MetaData()
            meta.reflect(conn)
            return {
                t.name: [
                    dict(r._mapping)
                    for r in conn.execute(select(t).order_by(*(t.primary_key.columns or t.columns)))
                ]
                for t in meta.sorted_tables
                if t.name not in ("alembic_version", "timetable_version")
            }
    finally:
        engine.dispose()


def assert_same_rows(got: dict[str, list[dict]], want: dict[str, list[dict]]) -> None:
    assert sorted(got) == sorted(want)
    for table, rows in want.items():
        assert len(got[table]) == len(rows), table
        for mine, theirs in zip(got[table], rows, strict=True):
            differ = {k: (mine[k], v) for k, v in theirs.items() if mine.get(k) != v}
            assert not differ, f"{table}: {differ}"


@pytest.fixture
def pg_week_with_a_run(pg_server, tmp_path):
    app = configured_app(pg_server.create("chunlei_backup_src"), tmp_path / "src")
    for _ready in in_seeded_week(app):
        run = reoptimize(WEEK, trigger="manual", actor_label="test", time_limit_s=3)
        assert run.state == "applied", run.message
        db.session.commit()
        yield app


def test_a_backup_restores_into_an_empty_postgresql_database(
    pg_week_with_a_run, pg_server, tmp_path
):
    source_url = pg_week_with_a_run.config["SQLALCHEMY_DATABASE_URI"]
    source_runs = Path(pg_week_with_a_run.config["RUNS_DIR"])
    archive = tmp_path / "chunlei.tar.gz"

    made = flask("backup", "-o", str(archive), url=source_url, runs=source_runs)
    assert made.returncode == 0, made.stderr
    before = every_row(source_url)
    assert {
        len(before[t]) > 0
        for t in (
            "bookings",
            "booking_requests",
            "optimization_runs",
            "run_changes",
            "audit_events",
        )
    } == {True}

    target_url = pg_server.create("chunlei_backup_dst")  # a new, empty database
    target_runs = tmp_path / "restored-runs"
    done = flask("restore", str(archive), url=target_url, runs=target_runs)
    assert done.returncode == 0, done.stderr
    assert_same_rows(every_row(target_url), before)  # every booking, request, run, audit row

    copied = sorted(p.relative_to(target_runs) for p in target_runs.rglob("*") if p.is_file())
    original = sorted(p.relative_to(source_runs) for p in source_runs.rglob("*") if p.is_file())
    assert copied == original and copied
    for rel in original:
        assert (target_runs / rel).read_bytes() == (source_runs / rel).read_bytes()

    exports = []
    for url, runs, name in ((source_url, source_runs, "a"), (target_url, target_runs, "b")):
        out = tmp_path / f"week-{name}.json"
        r = flask(
            "export-week",
            "--week",
            WEEK.isoformat(),
            "-o",
            str(out),
            "--freeze-until",
            FREEZE,
            url=url,
            runs=runs,
        )
        assert r.returncode == 0, r.stderr
        exports.append(out.read_bytes())
    assert exports[0] == exports[1]

    # New rows get new ids: the sequences were moved past the restored ones.
    booked = flask(
        "create-user",
        "after-restore",
        "--role",
        "admin",
        "--password",
        "a long enough password 42",
        url=target_url,
        runs=target_runs,
    )
    assert booked.returncode == 0, booked.stderr

    # Restoring again into the now non-empty database is refused; --force replaces it.
    again = flask("restore", str(archive), url=target_url, runs=target_runs)
    assert again.returncode != 0 and len(again.stderr.strip().splitlines()) == 1
    assert "not empty" in again.stderr
    forced = flask("restore", "--force", str(archive), url=target_url, runs=target_runs)
    assert forced.returncode == 0, forced.stderr
    assert_same_rows(every_row(target_url), before)


def test_a_sqlite_backup_restores_and_bad_archives_are_refused(tmp_path):
    src, dst = tmp_path / "src.sqlite", tmp_path / "dst.sqlite"
    runs = tmp_path / "runs"
    url = f"sqlite:///{src}"
    assert flask("db", "upgrade", url=url, runs=runs).returncode == 0
    seeded = flask(
        "seed-demo", "--seed", "3", "--bases", "3", "--requests", "30", url=url, runs=runs
    )
    assert seeded.returncode == 0, seeded.stderr
    archive = tmp_path / "b.tar.gz"
    assert flask("backup", "-o", str(archive), url=url, runs=runs).returncode == 0
    done = flask("restore", str(archive), url=f"sqlite:///{dst}", runs=tmp_path / "r2")
    assert done.returncode == 0, done.stderr
    assert_same_rows(every_row(f"sqlite:///{dst}"), every_row(url))

    # A tampered archive: its manifest counts rows the file does not hold. Nothing is kept.
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(archive) as old, tarfile.open(bad, "w:gz") as new:
        for member in old:
            data = old.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["tables"]["bookings"] += 1
                data = json.dumps(manifest).encode()
                member.size = len(data)
            import io

            new.addfile(member, io.BytesIO(data))
    third = f"sqlite:///{tmp_path / 'third.sqlite'}"
    for path, words in (
        (bad, "bookings: the archive holds"),
        (tmp_path / "missing.tar.gz", "no such file"),
        (src, "not a backup archive"),
    ):
        r = flask("restore", str(path), url=third, runs=tmp_path / "r3")
        assert r.returncode != 0, r.stdout
        assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr
    assert all(not rows for rows in every_row(third).values())
    no_dir = flask("backup", "-o", str(tmp_path / "nowhere" / "b.tar.gz"), url=url, runs=runs)
    assert no_dir.returncode != 0 and "no such directory" in no_dir.stderr
