"""Operator pages: my bases, a base's profile and studios, the weekly template, the week grid.

Routes stay thin: they find the base the person may operate (404 otherwise), call
``app.services.timetable.service`` and render. Refusals the operator can fix come back as a flash
message on the same page, never as an error page.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, time, timedelta
from typing import TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.main.guards import roles_required
from app.main.labels import label, opts
from app.main.messages import form_error
from app.main.paging import Page, page_number
from app.models import FEATURES, REGIONS, Hub, Slot, Studio, TimetableWeek
from app.models.vocabulary import Role
from app.operator import bp
from app.operator.forms import GenerateForm, ReasonForm, StudioForm, TemplateForm
from app.services.accounts import audit
from app.services.accounts.access import can_operate_hub, operated_hub_ids
from app.services.programme.lots import lots_near_deadline
from app.services.timetable import service as timetable
from app.services.timetable.directory import MAX_QUERY as MAX_BASE_QUERY
from app.services.timetable.directory import BaseQuery, find_bases, provinces
from app.services.timetable.grid import build_week_grid
from app.services.timetable.weeks import monday_of, next_week_start

staff_only = roles_required(Role.ADMIN, Role.OPERATOR)

TIMETABLE_MESSAGES = {
    "no_days": lambda: _("Choose at least one open day."),
    "slot_length": lambda: _("A slot must last between 30 minutes and 8 hours."),
    "hours": lambda: _("The opening hours must hold at least one whole slot."),
    "break": lambda: _("A blocked time must end after it starts."),
    "not_monday": lambda: _("A week starts on a Monday."),
    "no_template": lambda: _("Set up the weekly template first."),
    "no_studios": lambda: _("This base has no studios yet."),
    "published": lambda: _(
        "This week is already published; its slots can no longer be regenerated."
    ),
    "empty": lambda: _("A week without slots cannot be published. Generate the slots first."),
    "reason": lambda: _("Please give a reason."),
    "already_blocked": lambda: _("This slot is already blocked."),
    "booked": lambda: _("This slot is booked. Cancel the booking first, then block the slot."),
    "not_blocked": lambda: _("This slot is not blocked."),
}


def explain(error: timetable.TimetableError) -> str:
    """The translated message of a timetable refusal."""
    message = TIMETABLE_MESSAGES.get(error.code)
    return message() if message else error.message


def my_hubs() -> list[Hub]:
    """The bases the signed-in person operates (every base for an admin)."""
    ids = operated_hub_ids(current_user)
    stmt = select(Hub).order_by(Hub.code)
    if ids is not None:
        stmt = stmt.where(Hub.id.in_(ids or [-1]))
    return list(db.session.scalars(stmt))


def hub_or_404(code: str) -> Hub:
    """The base with ``code`` if the person operates it; otherwise 404 (existence not revealed)."""
    hub = db.session.scalar(select(Hub).where(Hub.code == code))
    if hub is None or not can_operate_hub(current_user, hub):
        abort(404)
    return hub


def slot_or_404(code: str) -> Slot:
    """A slot at one of the person's bases, or 404."""
    slot = db.session.scalar(select(Slot).where(Slot.code == code))
    if slot is None or not can_operate_hub(current_user, slot.studio.hub_id):
        abort(404)
    return slot


def parse_week(raw: str | None) -> date:
    """``?week=YYYY-MM-DD`` as its Monday; next week when missing or unreadable."""
    try:
        return monday_of(date.fromisoformat(raw)) if raw else next_week_start()
    except ValueError:
        return next_week_start()


T = TypeVar("T")


def _given(value: T | None) -> T:
    """A required field's value once its form validated (DataRequired refused an empty one)."""
    if value is None:
        raise ValueError("a required field is empty after validation")
    return value


@bp.get("/")
@staff_only
def home():
    """My bases (all for an admin), searchable by name, code or city, filtered by region and
    province, a page at a time; each with this week's and next week's timetable state."""
    ids = operated_hub_ids(current_user)
    if ids is not None and len(ids) == 1 and not request.args:
        hub = db.session.get(Hub, next(iter(ids)))
        return redirect(url_for("operator.week", code=hub.code))
    query, number = _base_query(ids), page_number()
    rows = find_bases(ids, query, offset=(number - 1) * BASES_PER_PAGE, limit=BASES_PER_PAGE + 1)
    page = Page(rows[:BASES_PER_PAGE], number, len(rows) > BASES_PER_PAGE)
    nxt = next_week_start()
    weeks = {
        (w.hub_id, w.week_start): w
        for w in db.session.scalars(
            select(TimetableWeek).where(
                TimetableWeek.week_start.in_([nxt - timedelta(7), nxt]),
                TimetableWeek.hub_id.in_([h.id for h in page.items] or [-1]),
            )
        )
    }
    return render_template(
        "operator/home.html", hubs=page.items, page=page, query=query,
        provinces=provinces(ids), regions=REGIONS, many=ids is None or len(ids) > 1,
        weeks=weeks, this_week=nxt - timedelta(7), next_week=nxt,
    )  # fmt: skip


