"""The week as plain data: frozen dataclasses mirroring ``livehub-instance/1`` and ``livehub-plan/1``.

Everything the solver, the greedy baseline and the validator need is here, already parsed
(aware datetimes, tuples instead of lists) and indexed by id. Nothing here knows about JSON
(see ``io.py``) or about OR-Tools (see ``model.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol
from zoneinfo import ZoneInfo

INSTANCE_FORMAT = "livehub-instance/1"
PLAN_FORMAT = "livehub-plan/1"


class Region(StrEnum):
    """China's seven macro-regions, as the exchange format names them."""

    EAST = "east"
    SOUTH = "south"
    NORTH = "north"
    CENTRAL = "central"
    SOUTHWEST = "southwest"
    NORTHWEST = "northwest"
    NORTHEAST = "northeast"


class Feature(StrEnum):
    """Studio features known today; the set may grow (an unknown feature is just a name)."""

    KITCHEN = "kitchen"
    COLD_CHAIN = "cold_chain"
    LARGE_SET = "large_set"
    GREEN_SCREEN = "green_screen"
    OUTDOOR = "outdoor"


class ParticipantKind(StrEnum):
    """A participant is a producer (grower, co-op) or a merchant (factory, brand, trader)."""

    PRODUCER = "producer"
    MERCHANT = "merchant"


REGIONS = tuple(r.value for r in Region)
FEATURES = tuple(f.value for f in Feature)
KINDS = tuple(k.value for k in ParticipantKind)
STATUSES = ("locked", "confirmed", "tentative")
CATEGORY_SEPARATIONS = ("base",)
#: The spec's weight of one served session by participant priority (1 regular, 2 small, 3 programme).
PRIORITY_WEIGHT = {1: 1, 2: 2, 3: 4}
EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres, exactly as the spec defines it."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Studio:
    id: str
    base: str
    features: frozenset[str]


@dataclass(frozen=True)
class Base:
    id: str
    name: str
    city: str
    province: str
    region: str
    lat: float
    lon: float
    studios: tuple[Studio, ...]


@dataclass(frozen=True)
class Slot:
    id: str
    studio: str
    start: datetime
    end: datetime
    prime: bool


@dataclass(frozen=True)
class Participant:
    id: str
    name: str
    kind: str
    province: str
    region: str
    lat: float
    lon: float
    priority: int
    #: what the participant sells (``tea``, ``citrus`` …); None when not known (rule 9)
    category: str | None = None
    #: prime-time sessions in the four weeks before this one; None when not known
    prime_recent: int | None = None

    @property
    def weight(self) -> int:
        return PRIORITY_WEIGHT[self.priority]


@dataclass(frozen=True)
class Harvest:
    """A perishable lot: every session starts at or after ``ready`` and ends by ``best_before``
    (rule 10)."""

    ready: datetime
    best_before: datetime


@dataclass(frozen=True)
class Request:
    id: str
    participant: str
    sessions: int
    length: int
    window_start: datetime
    window_end: datetime
    bases: tuple[str, ...] | None
    max_km: float | None
    needs: frozenset[str]
    prefer_bases: tuple[str, ...] = ()
    prefer_prime: bool = False
    harvest: Harvest | None = None


@dataclass(frozen=True)
class Booking:
    request: str
    slots: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class Policy:
    max_sessions_per_day: int | None = None
    same_day_same_base: bool = False
    freeze_until: datetime | None = None
    target_utilization: float = 1.0
    #: ``"base"``: same-category sessions of different participants never overlap at one base
    #: (rule 9); None: no such rule
    category_separation: str | None = None


class DayPolicy(Protocol):
    """What rule 6's day check needs of a week's policy (``Policy``, or the app's week row)."""

    @property
    def max_sessions_per_day(self) -> int | None: ...

    @property
    def same_day_same_base(self) -> bool: ...


