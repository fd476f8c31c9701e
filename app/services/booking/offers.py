"""What a search shows and how it is scored: an offer (one time at one base, its bookable
studios) and the participant's fit, in points (lower is better; see ``search``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.services.booking.open_slots import OpenSlot
from app.services.booking.slots import FreeSlot


@dataclass(frozen=True)
class Fit:
    """What ranks a result for one participant."""

    #: Base codes the participant prefers, best first.
    preferred: tuple[str, ...] = ()
    prime: bool = False
    #: The best-before of a harvest lot waiting to be sold: sooner is better until then.
    fresh_until: datetime | None = None


@dataclass(frozen=True)
class Offer:
    """One time at one base: the studios free then that the participant can book."""

    start: datetime
    end: datetime
    base_code: str
    base_name: str
    city: str
    km: float | None
    prime: bool
    #: The bookable studios (each a slot or a run of slots), plainest studio first.
    studios: tuple[FreeSlot, ...]
    score: float
    preferred: bool = False

    @property
    def count(self) -> int:
        return len(self.studios)

    @property
    def first(self) -> FreeSlot:
        return self.studios[0]

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature one of the studios has."""
        return tuple(sorted({f for s in self.studios for f in s.features}))


def time_points(start: datetime, fit: Fit, now: datetime) -> float:
    """The time term of the fit: 0.25 point per day from now (2 a day while a harvest lot
    waits, and 10 more after its best-before)."""
    days = max(0.0, (start - now).total_seconds() / 86400)
    if fit.fresh_until is not None:
        return 2.0 * days + (10.0 if start >= fit.fresh_until else 0.0)
    return 0.25 * days


def preference_points(base_code: str, fit: Fit) -> float:
    """The preference term: 4 points for the first preferred base, 0.5 less for each next one."""
    if base_code in fit.preferred:
        return 4.0 - 0.5 * min(fit.preferred.index(base_code), 6)
    return 0.0


def score(r: FreeSlot, fit: Fit, now: datetime) -> float:
    """The fit of one result in points (lower is better; see ``search``'s docstring)."""
    points = (r.km or 0.0) / 100
    points += time_points(r.start, fit, now)
    if r.base_code in fit.preferred:
        points -= preference_points(r.base_code, fit)
    if fit.prime and r.prime:
        points -= 3.0
    return points


def free_slot(s: OpenSlot, km: float | None) -> FreeSlot:
    """A kept slot (or run) as the result list shows it."""
    p = s.place
    return FreeSlot(
        s.code, s.start, s.end, s.prime, p.studio_code, p.studio_name, p.features,
        p.base_code, p.base_name, p.city, p.province, p.region, km,
        codes=s.codes, hub_id=p.hub_id, week_start=s.week_start,
    )  # fmt: skip
