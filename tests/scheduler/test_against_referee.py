"""validate() and figures() against the shared referee (``shared/tools/check_plan.py``):
the same verdict and the same figures on greedy plans of generated weeks and on mutated plans,
also with the spec's optional fields (categories with separation, prime_recent, harvest lots)."""

import copy
import importlib.util
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from scheduler.generate import generate
from scheduler.greedy import greedy
from scheduler.io import dump_instance, dump_plan, load_instance, load_plan
from scheduler.metrics import figures
from scheduler.validate import validate

HERE = Path(__file__).resolve()
#: The referee lives in ``shared/tools`` beside the repository (or beside a checkout's parent).
PLACES = [parent / "shared" / "tools" / "check_plan.py" for parent in HERE.parents]
REFEREE = next((p for p in PLACES if p.exists()), PLACES[3])
CATEGORIES = ("tea", "citrus", "seafood")
NEW_FIGURES = {"prime_winners_mean_recent", "harvest_mean_hours_after_ready"}
NEW_FIGURES |= {"category_clashes_province"}


@pytest.fixture(scope="module")
def referee():
    if not REFEREE.exists():
        pytest.skip(f"the shared referee is not beside the repository ({REFEREE})")
    spec = importlib.util.spec_from_file_location("check_plan", REFEREE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mutate(doc: dict, plan: dict, rng: random.Random) -> dict:
    """A plan with one to three random edits, most of which break some hard rule."""
    plan = copy.deepcopy(plan)
    a = plan["assignments"]
    slots = [s["id"] for s in doc["slots"]]
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        if op == 0 and a:
            a.pop(rng.randrange(len(a)))  # drop a session (maybe a kept booking)
        elif op == 1 and a:
            a.append(copy.deepcopy(rng.choice(a)))  # a session twice
        elif op in (2, 3):  # a random new session, of the right length or not
            r = rng.choice(doc["requests"])
            i = rng.randrange(len(slots) - 4)
            a.append({"request": r["id"], "slots": slots[i : i + r["length"] + (op == 3)]})
        elif op == 4 and a:
            rng.choice(a)["slots"].reverse()
        elif op == 5 and a:
            rng.choice(a)["request"] = rng.choice(doc["requests"])["id"]
        elif op == 6 and a:
            s = rng.choice(a)
            s["slots"] = [rng.choice(slots) for _ in s["slots"]]
    return plan


def with_optional_fields(doc: dict, rng: random.Random) -> dict:
    """The week with categories (separated per base), prime_recent and harvest lots on a share
    of its participants and requests, the way the spec describes them."""
    doc = copy.deepcopy(doc)
    for p in doc["participants"]:
        if rng.random() < 0.7:
            p["category"] = rng.choice(CATEGORIES)
        if rng.random() < 0.6:
            p["prime_recent"] = rng.randrange(5)
    for r in doc["requests"]:
        if rng.random() < 0.3:
            r["prefer"]["prime"] = True
        if rng.random() < 0.3:
            w0, w1 = (datetime.fromisoformat(r["window"][k]) for k in ("start", "end"))
            hours = (w1 - w0) / timedelta(hours=1)
            ready = w0 + timedelta(hours=rng.uniform(0, hours / 2))
            best_before = ready + timedelta(hours=rng.uniform(6, hours))
            r["harvest"] = {"ready": ready.isoformat(), "best_before": best_before.isoformat()}
    doc["policy"]["category_separation"] = "base"
    return doc


WEEKS = [("tiny", 1, 150, False), ("tiny", 2, 150, False), ("S", 3, 40, False)]
WEEKS += [("tiny", 4, 150, True), ("tiny", 5, 150, True), ("S", 6, 40, True)]


@pytest.mark.parametrize("size, seed, n, optional", WEEKS)
def test_same_verdicts_and_figures_as_the_referee(referee, size, seed, n, optional):
    inst = generate(size, seed=seed)
    doc = dump_instance(inst)
    if optional:
        doc = with_optional_fields(doc, random.Random(seed))
        inst = load_instance(doc)
    ref = referee.Instance(doc)
    base = dump_plan(greedy(inst))
    assert referee.check(ref, base)[0] == []  # greedy keeps rules 9 and 10 too
    rng = random.Random(seed)
    plans = [base] + [mutate(doc, base, rng) for _ in range(n)]
    broken = 0
    computed: set[str] = set()
    for plan in plans:
        bad, ref_figures = referee.check(ref, plan)
        mine = validate(inst, load_plan(plan))
        assert bool(mine) == bool(bad), (bad, mine)
        mine_figures = figures(inst, load_plan(plan))
        assert mine_figures == ref_figures
        computed.update(k for k in NEW_FIGURES if mine_figures[k] is not None)
        broken += bool(bad)
    assert broken > n * 2 // 3  # the mutations do break rules
    if optional:  # the new figures were compared on values, not only on None
        assert computed >= NEW_FIGURES
