"""The API's request and response bodies, as marshmallow schemas (they also make the spec).

Every id a client sees is the object's public code ("B017", "SL004211", "K000123",
"R000381"); times are ISO 8601 with the +08:00 offset of Asia/Shanghai.
"""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Date, DateTime, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import RAISE

SLOT_STATES = ("open", "booked", "blocked")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class TokenIn(_Strict):
    username = String(required=True, validate=Length(1, 80))
    password = String(required=True, validate=Length(1, 200))


class TokenOut(Schema):
    token = String(metadata={"description": "send as `Authorization: Bearer <token>`"})
    expires_in = Integer(metadata={"description": "seconds"})
    user = String()
    role = String()


class StudioOut(Schema):
    id = String()
    name = String(allow_none=True)
    features = List(String())


class BaseOut(Schema):
    id = String(metadata={"example": "B017"})
    name = String()
    city = String()
    province = String()
    region = String()
    lat = Float()
    lon = Float()
    studios = List(Nested(StudioOut))


class SlotQuery(_Strict):
    base = String(metadata={"description": "base id, e.g. B017"})
    date = Date(metadata={"description": "local calendar day (Asia/Shanghai), YYYY-MM-DD"})
    free = Boolean(load_default=False, metadata={"description": "only slots one can book"})
    feature = List(String(), metadata={"description": "studio must have every feature given"})
    limit = Integer(load_default=500, validate=Range(1, 2000))
    offset = Integer(load_default=0, validate=Range(0))


class SlotOut(Schema):
    id = String(metadata={"example": "SL004211"})
    studio = String()
    base = String()
    start = String(metadata={"description": "ISO 8601 with offset"})
    end = String()
    prime = Boolean()
    features = List(String())
    state = String(metadata={"description": "open, booked or blocked"})


class BookingIn(_Strict):
    slots = List(
        String(),
        required=True,
        validate=Length(min=1),
        metadata={"description": "consecutive slot ids of one studio"},
    )
    request = String(metadata={"description": "optional: the request this session serves"})


class CancelIn(_Strict):
    reason = String(validate=Length(max=500), metadata={"description": "required for staff"})


class BookingQuery(_Strict):
    status = String(validate=OneOf(("tentative", "confirmed", "locked", "cancelled")))
    base = String()
    limit = Integer(load_default=200, validate=Range(1, 1000))
    offset = Integer(load_default=0, validate=Range(0))


class BookingOut(Schema):
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
    start = DateTime(required=True, metadata={"example": "2026-12-08T00:00:00+08:00"})
    end = DateTime(required=True)


class PreferIn(_Strict):
    bases = List(String(), load_default=list)
    prime = Boolean(load_default=False)


class RequestIn(_Strict):
    sessions = Integer(required=True, strict=True)
    length = Integer(load_default=1, strict=True)
    window = Nested(WindowIn, required=True)
    bases = List(String(), allow_none=True, load_default=None)
    max_km = Float(allow_none=True, load_default=None)
    needs = List(String(), load_default=list)
    prefer = Nested(PreferIn, load_default=dict)


class WindowOut(Schema):
    start = String()
    end = String()


class PreferOut(Schema):
    bases = List(String())
    prime = Boolean()


class RequestOut(Schema):
    id = String(metadata={"example": "R000381"})
    participant = String()
    sessions = Integer()
    length = Integer()
    window = Nested(WindowOut)
    bases = List(String(), allow_none=True)
    max_km = Float(allow_none=True)
    needs = List(String())
    prefer = Nested(PreferOut)
    status = String()
    served = Integer(metadata={"description": "active sessions booked for it"})
    created_at = String()


class RequestQuery(_Strict):
    status = String(validate=OneOf(("open", "withdrawn")))


class ErrorBody(Schema):
    code = Integer()
    status = String()
    reason = String()
    message = String()
    detail = Nested(Schema, metadata={"description": "which slot / field / rule"})


class ErrorOut(Schema):
    error = Nested(ErrorBody)
