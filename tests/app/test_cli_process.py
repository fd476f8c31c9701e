"""The commands as a user runs them (a real ``flask --app wsgi`` process): one line, no trace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _flask(tmp_path: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=url or f"sqlite:///{tmp_path / 'cli.sqlite'}")
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_upgrade_then_bad_input_gets_one_line_and_no_traceback(tmp_path):
    assert _flask(tmp_path, "db", "upgrade").returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{oops", "utf-8")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    for args in (
        ("import-week", str(bad)),
        ("apply-plan", str(bad)),
        ("import-week", str(deep)),
        ("apply-plan", str(deep)),
        (
            "export-week",
            "--week",
            "2026-12-07",
            "-o",
            str(tmp_path / "w.json"),
            "--freeze-until",
            "0001-01-01T00:00:00+08:00",
        ),  # fmt: skip
        ("export-week", "--week", "2026-12-07", "-o", str(tmp_path / "w.json")),
        ("export-week", "--week", "12/07/2026", "-o", str(tmp_path / "w.json")),
        ("create-user", "x", "--role", "operator", "--password", "longenough"),
        ("book", "SL000001", "--as", "nobody"),
        ("cancel-booking", "K000001", "--as", "nobody"),
    ):
        done = _flask(tmp_path, *args)
        assert done.returncode != 0, args
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error:"), (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "w.json").exists()


def test_a_database_that_cannot_be_reached_is_one_line_not_a_traceback(tmp_path):
    # A server that does not listen there: the port of no service.
    url = "postgresql://postgres@127.0.0.1:9/chunlei"
    for args in (
        ("seed-demo", "--seed", "5"),
        ("export-week", "--week", "2026-12-07", "-o", str(tmp_path / "w.json")),
        ("book", "SL000001", "--as", "nobody"),
        ("webhooks", "list", "--as", "admin"),
    ):
        done = _flask(tmp_path, *args, url=url)
        assert done.returncode != 0, args
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot reach the database" in lines[0], (args, done.stderr)
