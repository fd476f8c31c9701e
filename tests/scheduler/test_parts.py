"""A week in parts: the split covers every base once and every participant at most once, a part
moves only its own participants' sessions to its own bases, and the merge of the parts' answers
(any of them missing) is a valid plan that serves no less than the start."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from scheduler.cli import main
from scheduler.construct import best_start
from scheduler.domain import Assignment, Plan
from scheduler.generate import generate
from scheduler.greedy import greedy
from scheduler.io import dump_instance, load_plan, write_json
from scheduler.parts import (
    merge,
    part_doc,
    part_seconds,
    read_part,
    read_split,
    solve_part,
    split,
    split_bases,
    split_doc,
)
from scheduler.validate import validate


@pytest.fixture(scope="module")
def week():
    inst = generate("S", seed=31)
    start = greedy(inst)
    return inst, start


def _weighted(inst, sessions) -> int:
    return sum(inst.weight_of(a.request) for a in sessions)


def _by_participant(inst, sessions) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for a in sessions:
        who = inst.request_by_id[a.request].participant
        out.setdefault(who, Counter())[(a.request, a.slots)] += 1
    return out


def test_the_split_covers_every_base_once_in_groups_of_about_equal_slots(week):
    inst, _ = week
    groups = split_bases(inst, 4)
    assert len(groups) == 4
    every = [b for g in groups for b in g]
    assert sorted(every) == sorted(b.id for b in inst.bases) and len(set(every)) == len(every)
    slots = [sum(inst.slot_count_by_base[b] for b in g) for g in groups]
    assert max(slots) <= 2.5 * min(slots), slots


def test_each_participant_is_in_the_part_where_its_start_sessions_mostly_are(week):
    inst, start = week
    parts = split(inst, start, 3)
    members = [p for part in parts for p in part.participants]
    assert len(members) == len(set(members)), "no participant is in two parts"
    part_of_base = {b: part.index for part in parts for b in part.bases}
    owner = {p: part.index for part in parts for p in part.participants}
    where: dict[str, Counter] = {}
    for a in start.assignments:
        who = inst.request_by_id[a.request].participant
        where.setdefault(who, Counter())[part_of_base[inst.base_of_slot(a.slots[0])]] += 1
    for who, counts in where.items():
        assert counts[owner[who]] == max(counts.values())


def test_a_part_moves_only_its_participants_and_only_to_its_bases(week):
    inst, start = week
    parts = split(inst, start, 2)
    part = parts[0]
    answer = solve_part(inst, start, part, time_limit_s=3.0, workers=1, seed=1)
    assert {inst.request_by_id[a.request].participant for a in answer} <= part.participants
    before = _by_participant(inst, start.assignments)
    after = _by_participant(inst, answer)
    for who in part.participants:
        new = after.get(who, Counter()) - before.get(who, Counter())
        for (_, slots), _n in new.items():
            assert inst.base_of_slot(slots[0]) in part.bases
    merged = Plan(inst.name, tuple(merge(inst, start, parts, {0: answer})))
    assert validate(inst, merged) == []
    # Everyone else is exactly as in the start.
    others = _by_participant(inst, merged.assignments)
    for who, sessions in before.items():
        if who not in part.participants:
            assert others.get(who) == sessions


def test_merging_every_part_is_valid_and_serves_no_less_than_the_start():
    inst = generate("S", seed=32)
    start, _ = best_start(inst, (greedy(inst), "greedy"), float("inf"))
    parts = split(inst, start, 3)
    answers = {
        p.index: solve_part(inst, start, p, time_limit_s=2.0, workers=1, seed=p.index)
        for p in parts
    }
    merged = Plan(inst.name, tuple(merge(inst, start, parts, answers)))
    assert validate(inst, merged) == []
    assert _weighted(inst, merged.assignments) >= _weighted(inst, start.assignments)
    # A part left out keeps the start's sessions of its participants, and stays valid.
    partial = Plan(inst.name, tuple(merge(inst, start, parts, {1: answers[1]})))
    assert validate(inst, partial) == []
    kept = _by_participant(inst, partial.assignments)
    begun = _by_participant(inst, start.assignments)
    for who in parts[0].participants | parts[2].participants:
        assert kept.get(who) == begun.get(who)


def test_a_parts_areas_move_only_its_participants_and_would_move_others_without_it(
    week, monkeypatch
):
    """The guard that makes the merge safe: a part's area lets only the part's participants'
    sessions move (``Search.movable``); without it the same area would let sessions of
    participants of other parts move too (so two parts could both move one person)."""
    import random

    from scheduler import lns
    from scheduler.solve import new_sessions

    inst, start = week
    part = split(inst, start, 2)[0]
    mine = frozenset(r.id for r in inst.requests if r.participant in part.participants)
    index = {r.id: k for k, r in enumerate(inst.requests)}
    asked: list[set[int]] = []
    real = lns.generate

    def spy(instance, **kw):
        asked.append(set(kw["only"]))
        return real(instance, **kw)

    monkeypatch.setattr(lns, "generate", spy)
    for movable in (mine, None):
        search = lns.Search(
            inst, new_sessions(inst, start), 1, random.Random(1), scope=part.bases, movable=movable
        )
        area = {(b, d) for b in part.bases for d in search.days}
        search.solve_area(area, 1, 0.5, float("inf"))  # levels 3-5: only sessions inside move
    guarded, unguarded = asked
    assert guarded and guarded <= {index[r] for r in mine}
    assert unguarded - {index[r] for r in mine}, "other parts' sessions sit at these bases"


def test_documents_round_trip_and_refuse_another_week(week):
    inst, start = week
    parts = split(inst, start, 2)
    doc = json.loads(json.dumps(split_doc(inst, start, parts, {})))
    start2, parts2 = read_split(doc, inst)
    assert start2.assignments == start.assignments and parts2 == parts
    with pytest.raises(ValueError, match="not"):
        read_split({**doc, "instance": "another-week"}, inst)
    answer = [Assignment(a.request, a.slots) for a in start.assignments[:3]]
    index, got = read_part(json.loads(json.dumps(part_doc(inst, parts[1], answer, {}))), inst)
    assert index == 1 and got == answer
    with pytest.raises(ValueError, match="unknown request"):
        read_part({**part_doc(inst, parts[1], answer, {}), "assignments": [{"request": "x"}]}, inst)


def test_part_time_follows_the_rounds_the_workers_need():
    assert part_seconds(300, 4, 2) == pytest.approx(0.55 * 300 / 2)
    assert part_seconds(300, 4, 1) == pytest.approx(0.55 * 300 / 4)
    assert part_seconds(300, 4, 8) == pytest.approx(0.55 * 300)


def test_split_part_merge_and_seam_from_the_command_line(tmp_path, capsys):
    inst = generate("tiny", seed=33)
    week = tmp_path / "week.json"
    write_json(dump_instance(inst), week)
    sp = tmp_path / "split.json"
    assert main(["split", str(week), "-o", str(sp), "--parts", "2", "--time-limit", "2"]) == 0
    answers = []
    for i in (0, 1):
        out = tmp_path / f"part-{i}.json"
        args = ["part", str(week), str(sp), "--part", str(i), "-o", str(out)]
        assert main([*args, "--time-limit", "2"]) == 0
        answers.append(str(out))
    merged = tmp_path / "merged.json"
    assert main(["merge", str(week), str(sp), *answers, "-o", str(merged)]) == 0
    assert validate(inst, load_plan(merged)) == []
    plan = tmp_path / "plan.json"
    args = ["solve", str(week), "-o", str(plan), "--start", str(merged), "--time-limit", "3"]
    assert main(args) == 0
    assert validate(inst, load_plan(plan)) == []
    assert load_plan(plan).stats["warm_start"] == "previous"
    capsys.readouterr()

    # Bad input: one line on stderr, exit 2, nothing written.
    bad = tmp_path / "bad.json"
    args = ["part", str(week), str(sp), "--part", "7", "-o", str(bad), "--time-limit", "1"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--part 7" in err[0] and not bad.exists()
    assert main(["merge", str(week), str(week), "-o", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a split" in err[0] and not bad.exists()
    assert main(["merge", str(week), str(sp), answers[0], answers[0], "-o", str(bad)]) == 2
    assert "twice" in capsys.readouterr().err and not bad.exists()


def test_solve_in_parts_on_one_machine_is_valid_and_no_worse_than_greedy(tmp_path):
    inst = generate("S", seed=34)
    week = tmp_path / "week.json"
    write_json(dump_instance(inst), week)
    plan = tmp_path / "plan.json"
    assert main(["solve", str(week), "-o", str(plan), "--parts", "2", "--time-limit", "8"]) == 0
    got = load_plan(plan)
    assert validate(inst, got) == [] and got.stats["parts"] == 2
    assert _weighted(inst, got.assignments) >= _weighted(inst, greedy(inst).assignments)


def test_a_parts_level4_pass_moves_only_its_participants_at_its_bases():
    """Without the pass's ``movers`` / ``bases`` a part would move other parts' sessions (the
    unrestricted pass on this week moves sessions of both halves)."""
    from scheduler.polish import polish

    inst = generate("S", seed=35, programme=True)
    start = greedy(inst)
    part = split(inst, start, 2)[0]
    mine = frozenset(r.id for r in inst.requests if r.participant in part.participants)
    sessions = list(start.assignments)
    moved_all = set(polish(inst, sessions, float("inf"))) ^ set(sessions)
    assert any(a.request not in mine for a in moved_all), "the week has clashes outside the part"
    got = polish(inst, sessions, float("inf"), movers=mine, bases=part.bases)
    assert validate(inst, Plan(inst.name, tuple(got))) == []
    assert set(got) != set(sessions), "the part's own sessions were polished"
    for a in set(got) ^ set(sessions):
        assert a.request in mine and inst.base_of_slot(a.slots[0]) in part.bases
