"""How time and memory grow with the week: ``python -m benchmarks.scaling``.

    python -m benchmarks.scaling [--instance FILE] [--factors 0.1 0.5 1 2] [--repeats 3]
                                 [--stages load greedy candidates validate] [--markdown]

It makes weeks of ``--factors`` times the programme week (``../shared/instances/
sample-programme.json.gz`` by default, read as is when it ends in ``.json``): below 1 a
deterministic sample of the bases and of the participants (with the studios and slots of the
kept bases, the requests of the kept participants, their allowed and preferred bases cut to the
kept ones, the bookings wholly inside what is kept); above 1 whole copies of the week side by
side (ids suffixed ``~2``, ``~3`` …, same places), plus a sample for a fractional rest. Each week
is written to a scratch file and every repeat is a child process that times, one after the other:
``load`` (``load_instance``), ``greedy``, ``candidates`` (``candidates.generate``, the solver's
placements) and ``validate`` (the greedy plan). Peak MB is the child's peak resident memory
(``VmHWM``) after the stage, so it includes the stages before it. The table gives medians over ``--repeats`` and each
time as a ratio to the smallest factor's, measured in the same run. Never part of the tests.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The shared samples sit beside the checkout (or beside the folder of worktrees).
PROGRAMME = (
    next(
        (
            p
            for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared")
            if (p / "instances" / "sample-programme.json.gz").exists()
        ),
        ROOT.parent / "shared",
    )
    / "instances"
    / "sample-programme.json.gz"
)
STAGES = ("load", "greedy", "candidates", "validate")


# ---------------------------------------------------------------------------- scaled weeks


def read_doc(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        doc: dict[str, Any] = json.load(f)
    return doc


def sample(doc: dict[str, Any], share: float, seed: str) -> dict[str, Any]:
    """A ``share`` of the bases and of the participants, and everything that hangs on them."""
    rng = random.Random(f"chunlei:scaling:{seed}")
    bases = [b for b in doc["bases"] if rng.random() < share]
    participants = [p for p in doc["participants"] if rng.random() < share]
    base_ids = {b["id"] for b in bases}
    studio_ids = {s["id"] for b in bases for s in b["studios"]}
    person_ids = {p["id"] for p in participants}
    requests = []
    for r in doc["requests"]:
        if r["participant"] not in person_ids:
            continue
        r = json.loads(json.dumps(r))
        if r.get("bases") is not None:
            r["bases"] = [b for b in r["bases"] if b in base_ids]
            if not r["bases"]:
                continue
        prefer = r.get("prefer") or {}
        if prefer.get("bases"):
            prefer["bases"] = [b for b in prefer["bases"] if b in base_ids]
        requests.append(r)
    request_ids = {r["id"] for r in requests}
    slots = [s for s in doc["slots"] if s["studio"] in studio_ids]
    slot_ids = {s["id"] for s in slots}
    bookings = [
        b
        for b in doc.get("bookings") or []
        if b["request"] in request_ids and all(s in slot_ids for s in b["slots"])
    ]
    return {
        **doc,
        "bases": bases,
        "slots": slots,
        "participants": participants,
        "requests": requests,
        "bookings": bookings,
    }


def renamed(doc: dict[str, Any], tag: str) -> dict[str, Any]:
    """A copy of the week with every id suffixed by ``tag``."""
    if not tag:
        return doc
    text = json.dumps({k: doc[k] for k in ("bases", "slots", "participants", "requests")})
    out = json.loads(text)
    for b in out["bases"]:
        b["id"] += tag
        for s in b["studios"]:
            s["id"] += tag
    for s in out["slots"]:
        s["id"] += tag
        s["studio"] += tag
    for p in out["participants"]:
        p["id"] += tag
    for r in out["requests"]:
        r["id"] += tag
        r["participant"] += tag
        if r.get("bases") is not None:
            r["bases"] = [b + tag for b in r["bases"]]
        prefer = r.get("prefer") or {}
        if prefer.get("bases"):
            prefer["bases"] = [b + tag for b in prefer["bases"]]
    out["bookings"] = [
        {**b, "request": b["request"] + tag, "slots": [s + tag for s in b["slots"]]}
        for b in doc.get("bookings") or []
    ]
    return out


def scaled(doc: dict[str, Any], factor: float) -> dict[str, Any]:
    """The week ``factor`` times as large: whole copies, then a sample for the fraction left."""
    whole, part = int(factor), factor - int(factor)
    parts = [renamed(doc, "" if k == 0 else f"~{k + 1}") for k in range(whole)]
    if part > 1e-9:
        parts.append(renamed(sample(doc, part, f"{factor}"), f"~{whole + 1}" if whole else ""))
    out = {**doc, "name": f"{doc['name']}-x{factor:g}"}
    for key in ("bases", "slots", "participants", "requests", "bookings"):
        out[key] = [item for p in parts for item in p.get(key) or []]
    return out


# ---------------------------------------------------------------------------- one child run


def peak_mb() -> float:
    """This process's peak resident memory: VmHWM, which (unlike ``ru_maxrss``) starts afresh at
    exec, so the parent's size at the fork does not count."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: str, stages: list[str]) -> None:
    """Run the stages on one week and print {stage: [seconds, peak MB]} as JSON."""
    from scheduler.io import load_instance

    out: dict[str, list[float]] = {}

    def mark(stage: str, t0: float) -> None:
        peak = peak_mb()
        out[stage] = [time.perf_counter() - t0, peak]

    t0 = time.perf_counter()
    inst = load_instance(path)
    mark("load", t0)
    plan = None
    if "greedy" in stages or "validate" in stages:
        from scheduler.greedy import greedy

        t0 = time.perf_counter()
        plan = greedy(inst)
        mark("greedy", t0)
    if "candidates" in stages:
        from scheduler.candidates import generate

        t0 = time.perf_counter()
        generate(inst)
        mark("candidates", t0)
    if plan is not None and "validate" in stages:
        from scheduler.validate import validate

        t0 = time.perf_counter()
        bad = validate(inst, plan)
        mark("validate", t0)
        if bad:
            raise SystemExit(f"greedy's plan breaks {bad[0]}")
    print(json.dumps({k: v for k, v in out.items() if k in stages}))


