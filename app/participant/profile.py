"""The participant's profile: name, kind, location from real divisions, categories."""

from __future__ import annotations

from functools import cache

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.geo import GazetteerError, gazetteer
from app.main.labels import label, opts
from app.models import CATEGORIES, KINDS, ParticipantProfile
from app.participant import bp
from app.participant.forms import ProfileForm
from app.participant.routes import me, participant_only
from app.services.accounts import audit
from app.services.accounts.contact import ContactInvalid, save_contact

CATEGORY_LABELS = {
    "fruit": _l("Fruit"),
    "vegetables": _l("Vegetables"),
    "tea": _l("Tea"),
    "grain_oil": _l("Grain and oil"),
    "meat_eggs": _l("Meat and eggs"),
    "seafood": _l("Seafood"),
    "specialty_food": _l("Local specialties"),
    "apparel": _l("Apparel"),
    "home_goods": _l("Home goods"),
    "electronics": _l("Electronics"),
    "crafts": _l("Crafts"),
    "beauty": _l("Beauty"),
}


CONTACT_MESSAGES = {
    "phone": lambda: _(
        "This is not a phone number: give a mobile number of 11 digits (13812345678) or a "
        "landline with its area code (0539-8123456)."
    ),
    "wechat": lambda: _(
        "This is not a WeChat ID: 6 to 20 letters, digits, _ or -, starting with a letter."
    ),
}


@cache
def places() -> dict[str, dict[str, list[str]]]:
    """Province → city → counties, from cpca's adcode table (the demo data's source too)."""
    tree: dict[str, dict[str, list[str]]] = {}
    for place in gazetteer().places:
        if place.is_county:
            tree.setdefault(place.province, {}).setdefault(place.prefecture, []).append(place.name)
    return tree


def _city_of(adcode: str | None) -> str | None:
    """The prefecture of an adcode (profiles made before the city was asked)."""
    if not adcode:
        return None
    try:
        return gazetteer().lookup_adcode(adcode).prefecture
    except GazetteerError:
        return None


@bp.route("/profile", methods=["GET", "POST"])
@participant_only
def profile():
    """Show and update who I am and where I am (distances to bases are measured from here)."""
    participant = me()
    extra = db.session.get(ParticipantProfile, participant.id) or ParticipantProfile(
        participant_id=participant.id, categories=[]
    )
    form = ProfileForm()
    tree = places()
    form.kind.choices = opts([(k, label("kind", k)) for k in KINDS])
    form.province.choices = opts([("", _("Choose…"))] + [(p, p) for p in sorted(tree)])
    form.city.choices = opts([("", _("Choose…"))])
    form.county.choices = opts([("", _("Choose…"))])
    form.categories.choices = opts([(c, str(CATEGORY_LABELS[c])) for c in CATEGORIES])
    mains = [(c, str(CATEGORY_LABELS[c])) for c in CATEGORIES]
    if participant.category and participant.category not in CATEGORIES:
        mains.append((participant.category, participant.category))  # one an exchange file gave
    form.category.choices = opts([("", _("Not set"))] + mains)
    if request.method == "GET":
        form.name.data = participant.name
        form.kind.data = participant.kind
        form.province.data = participant.province
        form.city.data = extra.city or _city_of(participant.adcode)
        form.county.data = participant.county
        form.categories.data = list(extra.categories or [])
        form.category.data = participant.category or ""
        form.phone.data = extra.phone or ""
        form.wechat.data = extra.wechat or ""
    elif form.validate_on_submit():
        path = f"{form.province.data}/{form.city.data}/{form.county.data}"
        try:
            place = gazetteer().lookup(path)
            save_contact(extra, form.phone.data, form.wechat.data)
        except GazetteerError:
            flash(_("Please choose your province, city and county from the lists."), "warning")
        except ContactInvalid as error:  # nothing was changed: the contact is checked first
            form[error.code].errors = [CONTACT_MESSAGES[error.code]()]
            flash(_("Please check the highlighted fields."), "warning")
        else:
            participant.name = form.name.data.strip()
            participant.kind = form.kind.data
            participant.province = place.province
            participant.county = place.name
            participant.region = place.region
            participant.lat, participant.lon = place.lat, place.lon
            participant.adcode = place.adcode
            extra.city = place.prefecture
            extra.categories = sorted(set(form.categories.data) & set(CATEGORIES))
            participant.category = form.category.data or None
            db.session.add(extra)
            audit.record(
                "participant.profile", actor=current_user, subject=participant.code, place=path
            )
            db.session.commit()
            flash(
                _("Profile saved. Distances are now measured from %(county)s.", county=place.name),
                "success",
            )
            return redirect(url_for("participant.profile"))
    return render_template(
        "participant/profile.html",
        form=form,
        participant=participant,
        extra=extra,
        tree=tree,
        city_value=form.city.data or "",
        county_value=form.county.data or "",
    )