#: Base cards per page of "all bases".
BASES_PER_PAGE = 24


def _base_query(ids: Collection[int] | None) -> BaseQuery:
    """``?q=&region=&province=``; a value outside the choices is a 400 saying why."""
    text = request.args.get("q", "").strip()
    region = request.args.get("region", "").strip()
    province = request.args.get("province", "").strip()
    if len(text) > MAX_BASE_QUERY:
        abort(400, _("Search with at most %(n)d characters.", n=MAX_BASE_QUERY))
    if region and region not in REGIONS:
        abort(400, _("There is no region %(region)s.", region=region[:40]))
    if province and province not in provinces(ids):
        abort(400, _("None of your bases is in %(province)s.", province=province[:40]))
    return BaseQuery(text=text, region=region, province=province)


@bp.route("/bases/<code>", methods=["GET", "POST"])
@staff_only
def base(code: str):
    """The base profile and its studios (names and features)."""
    hub = hub_or_404(code)
    forms = {}
    for studio in hub.studios:
        form = StudioForm(prefix=studio.code, obj=studio if request.method == "GET" else None)
        form.features.choices = opts([(f, label("feature", f)) for f in FEATURES])
        forms[studio.code] = form
    target = request.form.get("studio")
    if request.method == "POST" and target in forms:
        form = forms[target]
        if form.validate():
            studio = db.session.scalars(select(Studio).where(Studio.code == target)).one()
            studio.name = form.name.data or None
            studio.features = sorted(set(form.features.data or ()))
            audit.record(
                "studio.update", actor=current_user, subject=studio.code, features=studio.features
            )
            db.session.commit()
            flash(_("Studio %(code)s saved.", code=studio.code), "success")
            return redirect(url_for("operator.base", code=hub.code))
    new_studio = StudioForm(prefix="new")
    new_studio.features.choices = opts([(f, label("feature", f)) for f in FEATURES])
    if request.method == "POST" and target == "new" and new_studio.validate():
        studio = timetable.add_studio(
            hub, new_studio.name.data, list(new_studio.features.data or ()), current_user
        )
        flash(
            _(
                "Studio %(code)s added. Its slots come with the next week you generate.",
                code=studio.code,
            ),
            "success",
        )
        return redirect(url_for("operator.base", code=hub.code))
    weeks = sorted(hub.weeks, key=lambda w: w.week_start, reverse=True)[:8]
    return render_template(
        "operator/base.html",
        hub=hub,
        forms=forms,
        new_studio=new_studio,
        weeks=weeks,
        spec=timetable.describe_template(timetable.default_template(hub)),
        regions=REGIONS,
    )


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _close_minutes(value: time) -> int:
    """Closing at 00:00 means midnight at the end of the day."""
    minutes = _minutes(value)
    return 1440 if minutes == 0 else minutes


