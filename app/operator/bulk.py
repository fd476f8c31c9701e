"""Operator bulk actions: many bookings confirmed, locked or cancelled with one reason, and a
whole day, studio or time range blocked at once. Destructive ones (cancel, block) go through a
confirmation page that says exactly what will happen; it works without JavaScript."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.extensions import db
from app.main.errors import back_on_refusal
from app.main.labels import label
from app.operator import bp
from app.operator.forms import BlockRangeForm
from app.operator.routes import explain, hub_or_404, my_hubs, parse_week, staff_only
from app.services.booking import bulk
from app.services.booking.rules import RuleBroken
from app.services.timetable import blocking
from app.services.timetable.service import TimetableError


def bulk_refusal(error: bulk.BulkRefused) -> str:
    """One sentence naming every booking that stopped the action and why."""
    parts = []
    for code, why in sorted(error.detail.get("refused", {}).items()):
        if why == "unknown":
            reason = _("no such booking")
        elif why == "forbidden":
            reason = _("not at your bases")
        else:
            reason = _("it is %(state)s", state=label("booking", why))
        parts.append(f"{code} ({reason})")
    return _("Nothing was changed; these bookings cannot take this action: %(list)s.",
             list=", ".join(parts))  # fmt: skip


def _rule_message(error: RuleBroken) -> str:
    return {
        "bulk_empty": _("Tick at least one booking first."),
        "bulk_too_many": _("At most %(n)d bookings at once.", n=bulk.MAX_BULK),
        "bulk_action": _("Choose confirm, lock or cancel."),
        "reason": _("Please give a reason; the participants will see it."),
        "reason_long": _("The reason is too long: at most %(n)d characters.", n=bulk.MAX_REASON),
    }.get(error.code, error.message)


def _done_message(action: str, n: int) -> str:
    if action == "confirm":
        return ngettext("%(num)d booking confirmed.", "%(num)d bookings confirmed.", n)
    if action == "lock":
        return ngettext(
            "%(num)d booking locked: the optimizer will keep it.",
            "%(num)d bookings locked: the optimizer will keep them.",
            n,
        )
    return ngettext(
        "%(num)d booking cancelled; its participant has been told.",
        "%(num)d bookings cancelled; their participants have been told.",
        n,
    )


@bp.post("/bases/<code>/bookings/bulk")
@staff_only
def bookings_bulk(code: str):
    """Apply one action to the ticked bookings; a cancellation is confirmed on a page first."""
    hub = hub_or_404(code)
    week_start = parse_week(request.form.get("week"))
    back = url_for("operator.bookings", code=hub.code, week=week_start.isoformat(),
                   show=request.form.get("show") or None)  # fmt: skip
    back_on_refusal(back)
    action = request.form.get("action", "")
    codes = request.form.getlist("booking")
    reason = request.form.get("reason", "")
    try:
        if action == "cancel" and request.form.get("confirm") != "yes":
            bulk.check_reason(action, reason)
            rows = bulk.load_for_bulk(current_user, action, codes)
            db.session.rollback()  # only looked: release the row locks
            return render_template(
                "operator/bulk_confirm.html", hub=hub, hubs=my_hubs(), week_start=week_start,
                rows=rows, reason=reason.strip(), action=action, back=back,
            )  # fmt: skip
        done = bulk.bulk_action(current_user, action, codes, reason=reason)
    except bulk.BulkRefused as error:
        db.session.rollback()
        flash(bulk_refusal(error), "warning")
        return redirect(back)
    except RuleBroken as error:
        db.session.rollback()
        flash(_rule_message(error), "warning")
        return redirect(back)
    flash(_done_message(action, len(done)) % {"num": len(done)}, "success")
    return redirect(back)


def _range_form(hub) -> BlockRangeForm:
    form = BlockRangeForm()
    form.studio.choices = [("", _("Every studio"))] + [
        (s.code, f"{s.name or s.code} ({s.code})" if s.name else s.code) for s in hub.studios
    ]
    return form


def _range_of(form: BlockRangeForm) -> blocking.BlockRange:
    first = form.first.data
    if first is None:  # the form requires it; validate_on_submit has refused an empty one
        raise ValueError("a range needs its first day")
    return blocking.BlockRange(
        first=first,
        last=form.last.data or first,
        start=form.start.data,
        end=form.end.data,
        studios=(form.studio.data,) if form.studio.data else (),
    )


RANGE_MESSAGES = {
    "range_order": lambda: _("The last day comes before the first."),
    "range_long": lambda: _("At most %(n)d days at once.", n=blocking.MAX_DAYS),
    "range_far": lambda: _("Choose a first day within a year from today."),
    "unknown_studio": lambda: _("That studio is not at this base."),
    "nothing_to_block": lambda: _("There is no open slot to block in this range."),
    "reason_long": lambda: _("The reason is too long: at most %(n)d characters.", n=300),
}


def _range_error(error: TimetableError) -> str:
    message = RANGE_MESSAGES.get(error.code)
    return message() if message else explain(error)


@bp.route("/bases/<code>/block", methods=["GET", "POST"])
@staff_only
def block_range(code: str):
    """Block a day, a studio or a time range: the form, then what it blocks, then block."""
    hub = hub_or_404(code)
    form = _range_form(hub)
    if request.method == "GET":
        raw = request.args.get("first", "")
        try:
            form.first.data = date.fromisoformat(raw) if raw else None
        except ValueError:
            form.first.data = None
        form.studio.data = request.args.get("studio", "")
    outcome = None
    if request.method == "POST" and form.validate_on_submit():
        rng = _range_of(form)
        try:
            if request.form.get("confirm") == "yes":
                done = blocking.block_range(hub, rng, form.reason.data or "", current_user)
                flash(_blocked_message(done), "success")
                return redirect(url_for("operator.week", code=hub.code,
                                        week=parse_week(rng.first.isoformat()).isoformat()))  # fmt: skip
            outcome = blocking.preview(hub, rng)
        except TimetableError as error:
            db.session.rollback()
            flash(_range_error(error), "warning")
            outcome = None
    elif request.method == "POST":
        flash(_("Please check the highlighted fields."), "warning")
    week_start = parse_week(form.first.data.isoformat() if form.first.data else None)
    return render_template(
        "operator/block_range.html", hub=hub, hubs=my_hubs(), form=form, outcome=outcome,
        week_start=week_start,
    )  # fmt: skip


def _blocked_message(done: blocking.BlockOutcome) -> str:
    text = ngettext("%(num)d slot blocked.", "%(num)d slots blocked.", len(done.blocked))
    text = text % {"num": len(done.blocked)}
    if done.booked:
        text += " " + ngettext(
            "%(num)d booked slot stays booked; cancel its booking first if it must go.",
            "%(num)d booked slots stay booked; cancel their bookings first if they must go.",
            len(done.booked),
        ) % {"num": len(done.booked)}
    return text