def day_refusal(
    policy: DayPolicy, sessions_that_day: int, bases_that_day: Iterable[object], base: object
) -> str | None:
    """Why one more session of a participant on a local day at ``base`` breaks rule 6, or None.

    ``sessions_that_day`` and ``bases_that_day`` are that participant's sessions already on the
    day. ``"daily_cap"``: the day has ``max_sessions_per_day`` already; ``"same_day_same_base"``:
    the policy keeps a day at one base and another base has a session that day. The greedy
    baseline, the candidate filter, the explanation and the booking service all ask this; the
    validator checks the rule on its own, as the specification reads.
    """
    cap = policy.max_sessions_per_day
    if cap is not None and sessions_that_day >= cap:
        return "daily_cap"
    if policy.same_day_same_base and any(b != base for b in bases_that_day):
        return "same_day_same_base"
    return None


@dataclass(frozen=True)
class Instance:
    """One week of one scheduling problem (``livehub-instance/1``), indexed for fast lookups."""

    name: str
    timezone: str
    horizon_start: date
    horizon_days: int
    bases: tuple[Base, ...]
    slots: tuple[Slot, ...]
    participants: tuple[Participant, ...]
    requests: tuple[Request, ...]
    bookings: tuple[Booking, ...]
    policy: Policy = field(default_factory=Policy)

    @cached_property
    def tz(self) -> tzinfo:
        try:
            return ZoneInfo(self.timezone)
        except (KeyError, ValueError):  # pragma: no cover - io.py rejects unknown zones
            return timezone(timedelta(hours=8))

    @cached_property
    def base_by_id(self) -> dict[str, Base]:
        return {b.id: b for b in self.bases}

    @cached_property
    def studio_by_id(self) -> dict[str, Studio]:
        return {s.id: s for b in self.bases for s in b.studios}

    @cached_property
    def slot_by_id(self) -> dict[str, Slot]:
        return {s.id: s for s in self.slots}

    @cached_property
    def participant_by_id(self) -> dict[str, Participant]:
        return {p.id: p for p in self.participants}

    @cached_property
    def request_by_id(self) -> dict[str, Request]:
        return {r.id: r for r in self.requests}

    @cached_property
    def slots_by_studio(self) -> dict[str, tuple[Slot, ...]]:
        """Each studio's slots in time order."""
        out: dict[str, list[Slot]] = {s: [] for s in self.studio_by_id}
        for slot in self.slots:
            out[slot.studio].append(slot)
        return {k: tuple(sorted(v, key=lambda s: s.start)) for k, v in out.items()}

    @cached_property
    def slot_count_by_base(self) -> dict[str, int]:
        counts = {b.id: 0 for b in self.bases}
        for slot in self.slots:
            counts[self.studio_by_id[slot.studio].base] += 1
        return counts

    @cached_property
    def day_of_slot(self) -> dict[str, date]:
        """Each slot's local calendar day (its start's, in the instance's time zone)."""
        tz = self.tz
        return {s.id: s.start.astimezone(tz).date() for s in self.slots}

    def base_of_slot(self, slot_id: str) -> str:
        return self.studio_by_id[self.slot_by_id[slot_id].studio].base

    def local_day(self, instant: datetime) -> date:
        """The calendar day of an instant in the instance's time zone."""
        return instant.astimezone(self.tz).date()

    def distance_km(self, participant_id: str, base_id: str) -> float:
        p, b = self.participant_by_id[participant_id], self.base_by_id[base_id]
        return haversine_km(p.lat, p.lon, b.lat, b.lon)

    def weight_of(self, request_id: str) -> int:
        """Priority weight of one session of a request."""
        req = self.request_by_id[request_id]
        return self.participant_by_id[req.participant].weight


@dataclass(frozen=True)
class Assignment:
    """One session: a request and its ``length`` consecutive slots, in order."""

    request: str
    slots: tuple[str, ...]


@dataclass(frozen=True)
class Unassigned:
    request: str
    missing: int
    reason: str = ""


@dataclass(frozen=True)
class Plan:
    """One answer to an instance (``livehub-plan/1``): the whole week's sessions."""

    instance: str
    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
