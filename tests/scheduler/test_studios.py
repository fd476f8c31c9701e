"""From studio classes back to studios: tentative bookings return home when they can, and a
class whose home placements get in the way is still fully placed."""

from scheduler.candidates import generate
from scheduler.studios import assign_studios
from tests.scheduler.builders import req, slot, week

S1, S2 = "B1-S1", "B1-S2"


def _pick(cands, inst, wanted):
    """Candidate indices for (request id, first slot hour) pairs, any studio of the class."""
    out = []
    for rid, hour in wanted:
        for i in range(len(cands)):
            c = cands.classes[cands.cls[i]]
            if inst.requests[cands.req[i]].id == rid and c.slots[0][cands.pos[i]].endswith(
                f"/{hour}"
            ):
                out.append(i)
                break
    return out


def _week():
    return week(
        {S1: [], S2: []},
        hours=(14, 16, 18),
        requests=[req("A", "PA"), req("B", "PB"), req("X", "PX", length=2)],
        bookings=[("A", [slot(S2, 0, 14)], "tentative"), ("B", [slot(S1, 0, 16)], "tentative")],
    )


def test_tentative_bookings_go_back_to_their_own_studio():
    inst = _week()
    cands = generate(inst)
    assert len(cands.classes) == 1 and cands.classes[0].size == 2  # the two studios are one class
    got = assign_studios(cands, _pick(cands, inst, [("A", 14), ("B", 16)]))
    assert {(a.request, a.slots) for a in got} == {
        ("A", (slot(S2, 0, 14),)),
        ("B", (slot(S1, 0, 16),)),
    }


def test_when_home_placements_block_a_session_every_session_is_still_placed():
    # A home on S2 at 14:00 and B home on S1 at 16:00 leave no studio free 14-18 for X.
    inst = _week()
    cands = generate(inst)
    got = assign_studios(cands, _pick(cands, inst, [("A", 14), ("B", 16), ("X", 14)]))
    assert sorted(a.request for a in got) == ["A", "B", "X"]
    used = [s for a in got for s in a.slots]
    assert len(used) == len(set(used)) == 4
    x = next(a for a in got if a.request == "X")
    assert x.slots[0].split("/")[0] == x.slots[1].split("/")[0]  # one studio, consecutive