@bp.route("/bases/<code>/template", methods=["GET", "POST"])
@staff_only
def template(code: str):
    """Edit the weekly template that generates each week's slots."""
    hub = hub_or_404(code)
    form = TemplateForm()
    if request.method == "GET":
        spec = timetable.describe_template(timetable.default_template(hub)) or (
            timetable.TemplateSpec(
                weekdays=tuple(range(7)), open_minute=8 * 60, close_minute=24 * 60
            )
        )
        form.weekdays.data = list(spec.weekdays)
        form.open_time.data = time(spec.open_minute // 60, spec.open_minute % 60)
        close = spec.close_minute % 1440
        form.close_time.data = time(close // 60, close % 60)
        form.slot_minutes.data = spec.slot_minutes
        form.prime_start.data = time(spec.prime_start // 60, spec.prime_start % 60)
        prime_end = spec.prime_end % 1440
        form.prime_end.data = time(prime_end // 60, prime_end % 60)
        if spec.break_start is not None and spec.break_end is not None:
            form.break_start.data = time(spec.break_start // 60, spec.break_start % 60)
            form.break_end.data = time((spec.break_end // 60) % 24, spec.break_end % 60)
    elif form.validate_on_submit():
        spec = timetable.TemplateSpec(
            weekdays=tuple(form.weekdays.data or ()),
            open_minute=_minutes(_given(form.open_time.data)),
            close_minute=_close_minutes(_given(form.close_time.data)),
            slot_minutes=form.slot_minutes.data,
            prime_start=_minutes(_given(form.prime_start.data)),
            prime_end=_close_minutes(_given(form.prime_end.data)),
            break_start=_minutes(form.break_start.data) if form.break_start.data else None,
            break_end=_close_minutes(form.break_end.data) if form.break_end.data else None,
        )
        try:
            timetable.save_template(hub, spec, current_user)
        except timetable.TimetableError as error:
            db.session.rollback()
            flash(explain(error), "warning")
        else:
            flash(_("Template saved. Generate a week to turn it into slots."), "success")
            return redirect(url_for("operator.week", code=hub.code))
    return render_template("operator/template.html", hub=hub, form=form)


@bp.get("/bases/<code>/week")
@staff_only
def week(code: str):
    """The week grid: studios × days × start times, each slot's state in colour and words."""
    hub = hub_or_404(code)
    week_start = parse_week(request.args.get("week"))
    tw = timetable.get_timetable_week(hub, week_start)
    grid = build_week_grid(hub, tw, week_start)
    generate = GenerateForm(week_start=week_start)
    return render_template(
        "operator/week.html",
        hub=hub,
        hubs=my_hubs(),
        grid=grid,
        tw=tw,
        week_start=week_start,
        prev_week=week_start - timedelta(days=7),
        next_week=week_start + timedelta(days=7),
        generate=generate,
        reason_form=ReasonForm(),
        has_template=timetable.default_template(hub) is not None,
        active_studio=_active_studio(hub, request.args.get("studio")),
        lot_alerts=lots_near_deadline([hub.code]),
    )


def _active_studio(hub: Hub, wanted: str | None) -> str:
    """The studio tab to open: the one asked for if it is here, else the first."""
    codes = [s.code for s in hub.studios]
    return wanted if wanted in codes else (codes[0] if codes else "")


@bp.post("/bases/<code>/week/generate")
@staff_only
def generate(code: str):
    """Generate (or fill up) a draft week from the template."""
    hub = hub_or_404(code)
    form = GenerateForm()
    if not form.validate_on_submit():
        flash(_("Please choose the Monday the week starts on."), "warning")
        return redirect(url_for("operator.week", code=hub.code))
    week_start = monday_of(_given(form.week_start.data))
    try:
        _tw, added = timetable.generate_week(hub, week_start, current_user)
    except timetable.TimetableError as error:
        db.session.rollback()
        flash(explain(error), "warning")
    else:
        if added:
            flash(
                _("%(n)d slots generated as a draft. Check them, then publish.", n=added), "success"
            )
        else:
            flash(_("Every slot of the template already exists for this week."), "info")
    return redirect(url_for("operator.week", code=hub.code, week=week_start.isoformat()))


@bp.post("/bases/<code>/week/publish")
@staff_only
def publish(code: str):
    """Publish the draft week: from now on participants can find and book its slots."""
    hub = hub_or_404(code)
    week_start = parse_week(request.form.get("week"))
    tw = timetable.get_timetable_week(hub, week_start)
    if tw is None:
        flash(TIMETABLE_MESSAGES["empty"](), "warning")
    else:
        try:
            timetable.publish_week(tw, current_user)
        except timetable.TimetableError as error:
            db.session.rollback()
            flash(explain(error), "warning")
        else:
            flash(_("Week published. Merchants and producers can book it now."), "success")
    return redirect(url_for("operator.week", code=hub.code, week=week_start.isoformat()))


def back_to_week(slot: Slot):
    week_start = slot.timetable_week.week_start
    return redirect(
        url_for(
            "operator.week",
            code=slot.studio.hub.code,
            week=week_start.isoformat(),
            studio=slot.studio.code,
        )
    )


@bp.post("/slots/<code>/block")
@staff_only
def block(code: str):
    """Block one slot with a reason (maintenance, a private event)."""
    slot = slot_or_404(code)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(form_error(form, TIMETABLE_MESSAGES["reason"]()), "warning")
        return back_to_week(slot)
    try:
        timetable.block_slot(slot, form.reason.data or "", current_user)
    except timetable.TimetableError as error:
        db.session.rollback()
        flash(explain(error), "warning")
    else:
        flash(_("Slot %(code)s blocked.", code=slot.code), "success")
    return back_to_week(slot)


@bp.post("/slots/<code>/unblock")
@staff_only
def unblock(code: str):
    """Open a blocked slot again."""
    slot = slot_or_404(code)
    try:
        timetable.unblock_slot(slot, current_user, request.form.get("reason", ""))
    except timetable.TimetableError as error:
        db.session.rollback()
        flash(explain(error), "warning")
    else:
        flash(_("Slot %(code)s is open again.", code=slot.code), "success")
    return back_to_week(slot)
