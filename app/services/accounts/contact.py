"""A participant's contact (phone, WeChat ID): checked when saved, shown only to whom it concerns.

The operators of a base where the participant has a session (tentative, confirmed or locked, at
any time) see it, and admins; nobody else does, other participants least of all. Pages ask for
many participants at once (``visible_contacts``), in one query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import (
    ACTIVE_STATUSES,
    Booking,
    ParticipantProfile,
    Role,
    Slot,
    SlotHold,
    Studio,
    User,
)
from app.services.accounts.access import operated_hub_ids
from app.services.errors import ServiceError

#: A mainland mobile number (11 digits from 1[3-9]) or a landline with its area code.
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-\d{7,8}$")
#: WeChat's own rule for an ID: 6 to 20 letters, digits, _ or -, starting with a letter.
_WECHAT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")


class ContactInvalid(ServiceError):
    """A phone number or WeChat ID that cannot be one (422); ``code`` names the field."""

    status = 422


@dataclass(frozen=True)
class Contact:
    """How a participant is reached."""

    phone: str | None
    wechat: str | None
    #: The free text a participants' spreadsheet import gave, if any.
    note: str | None = None


def normalise_phone(raw: str | None) -> str | None:
    """A phone number as stored (``13812345678``, ``0539-8123456``), None for empty; spaces,
    dashes and a leading +86 are accepted. A ``ContactInvalid`` (``phone``) otherwise."""
    text = (raw or "").strip()
    if not text:
        return None
    compact = re.sub(r"[\s()]", "", text)
    if compact.startswith("+86"):
        compact = compact[3:].lstrip("-")
    digits = compact.replace("-", "")
    if _MOBILE.match(digits):
        return digits
    if digits.startswith("0") and 10 <= len(digits) <= 12 and digits.isdigit():
        area = 3 if digits[1] in "12" else 4  # 010, 02x: three digits; others four
        landline = f"{digits[:area]}-{digits[area:]}"
        if _LANDLINE.match(landline):
            return landline
    raise ContactInvalid(f"not a phone number: {text!r}", code="phone")


def check_wechat(raw: str | None) -> str | None:
    """A WeChat ID as stored, None for empty; a ``ContactInvalid`` (``wechat``) otherwise."""
    text = (raw or "").strip()
    if not text:
        return None
    if not _WECHAT.match(text):
        raise ContactInvalid(f"not a WeChat ID: {text!r}", code="wechat")
    return text


def save_contact(profile: ParticipantProfile, phone: str | None, wechat: str | None) -> None:
    """Check and set the contact on ``profile`` (the caller commits); nothing set if refused."""
    checked = normalise_phone(phone), check_wechat(wechat)
    profile.phone, profile.wechat = checked


def visible_contacts(viewer: User, participant_ids: Iterable[int]) -> dict[int, Contact]:
    """The contacts ``viewer`` may see among ``participant_ids``: admins all; an operator those
    with a session at one of their bases; anyone else none."""
    wanted = sorted(set(participant_ids))
    if not wanted or viewer.role not in (Role.ADMIN, Role.OPERATOR):
        return {}
    profile = ParticipantProfile
    stmt = select(profile.participant_id, profile.phone, profile.wechat, profile.contact).where(
        profile.participant_id.in_(wanted),
        profile.phone.is_not(None) | profile.wechat.is_not(None) | profile.contact.is_not(None),
    )
    hubs = operated_hub_ids(viewer)
    if hubs is not None:
        at_my_bases = (
            select(Booking.participant_id)
            .join(SlotHold, SlotHold.booking_id == Booking.id)
            .join(Slot, Slot.id == SlotHold.slot_id)
            .join(Studio, Studio.id == Slot.studio_id)
            .where(Booking.status.in_(ACTIVE_STATUSES), Studio.hub_id.in_(sorted(hubs) or [-1]))
        )
        stmt = stmt.where(ParticipantProfile.participant_id.in_(at_my_bases))
    return {
        pid: Contact(phone, wechat, note) for pid, phone, wechat, note in db.session.execute(stmt)
    }
