"""validate() and figures() against the shared referee (``shared/tools/check_plan.py``):
the same verdict and the same figures on greedy plans of generated weeks and on mutated plans."""

import copy
import importlib.util
import random
from pathlib import Path

import pytest

from scheduler.generate import generate
from scheduler.greedy import greedy
from scheduler.io import dump_instance, dump_plan, load_plan
from scheduler.metrics import figures
from scheduler.validate import validate

REFEREE = Path(__file__).resolve().parents[3] / "shared" / "tools" / "check_plan.py"


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


@pytest.mark.parametrize("size, seed, n", [("tiny", 1, 150), ("tiny", 2, 150), ("S", 3, 40)])
def test_same_verdicts_and_figures_as_the_referee(referee, size, seed, n):
    inst = generate(size, seed=seed)
    doc = dump_instance(inst)
    ref = referee.Instance(doc)
    base = dump_plan(greedy(inst))
    rng = random.Random(seed)
    plans = [base] + [mutate(doc, base, rng) for _ in range(n)]
    broken = 0
    for plan in plans:
        bad, ref_figures = referee.check(ref, plan)
        mine = validate(inst, load_plan(plan))
        assert bool(mine) == bool(bad), (bad, mine)
        assert figures(inst, load_plan(plan)) == ref_figures
        broken += bool(bad)
    assert broken > n * 2 // 3  # the mutations do break rules
