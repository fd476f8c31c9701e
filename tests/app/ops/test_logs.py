"""Structured logs: one JSON object per line with the bound context; readable text otherwise."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from app.observability import logs

ROOT = Path(__file__).resolve().parents[3]


def _emit(formatter: logging.Formatter, *args, **kwargs) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("chunlei.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(*args, **kwargs)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_json_line_carries_time_level_logger_message_and_the_context():
    with logs.log_context(request_id="req-1", job_id=7):
        out = _emit(logs.JsonFormatter(), "booked %s", "K000001", extra={"slots": 2})
    assert out.count("\n") == 1
    line = json.loads(out)
    assert line["level"] == "WARNING" and line["logger"] == "chunlei.test.logs"
    assert line["message"] == "booked K000001" and line["request_id"] == "req-1"
    assert line["job_id"] == 7 and line["slots"] == 2
    assert line["time"].endswith("+00:00")
    assert logs.current_request_id() is None  # unbound after the block


def test_an_exception_stays_inside_its_one_json_line():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        out = _emit(logs.JsonFormatter(), "failed", exc_info=True)
    assert out.count("\n") == 1
    assert "ValueError: bad" in json.loads(out)["exception"]


def test_text_lines_are_for_people():
    with logs.log_context(request_id="req-2"):
        out = _emit(logs.TextFormatter(), "hello")
    assert "WARNING chunlei.test.logs hello [request_id=req-2]" in out


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_log_format_is_a_setting_of_every_process(tmp_path, fmt):
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "LOG_FORMAT": fmt,
        "PYTHONPATH": str(ROOT),
    }
    code = (
        "import logging, wsgi; "
        "from app.observability.logs import log_context\n"
        "with log_context(request_id='abc123'):\n"
        "    logging.getLogger('chunlei.probe').info('probe line')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    line = [x for x in done.stderr.splitlines() if "probe line" in x][0]
    if fmt == "json":
        parsed = json.loads(line)
        assert parsed["request_id"] == "abc123" and parsed["logger"] == "chunlei.probe"
    else:
        assert line.endswith("INFO chunlei.probe probe line [request_id=abc123]")


def test_a_bad_log_format_stops_start_up_with_its_name(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LOG_FORMAT": "xml", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "runs"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "LOG_FORMAT='xml'" in done.stderr
