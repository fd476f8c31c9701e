"""Why a request is short of sessions: the solver's explanation, worked out once per change.

Explaining reads the part of the week around the request (the bases it may reach, the bookings
there and its participant's own; the whole week when no run is open to it at all) and replays
it (``scheduler.explain``), so it is not done on every view of a request page: the answer is
kept, keyed by the week's bookings fingerprint and the request, and worked out again only after
the week's bookings changed (a run, a placement, a booking or a cancellation). Each web process
keeps its most recent answers.

Not the placement's neighbourhood (``app.services.placement.neighbourhood``): that one keeps the
few nearest bases with free slots in the request's window, which is what placing needs; an
explanation must see every base the request may reach.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from app.extensions import db
from app.localtime import local_zone
from app.models import BookingRequest
from app.services.exchange.export import build_instance, build_neighbourhood, build_plan
from app.services.runs.guard import bookings_fingerprint
from scheduler.domain import Instance, Plan
from scheduler.explain import STATIC, Reason, explain

#: Answers kept per process (one per request viewed since its week last changed).
KEPT = 512

_answers: OrderedDict[tuple[int, str, str, str], tuple[Reason, ...]] = OrderedDict()
_lock = threading.Lock()


def why_not_placed(req: BookingRequest) -> tuple[Reason, ...]:
    """The reasons (in both languages) the request's missing sessions were not placed."""
    week = req.planning_week
    # The request's own filing time too: a request is only ever this one request (and another
    # database's R000001, in a test run, is not mistaken for it).
    key = (week.id, bookings_fingerprint(week), req.code, req.created_at.isoformat())
    with _lock:
        if key in _answers:
            _answers.move_to_end(key)
            return _answers[key]
    zone = str(local_zone())
    try:
        inst = build_neighbourhood(db.session, week, req.code, freeze_until=None, timezone=zone)
        reasons = _reasons(inst, build_plan(db.session, week, inst), req.code)
        if any(r.code in STATIC for r in reasons):  # these look at every base
            inst = build_instance(db.session, week, freeze_until=None, timezone=zone)
            reasons = _reasons(inst, build_plan(db.session, week, inst), req.code)
    except (KeyError, ValueError) as error:  # a week the exchange format cannot express
        reasons = (Reason("unexplained", str(error), str(error)),)
    with _lock:
        _answers[key] = reasons
        while len(_answers) > KEPT:
            _answers.popitem(last=False)
    return reasons


def _reasons(inst: Instance, plan: Plan, code: str) -> tuple[Reason, ...]:
    return tuple(r for e in explain(inst, plan, [code]) for r in e.denials)
