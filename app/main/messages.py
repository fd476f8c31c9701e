"""Translated messages for a use case's refusals (``ServiceError``), keyed by their stable codes.

The services speak English one-liners for logs and the API; people read these instead, in
their language (Chinese first, English second, through Flask-Babel).
"""

from __future__ import annotations

from flask_babel import gettext as _

from app.services.errors import ServiceError


def _messages() -> dict[str, str]:
    return {
        "slot_taken": _("This slot was just taken by someone else."),
        "already_yours": _("You already have this session: it is in your sessions."),
        "daily_cap": _("You already have the most sessions allowed on that day."),
        "same_day_same_base": _("All your sessions on one day must be at the same base."),
        "overlap": _("You already have a session at that time."),
        "in_past": _("This slot has already started."),
        "slot_blocked": _("This slot has been blocked by the base."),
        "studio_retired": _("This studio has been retired by the base and takes no new sessions."),
        "not_published": _("This week's timetable is not published yet."),
        "not_consecutive": _("The slots must follow each other in one studio."),
        "wrong_length": _("That is not a length you can book."),
        "unknown_slot": _("This slot no longer exists."),
        "cancel_cutoff": _("It is too late to cancel this session online; please call the base."),
        "locked": _("The base has locked this session; please contact the base to change it."),
        "invalid_state": _("This session has already been changed by someone else."),
        "reason": _("Please give a reason."),
        "role_cannot_book": _("Only merchant and producer accounts can book slots."),
        "forbidden": _("You may not change this session."),
        "other_base": _("You do not operate this base."),
        "window": _("The slots lie outside the request's time window."),
        "base": _("This base is not allowed by the request."),
        "max_km": _("This base is farther than the request allows."),
        "needs": _("This studio lacks a feature the request needs."),
        "request_closed": _("This request is closed."),
        "request_full": _("This request already has all its sessions."),
        "request": _("This request belongs to another participant."),
        "disabled": _("This integration is disabled; enable it first."),
        "invalid": _("This booking could not be made. Please choose the slots again."),
    }


def refusal_message(error: ServiceError | Exception) -> str:
    """The person-facing message for a refused action."""
    code = getattr(error, "code", "")
    return _messages().get(code) or getattr(error, "message", None) or str(error)


def refusal_text(code: str) -> str:
    """The person-facing message for a refusal's stable ``code``."""
    return _messages().get(code) or _("This could not be done.")


def form_error(form, fallback: str) -> str:
    """The first error of a refused form, as its validator worded it (a reason too long is not
    "please give a reason"); ``fallback`` when no field says anything."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return fallback