def run_child(path: str, stages: list[str]) -> dict[str, list[float]]:
    cmd = [sys.executable, "-m", "benchmarks.scaling", "--child", path, "--stages", *stages]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child failed on {path}: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------- the table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scaling")
    ap.add_argument("--instance", type=Path, default=PROGRAMME)
    ap.add_argument("--factors", type=float, nargs="+", default=[0.1, 0.5, 1.0, 2.0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.stages)
        return 0
    if not args.instance.exists():
        print(f"{args.instance}: no such file", file=sys.stderr)
        return 2
    doc = read_doc(args.instance)
    rows = []
    with tempfile.TemporaryDirectory(prefix="chunlei-scaling-") as tmp:
        for factor in sorted(args.factors):
            week = scaled(doc, factor)
            path = Path(tmp) / f"x{factor:g}.json"
            path.write_text(json.dumps(week), encoding="utf-8")
            runs = [run_child(str(path), args.stages) for _ in range(args.repeats)]
            size = (len(week["bases"]), len(week["slots"]), len(week["requests"]))
            med = {
                st: (
                    statistics.median(r[st][0] for r in runs),
                    statistics.median(r[st][1] for r in runs),
                )
                for st in args.stages
            }
            rows.append((factor, size, med))
            print(f"x{factor:g} done: {size}", file=sys.stderr, flush=True)
    first = rows[0][2]
    head = ["factor", "bases", "slots", "requests"]
    for st in args.stages:
        head += [f"{st} s", f"{st} ratio", f"{st} peak MB"]
    table = [head]
    for factor, (bases, slots, requests), med in rows:
        line = [f"{factor:g}", f"{bases:,}", f"{slots:,}", f"{requests:,}"]
        for st in args.stages:
            t, mb = med[st]
            ratio = t / first[st][0] if first[st][0] > 0 else float("nan")
            line += [f"{t:.2f}", f"{ratio:.1f}", f"{mb:.0f}"]
        table.append(line)
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for line in table[1:]:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(row[i]) for row in table) for i in range(len(head))]
        for row in table:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
