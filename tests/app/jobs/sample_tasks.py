"""Job kinds for the queue's tests, loaded by test workers through ``JOB_TASK_MODULES``."""

from __future__ import annotations

import os
import time

from app.jobs.queue import task


@task("test.echo")
def echo(payload: dict) -> dict:
    """Return the payload and the process that ran it."""
    return {**payload, "pid": os.getpid()}


@task("test.fail", max_attempts=2)
def fail(payload: dict) -> None:
    """Always raise: retried once, then recorded failed."""
    raise ValueError("broken on purpose")


@task("test.append")
def append(payload: dict) -> None:
    """Append "<n> <pid>" to a file: every execution leaves one line."""
    with open(payload["path"], "a", encoding="utf-8") as f:
        f.write(f"{payload['n']} {os.getpid()}\n")
    time.sleep(float(payload.get("sleep_s", 0)))


@task("test.sleep", max_attempts=2)
def sleep(payload: dict) -> dict:
    """Write the running process's pid to ``marker``, then sleep ``seconds``."""
    with open(payload["marker"], "a", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\n")
    time.sleep(float(payload["seconds"]))
    return {"pid": os.getpid()}


def _hold_placements_under_the_week_lock(marker: str) -> None:
    """``CHUNLEI_TEST_HOLD_PLACEMENT=FILE`` (a test worker's environment): a placement, once it
    holds the week's apply lock, writes its pid to FILE and sleeps, so the test can kill the
    worker there. Only the queue's tests load this module."""
    from app.services.placement import apply

    real = apply.lock_week

    def lock_then_hold(session, week_id: int) -> None:
        real(session, week_id)
        with open(marker, "w", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(60)

    apply.lock_week = lock_then_hold


if os.environ.get("CHUNLEI_TEST_HOLD_PLACEMENT"):
    _hold_placements_under_the_week_lock(os.environ["CHUNLEI_TEST_HOLD_PLACEMENT"])
