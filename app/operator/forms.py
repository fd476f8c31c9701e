"""Operator forms (all CSRF-protected through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from app.main.labels import opts
from app.models import FEATURES

WEEKDAYS = [
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
    (6, _l("Sunday")),
]


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes instead of a multi-select (easier on a phone)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class TemplateForm(FlaskForm):
    """The weekly template: which days, opening hours, slot length, prime hours."""

    weekdays = MultiCheckboxField(_l("Days open"), choices=opts(WEEKDAYS), coerce=int)
    open_time = TimeField(_l("Opens at"), validators=[DataRequired()])
    close_time = TimeField(_l("Closes at"), validators=[DataRequired()])
    slot_minutes = SelectField(
        _l("Slot length"),
        coerce=int,
        choices=opts(
            [
                (60, _l("1 hour")),
                (90, _l("1.5 hours")),
                (120, _l("2 hours")),
                (180, _l("3 hours")),
            ]
        ),
        default=120,
    )
    prime_start = TimeField(_l("Prime time from"), validators=[DataRequired()])
    prime_end = TimeField(_l("Prime time until"), validators=[DataRequired()])
    break_start = TimeField(_l("Blocked every day from"), validators=[Optional()])
    break_end = TimeField(_l("Blocked every day until"), validators=[Optional()])
    submit = SubmitField(_l("Save template"))


class GenerateForm(FlaskForm):
    """Generate a week's slots from the template."""

    week_start = DateField(_l("Week starting (Monday)"), validators=[DataRequired()])
    submit = SubmitField(_l("Generate slots"))


class StudioForm(FlaskForm):
    """A studio's display name and features."""

    name = StringField(_l("Studio name"), validators=[Optional(), Length(max=120)])
    features = MultiCheckboxField(_l("Features"), choices=opts((f, f) for f in FEATURES))
    submit = SubmitField(_l("Save studio"))


def reason_validators() -> list:
    """A reason is required and at most 300 characters; each says which one failed."""
    return [
        DataRequired(message=_l("Please give a reason.")),
        Length(max=300, message=_l("The reason is too long: at most %(n)d characters.", n=300)),
    ]


class ReasonForm(FlaskForm):
    """A reason for blocking a slot or cancelling a booking."""

    reason = TextAreaField(_l("Reason"), validators=reason_validators())
    submit = SubmitField(_l("Confirm"))


class BlockRangeForm(FlaskForm):
    """Block a whole day, a studio for some days, or a time range, with one reason."""

    first = DateField(_l("From day"), validators=[DataRequired()])
    last = DateField(_l("Until day (included)"), validators=[Optional()])
    start = TimeField(_l("From time (empty: the whole day)"), validators=[Optional()])
    end = TimeField(_l("Until time"), validators=[Optional()])
    studio = SelectField(_l("Studio"), choices=[], validate_choice=True)
    reason = TextAreaField(_l("Reason (shown to your team)"), validators=reason_validators())
    submit = SubmitField(_l("Check what this blocks"))


class SheetUploadForm(FlaskForm):
    """An ``.xlsx`` upload (the service checks its size and content again)."""

    file = FileField(
        _l("Spreadsheet (.xlsx)"),
        validators=[
            FileRequired(_l("Choose an .xlsx file.")),
            FileAllowed(["xlsx"], _l("Only .xlsx workbooks are accepted.")),
        ],
    )
    submit = SubmitField(_l("Check and import"))


class TimetableUploadForm(SheetUploadForm):
    """A base's week (its Monday) and the sheet of its slots."""

    week = DateField(_l("Week starting (Monday)"), validators=[DataRequired()])
    submit = SubmitField(_l("Check, import and publish"))
