"""A misbehaving solver for the fault tests, started through the ``SOLVER_COMMAND`` seam.

``python fault_solver.py MODE INSTANCE -o PLAN --time-limit S --workers N`` where MODE is
``crash`` (exit 3), ``hang`` (never finish), ``garbage`` (a plan file that is not JSON),
``nothing`` (exit 0, no plan), ``invalid`` (a well-formed plan that drops every booking and puts
two sessions on one slot), ``keep`` (the instance's bookings, unchanged) or ``sigkill`` (report
progress, then kill itself with SIGKILL). ``late`` runs the real solver child, then writes
``PLAN.ready`` and waits (up to 30 s) for the test to create ``PLAN.go`` before exiting — so a
test can book a slot the plan uses while the solver is, as far as the app knows, still running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time


def main() -> int:
    """Behave as MODE asks; the argument shape is the real solver's."""
    mode, instance_path = sys.argv[1], sys.argv[2]
    plan_path = sys.argv[sys.argv.index("-o") + 1]
    if mode == "late":
        real = [sys.executable, "-m", "scheduler", "solve", *sys.argv[2:]]
        rc = subprocess.call(real)
        open(plan_path + ".ready", "w").close()
        deadline = time.monotonic() + 30
        while not os.path.exists(plan_path + ".go") and time.monotonic() < deadline:
            time.sleep(0.05)
        return rc
    progress = os.environ.get("CHUNLEI_PROGRESS_FILE")
    if progress:
        with open(progress, "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "phase": "solving", "objective": 7, "bound": 9}, f)
    with open(instance_path, encoding="utf-8") as f:
        inst = json.load(f)
    if mode == "crash":
        print("solver exploded on purpose", file=sys.stderr)
        return 3
    if mode == "hang":
        while True:
            time.sleep(1)
    if mode == "sigkill":
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "nothing":
        return 0
    if mode == "garbage":
        with open(plan_path, "w", encoding="utf-8") as f:
            f.write("{not json")
        return 0
    if mode == "invalid":
        slot = inst["slots"][0]["id"]
        first = inst["requests"][0]["id"]
        assignments = [{"request": first, "slots": [slot]}, {"request": first, "slots": [slot]}]
    elif mode == "keep":
        assignments = [{"request": b["request"], "slots": b["slots"]} for b in inst["bookings"]]
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    doc = {
        "format": "livehub-plan/1",
        "instance": inst["name"],
        "assignments": assignments,
        "unassigned": [],
        "stats": {"status": "FEASIBLE", "objective": 1, "bound": 2, "wall_s": 0.0},
    }
    with open(plan_path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
