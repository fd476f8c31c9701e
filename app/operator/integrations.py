"""Integrations pages: the staff member's webhooks and group robots, adding one, and each
endpoint's delivery log with test, enable, disable and remove.

Thin: the form is parsed here, ``app.services.webhooks.endpoints`` decides; a refusal is shown
on the form field it concerns, and nothing is written.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from app.extensions import db
from app.main.errors import back_on_refusal
from app.main.labels import opts
from app.operator import bp
from app.operator.forms import MultiCheckboxField
from app.operator.routes import my_hubs, staff_only
from app.services.errors import ServiceError
from app.services.webhooks import endpoints as svc
from app.services.webhooks.events import EVENT_TYPES


def event_labels() -> dict[str, str]:
    """Every event's name on the pages."""
    return {
        "booking.created": _("Booking made"),
        "booking.confirmed": _("Booking confirmed"),
        "booking.cancelled": _("Booking cancelled"),
        "booking.proposed": _("Session proposed by the optimizer"),
        "request.placed": _("Request placed"),
        "run.applied": _("Re-planning applied"),
        "run.failed": _("Re-planning failed"),
        "slot.blocked": _("Slot blocked"),
        "webhook.test": _("Test message"),
    }


KINDS = [
    ("webhook", _l("Webhook (signed JSON)")),
    ("wecom", _l("WeCom group robot")),
    ("dingtalk", _l("DingTalk group robot")),
]
FORMATS = [("markdown", _l("Markdown")), ("text", _l("Plain text"))]

#: Which form field a refusal concerns (by the refusal's stable code).
FIELD_OF = {
    "bad_url": "url",
    "private_address": "url",
    "no_events": "events",
    "unknown_event": "events",
    "no_bases": "bases",
    "bases": "bases",
    "other_base": "bases",
    "secret": "secret",
    "kind": "kind",
    "format": "format",
}


def field_message(error: ServiceError) -> str:
    """The translated message of a refusal shown on the form."""
    return {
        "bad_url": _("This URL cannot be used: %(why)s", why=error.message),
        "private_address": _(
            "This address is on a private network; the site does not call such addresses."
        ),
        "no_events": _("Choose at least one event."),
        "unknown_event": _("Unknown event."),
        "no_bases": _("Choose at least one base, or all your bases."),
        "bases": _("Choose some bases or all bases, not both."),
        "other_base": _("You do not operate this base."),
        "secret": _("This secret has the wrong form: %(why)s", why=error.message),
    }.get(error.code, error.message)


class EndpointForm(FlaskForm):
    """A new webhook or group robot."""

    kind = SelectField(_l("Kind"), choices=opts(KINDS), default="webhook")
    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=2000)])
    events = MultiCheckboxField(_l("Events"), choices=[])
    bases = MultiCheckboxField(_l("Bases"), choices=[])
    all_bases = BooleanField(_l("All my bases (also those I get later)"))
    secret = StringField(_l("Secret (optional)"), validators=[Optional(), Length(max=200)])
    format = SelectField(_l("Robot message format"), choices=opts(FORMATS), default="markdown")
    description = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add"))


def _form() -> EndpointForm:
    form = EndpointForm()
    labels = event_labels()
    form.events.choices = opts((e, f"{labels[e]} ({e})") for e in EVENT_TYPES)
    form.bases.choices = opts((h.code, f"{h.code} · {h.name}") for h in my_hubs())
    return form


def _list(form: EndpointForm, status: int = 200):
    rows = svc.list_endpoints(current_user)
    return (
        render_template(
            "operator/integrations.html",
            form=form,
            rows=rows,
            counts={e.id: svc.counts(e) for e in rows},
            labels=event_labels(),
        ),
        status,
    )


@bp.get("/integrations")
@staff_only
def integrations():
    """My webhooks and group robots (an admin: everyone's) and the form to add one."""
    return _list(_form())


@bp.post("/integrations")
@staff_only
def add_integration():
    """Add an endpoint; a refusal is shown on its field and nothing is written."""
    form = _form()
    if not form.validate_on_submit():
        return _list(form, 422)
    spec = svc.EndpointSpec(
        url=form.url.data or "",
        events=form.events.data or [],
        kind=form.kind.data or "webhook",
        bases=[] if form.all_bases.data else (form.bases.data or []),
        all_bases=bool(form.all_bases.data),
        secret=form.secret.data or None,
        format=form.format.data or "markdown",
        description=form.description.data,
    )
    try:
        made = svc.register(current_user, spec)
    except ServiceError as e:
        db.session.rollback()
        field = getattr(form, FIELD_OF.get(e.code, "url"))
        field.errors = [*field.errors, field_message(e)]
        return _list(form, 422)
    flash(_("Added %(code)s.", code=made.code), "success")
    return redirect(url_for("operator.integration", code=made.code))


@bp.get("/integrations/<code>")
@staff_only
def integration(code: str):
    """One endpoint: its settings and secret, and its delivery log."""
    endpoint = svc.get_endpoint(current_user, code)
    return render_template(
        "operator/integration.html",
        endpoint=endpoint,
        log=svc.delivery_log(endpoint, limit=100),
        counts=svc.counts(endpoint),
        labels=event_labels(),
    )


@bp.post("/integrations/<code>/<action>")
@staff_only
def integration_action(code: str, action: str):
    """Test, enable, disable or remove an endpoint."""
    endpoint = svc.get_endpoint(current_user, code)
    back_on_refusal(url_for("operator.integration", code=endpoint.code))
    if action == "test":
        message = svc.send_test(current_user, endpoint)
        flash(_("Test message %(id)s queued; its try shows below.", id=message.msg_id), "info")
    elif action in ("enable", "disable"):
        svc.change(current_user, endpoint, enabled=action == "enable")
        flash(_("Enabled.") if action == "enable" else _("Disabled."), "success")
    elif action == "remove":
        svc.remove(current_user, endpoint)
        flash(_("Removed %(code)s.", code=code.upper()), "success")
        return redirect(url_for("operator.integrations"))
    else:
        return redirect(url_for("operator.integration", code=endpoint.code))
    return redirect(url_for("operator.integration", code=endpoint.code))
