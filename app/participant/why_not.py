"""Why a request's missing sessions were not placed, in plain words in the reader's language.

The solver's explanation (``app.services.booking.shortfall``, worked out once per change of the
week) gives one reason per missing session with a stable code and its figures. Here each reason
is said once, as a person would: bases by name, times as a weekday and hour, features by their
translated names, never a slot id; each with a link to the slots it means, the request's filters
applied.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask import url_for
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.localtime import local_day
from app.main.labels import label
from app.models import BookingRequest, Hub, Slot, Studio
from scheduler.explain import Reason


@dataclass(frozen=True)
class PlainReason:
    """One reason as the request page shows it: a sentence and the slots it means."""

    text: str
    link: str | None
    sessions: int  # how many missing sessions it explains


def _names(codes: list[str]) -> dict[str, str]:
    rows = db.session.execute(select(Hub.code, Hub.name).where(Hub.code.in_(codes or ["-"])))
    return {str(code): str(name) for code, name in rows}


def _free_runs(reasons: list[Reason]) -> dict[str, tuple]:
    """The first slot of each free run the reasons name: its start, base code and base name."""
    firsts = [r.info["run"].split(", ")[0] for r in reasons if r.info.get("run")]
    rows = db.session.execute(
        select(Slot.code, Slot.start, Hub.code, Hub.name)
        .join(Studio, Studio.id == Slot.studio_id)
        .join(Hub, Hub.id == Studio.hub_id)
        .where(Slot.code.in_(firsts or ["-"]))
    )
    return {code: (start, hub, name) for code, start, hub, name in rows}


def _features(codes) -> str:
    return _(", ").join(label("feature", f) for f in sorted(codes)) or "—"


def _sentence(req: BookingRequest, reason: Reason, names: dict[str, str]) -> str:
    info = reason.info
    code = reason.code
    if code == "not_allowed_base":
        allowed = _(", ").join(h.name for h in req.allowed_hubs)
        return _(
            "Only bases this request does not allow have a fitting studio (it allows %(bases)s).",
            bases=allowed,
        )
    if code == "too_far":
        if req.max_km is None or "base" not in info:
            return _("Every base with a fitting studio is too far.")
        limit = format(req.max_km, "g")
        return _(
            "Every base with a fitting studio is farther than %(max)s km; the nearest, "
            "%(base)s, is %(km)s km away.",
            max=limit,
            base=names.get(info["base"], info["base"]),
            km=info.get("km", "?"),
        )
    if code == "features_missing":
        return _(
            "No base within reach has a studio with %(features)s.", features=_features(req.needs)
        )
    if code == "no_studio_in_window":
        return ngettext(
            "No fitting studio has a free slot between %(start)s and %(end)s.",
            "No fitting studio has %(num)d free slots in a row between %(start)s and %(end)s.",
            req.length,
            start=format_datetime(req.window_start, "EEE M/d HH:mm"),
            end=format_datetime(req.window_end, "EEE M/d HH:mm"),
        )
    if code == "frozen":
        return _("The fitting slots all start too soon for new sessions to be planned.")
    lot = req.harvest_lot
    if code == "harvest_past" and lot is not None:
        return _(
            "The harvest lot's best-before (%(when)s) has passed: no new session can sell it.",
            when=format_datetime(lot.best_before, "EEE M/d HH:mm"),
        )
    if code == "harvest_window" and lot is not None:
        return _(
            "No fitting slot lies between the lot's ready time (%(ready)s) and its best-before "
            "(%(best)s).",
            ready=format_datetime(lot.ready_at, "EEE M/d HH:mm"),
            best=format_datetime(lot.best_before, "EEE M/d HH:mm"),
        )
    if code == "daily_cap":
        return _(
            "On the days that still have fitting free slots you already have %(n)s sessions, the "
            "most allowed in one day.",
            n=req.planning_week.max_sessions_per_day or "?",
        )
    if code == "same_day_same_base":
        return _(
            "On the days that still have fitting free slots you already have a session at another "
            "base, and all sessions of one day must be at one base."
        )
    if code == "own_overlap":
        return _("The fitting free slots overlap your own other sessions.")
    if code == "category_clash":
        return _(
            "The only fitting free slots are at the same time as another seller of the same "
            "category at that base, and the week keeps them apart."
        )
    if code == "taken_by_bookings":
        return _("Every fitting slot is already booked.")
    if code == "slots_taken":
        return _(
            "Every fitting slot is taken by other sessions (%(higher)s of higher, %(same)s of "
            "equal and %(lower)s of lower programme priority).",
            higher=info.get("higher", "0"),
            same=info.get("same", "0"),
            lower=info.get("lower", "0"),
        )
    return _("The optimizer could not explain this session.")


def plain_reasons(req: BookingRequest, reasons: tuple[Reason, ...]) -> list[PlainReason]:
    """Each reason once (free slots named one by one), in plain words, with its link."""
    runs = [r for r in reasons if r.code == "free_run_unused"]
    rest = Counter(r for r in reasons if r.code != "free_run_unused")
    names = _names([r.info["base"] for r in rest if "base" in r.info])
    firsts = _free_runs(runs)
    out: list[PlainReason] = []
    seen: set[str] = set()
    for r in runs:
        first = r.info.get("run", "").split(", ")[0]
        if first in seen or first not in firsts:
            continue
        seen.add(first)
        start, hub, name = firsts[first]
        text = _(
            "%(when)s %(base)s has a free studio that fits, but the automatic placement has not "
            "used it yet: you can book it yourself.",
            when=format_datetime(start, "EEE HH:mm"),
            base=name,
        )
        link = url_for(
            "participant.find_slots",
            request=req.code,
            day=local_day(start).isoformat(),
            base=hub,
        )
        out.append(PlainReason(text, link, 1))
    for reason, count in rest.items():
        link = url_for("participant.find_slots", request=req.code)
        out.append(PlainReason(_sentence(req, reason, names), link, count))
    return out
