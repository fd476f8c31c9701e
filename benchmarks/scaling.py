"""How time and memory grow with the week: ``python -m benchmarks.scaling``.

    python -m benchmarks.scaling [--instance FILE] [--factors 0.1 0.5 1 2] [--repeats 3]
                                 [--stages load greedy eligibility area model split validate export]
                                 [--markdown] [--plot FILE.svg]

It makes weeks of ``--factors`` times the programme week (``../shared/instances/
sample-programme.json.gz`` by default, read as is when it ends in ``.json``): below 1 a
deterministic sample of the bases and of the participants (with the studios and slots of the
kept bases, the requests of the kept participants, their allowed and preferred bases cut to the
kept ones, the bookings wholly inside what is kept); above 1 whole copies of the week side by
side (ids suffixed ``~2``, ``~3`` …, same places), plus a sample for a fractional rest. Each week
is written to a scratch file and every repeat is a child process that times, one after the other,
the stages of ``STAGES`` (import, greedy, eligibility, one LNS area's candidates and its CP-SAT
model, the split into parts, validation, export; ``candidates``, the whole week's at once, only
when asked). Peak MB is the child's peak resident memory (``VmHWM``) after the stage, so it
includes the stages before it. The table gives medians over ``--repeats`` and each time as a
ratio to the smallest factor's, measured in the same run; ``--plot`` draws them against the
week's slots on log-log axes beside linear growth. Never part of the tests.
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
#: ``load``: import (reading the exchange file); ``greedy``; ``eligibility`` (every request's bases);
#: ``area``: the candidates of one LNS area (the busiest base's three nearest bases, all week, as
#: the search builds them); ``model``: the CP-SAT model of that area; ``split``: the week in 4
#: parts; ``validate``: greedy's plan; ``export``: writing the week and the plan; ``candidates``:
#: the whole week's candidates at once (not what the solver builds; minutes and GBs at 1x).
STAGES = ("load", "greedy", "eligibility", "area", "model", "split", "validate", "export")
ALL_STAGES = (*STAGES, "candidates")


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
    from scheduler.greedy import greedy

    t0 = time.perf_counter()
    plan = greedy(inst)
    mark("greedy", t0)
    eligible = None
    if {"eligibility", "area", "model", "split"} & set(stages):
        from scheduler.candidates import eligibility

        t0 = time.perf_counter()
        eligible = eligibility(inst)
        mark("eligibility", t0)
    week = None
    if "area" in stages or "model" in stages:
        from scheduler.candidates import generate

        area = _area(inst, plan)
        t0 = time.perf_counter()
        week = generate(inst, area=area, eligible=eligible)
        mark("area", t0)
    if week is not None and "model" in stages:
        from scheduler.model import build

        t0 = time.perf_counter()
        build(week)
        mark("model", t0)
    if "split" in stages:
        from scheduler.parts import split

        t0 = time.perf_counter()
        split(inst, plan, 4, eligible)
        mark("split", t0)
    if "validate" in stages:
        from scheduler.validate import validate

        t0 = time.perf_counter()
        bad = validate(inst, plan)
        mark("validate", t0)
        if bad:
            raise SystemExit(f"greedy's plan breaks {bad[0]}")
    if "export" in stages:
        from scheduler.io import dump_instance, dump_plan, write_json

        with tempfile.TemporaryDirectory(prefix="chunlei-export-") as tmp:
            t0 = time.perf_counter()
            write_json(dump_instance(inst), Path(tmp) / "week.json")
            write_json(dump_plan(plan), Path(tmp) / "plan.json")
            mark("export", t0)
    if "candidates" in stages:
        from scheduler.candidates import generate

        t0 = time.perf_counter()
        generate(inst)
        mark("candidates", t0)
    print(json.dumps({k: v for k, v in out.items() if k in stages}))


def _area(inst: Any, plan: Any) -> set[tuple[str, int]]:
    """One LNS area as the search draws them (``lns.balance_area``): the busiest base and the
    two bases nearest it, every day of the week — the same size whatever the week's size."""
    from collections import Counter

    from scheduler.candidates import day_index
    from scheduler.domain import haversine_km

    used: Counter[str] = Counter(inst.base_of_slot(a.slots[0]) for a in plan.assignments)
    hot = max(inst.bases, key=lambda b: (used[b.id] / max(1, inst.slot_count_by_base[b.id]), b.id))
    near = sorted(
        (b for b in inst.bases if b.id != hot.id),
        key=lambda b: (haversine_km(hot.lat, hot.lon, b.lat, b.lon), b.id),
    )[:2]
    days = sorted({day_index(inst, s.start) for s in inst.slots})
    return {(b.id, d) for b in (hot, *near) for d in days}


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
    ap.add_argument("--stages", nargs="+", choices=ALL_STAGES, default=list(STAGES))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--plot", type=Path, metavar="FILE.svg", help="time and memory against size")
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
    head += [f"{st} s (× smallest)" for st in args.stages] + ["peak MB"]
    table = [head]
    for factor, (bases, slots, requests), med in rows:
        line = [f"{factor:g}", f"{bases:,}", f"{slots:,}", f"{requests:,}"]
        for st in args.stages:
            t = med[st][0]
            ratio = t / first[st][0] if first[st][0] > 0 else float("nan")
            line.append(f"{t:.2f} ({ratio:.1f}×)")
        line.append(f"{max(med[st][1] for st in args.stages):.0f}")
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
    if args.plot:
        args.plot.write_text(svg_plot(rows, args.stages), encoding="utf-8")
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------- the plot

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def svg_plot(rows: list[Any], stages: list[str]) -> str:
    """Two log-log panels against the week's slots: each stage's time, and the peak memory; the
    dashed line is linear growth from the smallest week (a slope of 1)."""
    import math

    width, height, pad = 440, 320, 52
    xs = [size[1] for _, size, _ in rows]

    def panel(x0: int, title: str, series: dict[str, list[float]], unit: str) -> list[str]:
        values = [v for vs in series.values() for v in vs if v > 0]
        lo_x, hi_x = math.log10(min(xs)), math.log10(max(xs))
        lo_y, hi_y = math.log10(min(values)), math.log10(max(values))
        lo_y, hi_y = math.floor(lo_y), math.ceil(hi_y)
        span_x, span_y = max(hi_x - lo_x, 1e-9), max(hi_y - lo_y, 1e-9)

        def pt(x: float, y: float) -> tuple[float, float]:
            return (
                x0 + pad + (math.log10(x) - lo_x) / span_x * (width - 2 * pad),
                height - pad - (math.log10(y) - lo_y) / span_y * (height - 2 * pad),
            )

        out = [
            f'<text x="{x0 + width / 2}" y="18" text-anchor="middle" font-size="14">{title}</text>',
            f'<rect x="{x0 + pad}" y="{pad}" width="{width - 2 * pad}" height="{height - 2 * pad}" '
            'fill="none" stroke="#999"/>',
        ]
        for e in range(int(lo_y), int(hi_y) + 1):
            _, y = pt(xs[0], 10.0**e)
            out.append(
                f'<text x="{x0 + pad - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10">'
                f"{10.0**e:g} {unit}</text>"
            )
        for x in xs:
            px, _ = pt(x, 10.0**lo_y)
            out.append(
                f'<text x="{px:.1f}" y="{height - pad + 14}" text-anchor="middle" font-size="10">'
                f"{x:,}</text>"
            )
        out.append(
            f'<text x="{x0 + width / 2}" y="{height - 12}" text-anchor="middle" font-size="11">'
            "slots in the week (log)</text>"
        )
        for k, (name, vs) in enumerate(series.items()):
            colour = COLOURS[k % len(COLOURS)]
            pts = [pt(x, v) for x, v in zip(xs, vs, strict=True) if v > 0]
            if not pts:
                continue
            line = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            out.append(f'<polyline points="{line}" fill="none" stroke="{colour}"/>')
            ax, ay = pts[-1]
            out.append(
                f'<text x="{ax + 3:.1f}" y="{ay:.1f}" font-size="10" fill="{colour}">{name}</text>'
            )
            if vs[0] > 0:  # linear growth from the smallest week
                (lx, ly), (rx, ry) = pt(xs[0], vs[0]), pt(xs[-1], vs[0] * xs[-1] / xs[0])
                out.append(
                    f'<line x1="{lx:.1f}" y1="{ly:.1f}" x2="{rx:.1f}" y2="{ry:.1f}" '
                    f'stroke="{colour}" stroke-dasharray="3,3" stroke-opacity="0.5"/>'
                )
        return out

    times = {st: [med[st][0] for _, _, med in rows] for st in stages}
    memory = {"peak": [max(med[st][1] for st in stages) for _, _, med in rows]}
    body = panel(0, "time per stage (s); dashed: linear", times, "s")
    body += panel(width, "peak memory (MB); dashed: linear", memory, "MB")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height}" '
        'font-family="sans-serif">\n' + "\n".join(body) + "\n</svg>\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
