"""Participant forms: slot search (GET, no CSRF), request filing, profile."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.main.labels import opts
from app.services.booking.requests import MAX_KM, MIN_KM


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice (thumb-friendly on phones)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LongSelect(widgets.Select):
    """WTForms' select, for a long list (the base picker: 1,100 bases on the programme): the
    same markup, each plain option written at once rather than through ``html_params`` (about
    30 ms less on every search page)."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw or not isinstance(choice.value, str):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(choice.value)}">{label}</option>')


class WholeNumberField(IntegerField):
    """A whole number; text that is not one says so (not "this field is required")."""

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = int(str(valuelist[0]).strip())
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Enter a whole number, such as 2."))) from None


def _km_range():
    return NumberRange(
        min=MIN_KM,
        max=MAX_KM,
        message=_l("The distance must be from %(min)d to %(max)d km.", min=MIN_KM, max=MAX_KM),
    )


class SearchForm(FlaskForm):
    """The find-slots filters; read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    region = SelectField(_l("Region"), validators=[Optional()])
    province = SelectField(_l("Province"), validators=[Optional()])
    base = SelectField(_l("Base"), validators=[Optional()], widget=LongSelect())
    day = DateField(_l("Date"), validators=[Optional()])
    daypart = SelectField(_l("Time of day"), validators=[Optional()])
    features = MultiCheckboxField(_l("Studio features"), validators=[Optional()])
    max_km = WholeNumberField(_l("Within (km)"), validators=[Optional(), _km_range()])
    length = SelectField(
        _l("Session length"),
        choices=opts([("1", _l("1 slot (2 hours)")), ("2", _l("2 slots in a row (4 hours)"))]),
        default="1",
        validators=[Optional()],
    )
    sort = SelectField(
        _l("Sort"),
        choices=opts(
            [
                ("best", _l("Best fit first")),
                ("soonest", _l("Soonest first")),
                ("nearest", _l("Nearest first")),
            ]
        ),
        default="best",
        validators=[Optional()],
    )
    prime = BooleanField(_l("Prime time first"))


class RequestForm(FlaskForm):
    """A request for the optimizer: how many sessions, how long, when, where, what studio."""

    sessions = WholeNumberField(
        _l("Sessions"),
        default=1,
        validators=[
            InputRequired(message=_l("Say how many sessions you want (1 to 14).")),
            NumberRange(1, 14, message=_l("Ask for 1 to 14 sessions.")),
        ],
    )
    length = SelectField(_l("Length of each session"), coerce=int, default=1)
    window_start = DateField(_l("From"), validators=[DataRequired()])
    window_end = DateField(_l("Until (inclusive)"), validators=[DataRequired()])
    bases = MultiCheckboxField(
        _l("Only these bases (leave empty for any)"), validators=[Optional()]
    )
    max_km = WholeNumberField(_l("At most this far (km)"), validators=[Optional(), _km_range()])
    needs = MultiCheckboxField(_l("The studio must have"), validators=[Optional()])
    prefer_bases = MultiCheckboxField(_l("Preferred bases"), validators=[Optional()])
    prefer_prime = BooleanField(_l("Prefer prime time (evenings)"))
    harvest_lot = SelectField(_l("Sell this harvest lot"), validators=[Optional()])
    submit = SubmitField(_l("File request"))


class LotForm(FlaskForm):
    """A harvest lot: what, how much, from when it is ready and until when it keeps fresh."""

    product = StringField(_l("Product"), validators=[DataRequired(), Length(max=80)])
    quantity = DecimalField(
        _l("Quantity"), places=None, validators=[Optional(), NumberRange(min=0.001, max=1_000_000)]
    )
    unit = SelectField(_l("Unit"), default="kg")
    ready_at = DateTimeLocalField(
        _l("Ready from"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    best_before = DateTimeLocalField(
        _l("Best before"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    submit = SubmitField(_l("Record lot"))


class ProfileForm(FlaskForm):
    """Name, kind, location (province → city → county) and categories."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("I am a"), validators=[DataRequired()])
    province = SelectField(_l("Province"), validators=[DataRequired()], validate_choice=False)
    city = SelectField(_l("City"), validators=[DataRequired()], validate_choice=False)
    county = SelectField(
        _l("County / district"), validators=[DataRequired()], validate_choice=False
    )
    categories = MultiCheckboxField(_l("What I sell"), validators=[Optional()])
    category = SelectField(
        _l("Main category (sellers of one category are kept apart in time)"),
        validators=[Optional()],
    )
    phone = StringField(
        _l("Contact phone"),
        validators=[
            Optional(),
            Length(max=30, message=_l("A phone number is at most 30 characters.")),
        ],
        description=_l(
            "A mobile number (13812345678) or a landline with its area code (0539-8123456)."
        ),
    )
    wechat = StringField(
        _l("WeChat ID"),
        validators=[
            Optional(),
            Length(max=40, message=_l("A WeChat ID is at most 20 characters.")),
        ],
    )
    submit = SubmitField(_l("Save profile"))


class ReasonlessForm(FlaskForm):
    """An action button (accept, decline, cancel) that only needs the CSRF token."""
