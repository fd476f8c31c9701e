"""The API's request and response bodies, as marshmallow schemas (they also make the spec).

Every id a client sees is the object's public code ("B017", "SL004211", "K000123",
"R000381"); times are ISO 8601 with the +08:00 offset of Asia/Shanghai.
"""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Date, DateTime, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import RAISE

from app.api.paging import MAX_OFFSET
from app.models.vocabulary import BookingStatus, RequestStatus
from app.services.booking.request_state import RequestState
from app.services.booking.requests import KNOWN_FEATURES, MAX_KM, MIN_KM

SLOT_STATES = ("open", "booked", "blocked")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _limit(default: int, maximum: int) -> Integer:
    return Integer(
        load_default=default,
        validate=Range(1, maximum),
        metadata={"description": f"page size, 1 to {maximum} (default {default})"},
    )


def _offset() -> Integer:
    return Integer(
        load_default=0,
        validate=Range(0, MAX_OFFSET),
        metadata={"description": "rows to skip; the `Link` header names the next page"},
    )


class BaseQuery(_Strict):
    """A page of the base list."""

    limit = _limit(100, 500)
    offset = _offset()


class TokenIn(_Strict):
    """Credentials for a token."""

    username = String(required=True, validate=Length(1, 80))
    password = String(required=True, validate=Length(1, 200))


class TokenOut(Schema):
    """A bearer token and who it is for."""

    token = String(metadata={"description": "send as `Authorization: Bearer <token>`"})
    expires_in = Integer(metadata={"description": "seconds"})
    user = String()
    role = String()


class StudioOut(Schema):
    """A studio and its features."""

    id = String()
    name = String(allow_none=True)
    features = List(String())


class BaseOut(Schema):
    """A livestream base with its studios."""

    id = String(metadata={"example": "B017"})
    name = String()
    city = String()
    province = String()
    region = String()
    lat = Float()
    lon = Float()
    studios = List(Nested(StudioOut))


class SlotQuery(_Strict):
    """Filters of the slot list."""

    base = String(metadata={"description": "base id, e.g. B017"})
    date = Date(metadata={"description": "local calendar day (Asia/Shanghai), YYYY-MM-DD"})
    free = Boolean(load_default=False, metadata={"description": "only slots one can book"})
    feature = List(String(), metadata={"description": "studio must have every feature given"})
    limit = _limit(500, 2000)
    offset = _offset()


class SlotOut(Schema):
    """A published slot and whether it can be booked."""

    id = String(metadata={"example": "SL004211"})
    studio = String()
    base = String()
    start = String(metadata={"description": "ISO 8601 with offset"})
    end = String()
    prime = Boolean()
    features = List(String())
    state = String(metadata={"description": "open, booked or blocked"})


class BookingIn(_Strict):
    """A direct booking: consecutive slots of one studio."""

    slots = List(
        String(),
        required=True,
        validate=Length(min=1),
        metadata={"description": "consecutive slot ids of one studio"},
    )
    request = String(metadata={"description": "optional: the request this session serves"})


class CancelIn(_Strict):
    """Why a booking is cancelled (staff must say)."""

    reason = String(validate=Length(max=500), metadata={"description": "required for staff"})


class BookingQuery(_Strict):
    """Filters of the booking list."""

    status = String(validate=OneOf(tuple(BookingStatus)))
    base = String()
    limit = _limit(200, 1000)
    offset = _offset()


class BookingOut(Schema):
    """A booking (one session)."""

    id = String(metadata={"example": "K000123"})
    status = String()
    origin = String()
    participant = String()
    request = String(allow_none=True)
    base = String(allow_none=True)
    studio = String(allow_none=True)
    start = String(allow_none=True)
    end = String(allow_none=True)
    slots = List(String())
    created_at = String()
    cancelled_at = String(allow_none=True)


class WindowIn(_Strict):
    """When the sessions may take place (ISO 8601 with offset)."""

    start = DateTime(required=True, metadata={"example": "2026-12-08T00:00:00+08:00"})
    end = DateTime(required=True)


class PreferIn(_Strict):
    """Soft preferences: bases best first, prime time."""

    bases = List(String(), load_default=list)
    prime = Boolean(load_default=False)


class RequestIn(_Strict):
    """A request for the optimizer, shaped like the exchange format's."""

    sessions = Integer(required=True, strict=True)
    length = Integer(load_default=1, strict=True)
    window = Nested(WindowIn, required=True)
    bases = List(String(), allow_none=True, load_default=None)
    max_km = Float(
        allow_none=True,
        load_default=None,
        validate=Range(MIN_KM, MAX_KM),
        metadata={"description": f"distance limit in km, {MIN_KM} to {MAX_KM}; null for none"},
    )
    needs = List(
        String(validate=OneOf(KNOWN_FEATURES)),
        load_default=list,
        validate=Length(max=len(KNOWN_FEATURES)),
        metadata={"description": "studio features every session's studio must have"},
    )
    prefer = Nested(PreferIn, load_default=dict)


class WindowOut(Schema):
    """A request's window."""

    start = String()
    end = String()


class PreferOut(Schema):
    """A request's preferences."""

    bases = List(String())
    prime = Boolean()


class RequestOut(Schema):
    """A request, its state and how many sessions it has."""

    id = String(metadata={"example": "R000381"})
    participant = String()
    sessions = Integer()
    length = Integer()
    window = Nested(WindowOut)
    bases = List(String(), allow_none=True)
    max_km = Float(allow_none=True)
    needs = List(String())
    prefer = Nested(PreferOut)
    status = String(metadata={"description": "open or withdrawn (what the participant decided)"})
    state = String(
        validate=OneOf(tuple(RequestState)),
        metadata={
            "description": "the one status derived from the facts: placed, to_accept (proposals "
            "wait for an answer), placing, no_timetable (no base published its week inside the "
            "window yet: the request waits), ended, partly_placed, waiting, withdrawn",
            "example": "to_accept",
        },
    )
    served = Integer(
        metadata={"description": "active sessions it holds, the proposed (tentative) ones included"}
    )
    placement = String(
        allow_none=True,
        metadata={
            "description": "instant placement: queued, running, done or failed (see "
            "placement_reason); null for a request filed before instant placement",
            "example": "done",
        },
    )
    placement_reason = String(allow_none=True, metadata={"description": "why it failed"})
    created_at = String()


class RequestQuery(_Strict):
    """Filters of the request list."""

    status = String(validate=OneOf(tuple(RequestStatus)))
    limit = _limit(100, 500)
    offset = _offset()


class ErrorBody(Schema):
    """What went wrong: HTTP status, a stable reason and a sentence."""

    code = Integer()
    status = String()
    reason = String()
    message = String()
    detail = Dict(
        metadata={
            "description": "which slot / field / rule; for invalid input (reason `validation`) "
            "the location (`json`, `query`) and each field's messages"
        }
    )


class ErrorOut(Schema):
    """Every error answer of the API."""

    error = Nested(ErrorBody)
