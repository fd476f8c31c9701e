"""Random but realistic weeks, in the shape of the shared samples, deterministic for a seed.

``generate(size, seed=...)`` returns an :class:`Instance` like ``shared/instances/sample-*.json``:
bases with 2–6 studios and their features, a week of 2-hour slots (08:00–24:00 or 10:00–22:00,
prime from 18:00 to 22:00), producers and merchants of the seven macro-regions with priorities
1–3, requests with windows, allowed bases, distance limits, needs and preferences, and bookings
in every status that obey every hard rule, some of them before ``freeze_until`` (one day after
the start). The mix of each field follows the samples. Coordinates are synthetic (scattered
around a rough centre of each macro-region), which keeps distances realistic without a gazetteer.

Sizes: ``tiny`` for property tests (a few seconds of CP-SAT at most), ``S`` / ``M`` / ``L`` of the
small / medium / national samples' size, ``P`` of the whole programme's (100 livestream bases
and 1,000 origin bases of 1-2 studios, most producers next to one; ~30,000 requests).

``programme=True`` adds what the whole-programme samples carry: each participant's ``category``
and ``prime_recent``, ``harvest`` lots on about half of the producers' requests, and
``policy.category_separation = "base"``; bookings then obey rules 9 and 10 too. These fields are
drawn from their own random stream, so the rest of a week is the same with or without them.
"""

from __future__ import annotations

import dataclasses
import random
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from scheduler.domain import INSTANCE_FORMAT, Booking, Instance, Request, Slot
from scheduler.greedy import Calendar
from scheduler.io import load_instance
from scheduler.reach import Reach


@dataclass(frozen=True)
class Size:
    bases: int
    participants: int
    requests: int
    days: int = 7
    booked_share: float = 0.2  # requests that hold bookings already
    studios: tuple[int, ...] = (2, 3, 4, 4, 5, 5, 6)  # studios per base, drawn uniformly
    local: bool = False  # participants next to a base (so that a tiny week is not all too far)
    #: digital agriculture ("origin") bases after the livestream ones: 1-2 small studios open
    #: 10:00-20:00; most producers live next to one (the whole-programme week)
    origin_bases: int = 0


SIZES: dict[str, Size] = {
    "tiny": Size(
        bases=3,
        participants=10,
        requests=14,
        days=3,
        booked_share=0.3,
        studios=(1, 2, 3),
        local=True,
    ),
    "S": Size(bases=12, participants=180, requests=300),
    "M": Size(bases=20, participants=720, requests=1200),
    "L": Size(bases=100, participants=3600, requests=6000),
    #: the whole programme: 100 livestream bases and 1,000 origin bases (sample-programme's shape)
    "P": Size(bases=100, participants=18000, requests=30000, origin_bases=1000),
}

START = date(2026, 12, 7)
TIMEZONE = "Asia/Shanghai"
#: Rough centre (lat, lon) of each macro-region, a few provinces in it, and its weight among
#: participants (the samples' mix: the east dominates).
REGIONS = {
    "east": ((31.5, 119.0), ("浙江省", "江苏省", "山东省", "福建省", "安徽省"), 0.36),
    "south": ((23.5, 112.0), ("广东省", "广西壮族自治区", "海南省"), 0.05),
    "north": ((39.0, 115.5), ("河北省", "北京市", "山西省", "内蒙古自治区"), 0.08),
    "central": ((30.0, 113.0), ("湖北省", "湖南省", "河南省", "江西省"), 0.07),
    "southwest": ((27.5, 104.5), ("四川省", "云南省", "贵州省", "重庆市"), 0.14),
    "northwest": ((37.0, 103.0), ("陕西省", "甘肃省", "宁夏回族自治区", "新疆维吾尔自治区"), 0.15),
    "northeast": ((44.0, 126.0), ("黑龙江省", "吉林省", "辽宁省"), 0.10),
}
REGION_ZH = {
    "east": "华东",
    "south": "华南",
    "north": "华北",
    "central": "华中",
    "southwest": "西南",
    "northwest": "西北",
    "northeast": "东北",
}
STUDIO_FEATURES = (
    ((), 0.30),
    (("kitchen",), 0.12),
    (("green_screen",), 0.11),
    (("cold_chain",), 0.05),
    (("large_set",), 0.05),
    (("outdoor",), 0.04),
    (("green_screen", "kitchen"), 0.07),
    (("cold_chain", "green_screen"), 0.06),
    (("cold_chain", "kitchen"), 0.06),
    (("kitchen", "large_set"), 0.04),
    (("cold_chain", "large_set"), 0.03),
    (("green_screen", "kitchen", "large_set"), 0.03),
    (("cold_chain", "green_screen", "kitchen"), 0.03),
    (("cold_chain", "green_screen", "kitchen", "large_set"), 0.01),
)
NEEDS = (
    ((), 0.57),
    (("kitchen",), 0.14),
    (("green_screen",), 0.09),
    (("cold_chain",), 0.07),
    (("large_set",), 0.06),
    (("cold_chain", "kitchen"), 0.05),
    (("green_screen", "large_set"), 0.02),
)
MAX_KM = (None, 200, 400, 600, 900, 1500)
#: What producers and merchants sell (the samples' categories).
PRODUCE: tuple[str, ...] = ("citrus", "apple", "vegetables", "seafood", "tea", "berries", "rice")
PRODUCE += ("mushroom", "pork", "honey", "nuts")
GOODS = ("apparel", "furniture", "toys", "electronics", "home", "beauty", "snacks", "shoes")
#: Prime-time sessions in the four weeks before, as in the samples.
PRIME_RECENT = ((0, 0.40), (1, 0.19), (2, 0.12), (3, 0.09), (4, 0.085), (6, 0.075), (8, 0.04))
HARVEST_SHARE = 0.55  # of the producers' requests
STATUS = (("tentative", 0.5), ("confirmed", 0.38), ("locked", 0.12))


T = TypeVar("T")


def _pick(rng: random.Random, table: Sequence[tuple[T, float]]) -> T:
    values = [v for v, _ in table]
    return rng.choices(values, [w for _, w in table])[0]


def _near(rng: random.Random, centre: tuple[float, float], spread: float) -> tuple[float, float]:
    return (
        round(centre[0] + rng.uniform(-spread, spread), 6),
        round(centre[1] + rng.uniform(-spread, spread) * 1.3, 6),
    )


def generate(size: str = "M", *, seed: int = 0, programme: bool = False) -> Instance:
    """A random week of the given size (``tiny``, ``S``, ``M``, ``L``); same seed, same week.
    ``programme`` adds categories, ``prime_recent``, harvest lots and category separation."""
    spec = SIZES[size]
    rng = random.Random(f"chunlei:{size}:{seed}")
    tz = ZoneInfo(TIMEZONE)

    def at(day: int, hour: int = 0) -> datetime:
        return datetime.combine(START + timedelta(days=day), time(hour), tz)

    regions = list(REGIONS)
    weights = [REGIONS[g][2] for g in regions]
    bases: list[dict[str, Any]] = []
    slots: list[dict[str, Any]] = []
    for i in range(1, spec.bases + 1):
        region = rng.choices(regions, weights)[0]
        centre, provinces, _ = REGIONS[region]
        lat, lon = _near(rng, centre, 3.0)
        bid = f"B{i:03d}"
        studios = []
        for j in range(1, rng.choice(spec.studios) + 1):
            sid = f"{bid}-S{j}"
            studios.append({"id": sid, "features": list(_pick(rng, STUDIO_FEATURES))})
            hours = range(8, 24, 2) if rng.random() < 0.7 else range(10, 22, 2)
            _week_of_slots(slots, sid, spec.days, hours, at)
        bases.append(
            {
                "id": bid,
                "name": f"{REGION_ZH[region]}{i}号直播基地",
                "city": "",
                "province": rng.choice(provinces),
                "region": region,
                "lat": lat,
                "lon": lon,
                "studios": studios,
            }
        )

    origins = _origin_bases(spec, rng, bases, slots, at)

    participants: list[dict[str, Any]] = []
    for i in range(1, spec.participants + 1):
        region = rng.choices(regions, weights)[0]
        centre, provinces, _ = REGIONS[region]
        if spec.local:
            home = rng.choice(bases)
            region, centre = home["region"], (home["lat"], home["lon"])
            provinces = REGIONS[region][1]
        kind = "producer" if rng.random() < 0.46 else "merchant"
        if origins and kind == "producer" and rng.random() < 0.85:  # farms next to an origin
            home = rng.choice(origins)
            region, centre = home["region"], (home["lat"], home["lon"])
            provinces = (home["province"],)
        priority = rng.choices(
            (1, 2, 3), (0.3, 0.37, 0.33) if kind == "producer" else (0.5, 0.33, 0.17)
        )[0]
        province = rng.choice(provinces)
        spread = 0.6 if origins and kind == "producer" and len(provinces) == 1 else 4.0
        lat, lon = _near(rng, centre, 2.0 if spec.local else spread)
        participants.append(
            {
                "id": f"P{i:05d}",
                "name": f"{province}{'合作社' if kind == 'producer' else '品牌店'}{i}",
                "kind": kind,
                "province": province,
                "region": region,
                "lat": lat,
                "lon": lon,
                "priority": priority,
            }
        )

    # Requests: a few participants ask often (the samples have 1-7 requests per participant).
    activity = [rng.paretovariate(2.0) for _ in participants]
    cum_activity = list(accumulate(activity))  # what choices() sums itself on every call
    requests: list[dict[str, Any]] = []
    nearest = _Nearest(bases)
    for i in range(1, spec.requests + 1):
        p = rng.choices(participants, cum_weights=cum_activity)[0]
        days = rng.choices((2, 3, 4, 5, 6, 7), (0.3, 0.25, 0.19, 0.15, 0.08, 0.03))[0]
        days = min(days, spec.days)
        end = spec.days if rng.random() < 0.6 else rng.randint(days, spec.days)
        near = nearest(p)
        allowed = None
        if rng.random() < 0.23:
            allowed = sorted(b["id"] for b in near[: rng.randint(1, 5)])
        pool = [b["id"] for b in near[:4] if allowed is None or b["id"] in allowed]
        prefer = rng.sample(
            pool, min(len(pool), rng.choices((0, 1, 2, 3), (0.32, 0.35, 0.2, 0.13))[0])
        )
        requests.append(
            {
                "id": f"R{i:06d}",
                "participant": p["id"],
                "sessions": rng.choices((1, 2, 3), (0.5, 0.33, 0.17))[0],
                "length": rng.choices((1, 2, 3), (0.7, 0.25, 0.05))[0],
                "window": {"start": at(end - days).isoformat(), "end": at(end).isoformat()},
                "bases": allowed,
                "max_km": rng.choice(MAX_KM),
                "needs": list(_pick(rng, NEEDS)),
                "prefer": {"bases": prefer, "prime": rng.random() < 0.5},
            }
        )

    doc = {
        "format": INSTANCE_FORMAT,
        "name": f"generated-{size}-seed{seed}",
        "timezone": TIMEZONE,
        "horizon": {"start": START.isoformat(), "days": spec.days},
        "bases": bases,
        "slots": slots,
        "participants": participants,
        "requests": requests,
        "bookings": [],
        "policy": {
            "max_sessions_per_day": 2,
            "same_day_same_base": True,
            "freeze_until": at(1).isoformat(),
            "target_utilization": 0.85,
        },
    }
    if programme:
        _programme(doc, random.Random(f"chunlei:{size}:{seed}:programme"), at)
    inst = load_instance(doc)
    booked = doc["bookings"] = _bookings(inst, rng, spec.booked_share)
    # The week read once: its bookings (made here, on its own ids) added as load_instance would.
    return dataclasses.replace(
        inst,
        bookings=tuple(
            Booking(request=b["request"], slots=tuple(b["slots"]), status=b["status"])
            for b in booked
        ),
    )


class _Nearest:
    """The five bases nearest a participant (squared degrees, ties in base order), once each:
    what ``sorted(bases, key=distance)[:5]`` gives, without sorting every base per request."""

    def __init__(self, bases: list[dict[str, Any]]) -> None:
        import numpy as np

        self.np, self.bases = np, bases
        self.lat = np.array([b["lat"] for b in bases], dtype=np.float64)
        self.lon = np.array([b["lon"] for b in bases], dtype=np.float64)
        self.memo: dict[str, list[dict[str, Any]]] = {}

    def __call__(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.memo.get(p["id"])
        if found is None:
            d = (self.lat - p["lat"]) ** 2 + (self.lon - p["lon"]) ** 2
            order = self.np.argsort(d, kind="stable")[:5]
            found = self.memo[p["id"]] = [self.bases[int(k)] for k in order]
        return found


def _week_of_slots(
    slots: list[dict[str, Any]],
    studio: str,
    days: int,
    hours: range,
    at: Callable[..., datetime],
) -> None:
    """Append the studio's two-hour slots starting at ``hours`` on each of ``days`` days."""
    for d in range(days):
        for h in hours:
            slots.append(
                {
                    "id": f"SL{len(slots) + 1:06d}",
                    "studio": studio,
                    "start": at(d, h).isoformat(),
                    "end": (at(d, h) + timedelta(hours=2)).isoformat(),
                    "prime": 18 <= h < 22,
                }
            )


def _origin_bases(
    spec: Size,
    rng: random.Random,
    bases: list[dict[str, Any]],
    slots: list[dict[str, Any]],
    at: Callable[..., datetime],
) -> list[dict[str, Any]]:
    """``spec.origin_bases`` digital agriculture bases (appended to ``bases``, their slots to
    ``slots``): one or two studios each, often with cold chain, open 10:00-20:00."""
    regions = list(REGIONS)
    weights = [REGIONS[g][2] for g in regions]
    origins = []
    first = len(bases) + 1
    for i in range(first, first + spec.origin_bases):
        region = rng.choices(regions, weights)[0]
        centre, provinces, _ = REGIONS[region]
        lat, lon = _near(rng, centre, 4.0)
        bid = f"B{i:04d}"
        studios = []
        for j in range(1, rng.choice((1, 1, 2)) + 1):
            sid = f"{bid}-S{j}"
            features = ["cold_chain"] if rng.random() < 0.35 else list(_pick(rng, STUDIO_FEATURES))
            studios.append({"id": sid, "features": features})
            _week_of_slots(slots, sid, spec.days, range(10, 20, 2), at)
        base = {
            "id": bid,
            "name": f"{REGION_ZH[region]}{i}号数字农业基地",
            "city": "",
            "province": rng.choice(provinces),
            "region": region,
            "lat": lat,
            "lon": lon,
            "studios": studios,
        }
        bases.append(base)
        origins.append(base)
    return origins


def _programme(doc: dict[str, Any], rng: random.Random, at: Callable[..., datetime]) -> None:
    """Categories, ``prime_recent``, harvest lots and category separation, in place."""
    kinds: dict[str, str] = {}
    for p in doc["participants"]:
        p["category"] = rng.choice(PRODUCE if p["kind"] == "producer" else GOODS)
        p["prime_recent"] = _pick(rng, PRIME_RECENT)
        kinds[p["id"]] = p["kind"]
    days = doc["horizon"]["days"]
    for r in doc["requests"]:
        if kinds[r["participant"]] != "producer" or rng.random() >= HARVEST_SHARE:
            continue
        first = datetime.fromisoformat(r["window"]["start"]).date() - START
        ready = at(min(days - 1, first.days + rng.randint(0, 1)), 6)
        best_before = at(min(days, (ready.date() - START).days + rng.randint(2, 4)))
        r["harvest"] = {"ready": ready.isoformat(), "best_before": best_before.isoformat()}
    doc["policy"]["category_separation"] = "base"


def _bookings(inst: Instance, rng: random.Random, share: float) -> list[dict[str, Any]]:
    """Bookings that obey every hard rule together: random runs (not the earliest) of a share of
    the requests, placed one by one on a calendar that enforces the participant's rules."""
    cal, reach = Calendar(inst), Reach(inst)
    starts = {sid: [s.start for s in slots] for sid, slots in inst.slots_by_studio.items()}
    out = []
    for r in rng.sample(inst.requests, round(share * len(inst.requests))):
        # eligible_bases(inst, r) in its order (preferred, then nearest), distances by numpy
        studios_of = reach.studios(r.needs)
        studios = [s for i in reach.preferred(r) + reach.rest(r) for s in studios_of[i]]
        if not studios:
            continue
        for _ in range(rng.randint(1, r.sessions)):
            for _attempt in range(20):
                run = _random_run(inst, rng, r, rng.choice(studios), starts)
                if run is None:
                    continue
                base = inst.studio_by_id[run[0].studio].base
                if (
                    all(s.id not in cal.used for s in run)
                    and cal.participant_can(r.participant, base, run[0], run[-1].end)
                    and cal.category_free(r.participant, base, run[0].start, run[-1].end)
                ):
                    cal.take(r, run)
                    out.append(
                        {
                            "request": r.id,
                            "slots": [s.id for s in run],
                            "status": _pick(rng, STATUS),
                        }
                    )
                    break
    return out


def _random_run(
    inst: Instance,
    rng: random.Random,
    r: Request,
    studio: str,
    starts: dict[str, list[datetime]],
) -> tuple[Slot, ...] | None:
    """A random run of ``r.length`` consecutive slots of ``studio`` inside the window (and the
    harvest lot), or None."""
    lo, hi = r.window_start, r.window_end
    if r.harvest is not None:
        lo, hi = max(lo, r.harvest.ready), min(hi, r.harvest.best_before)
    at = starts[studio]  # the studio's slots are in time order
    slots = inst.slots_by_studio[studio][bisect_left(at, lo) : bisect_left(at, hi)]
    if len(slots) < r.length:
        return None
    i = rng.randrange(len(slots) - r.length + 1)
    run = tuple(slots[i : i + r.length])
    if run[-1].end > hi or any(x.end != y.start for x, y in zip(run, run[1:], strict=False)):
        return None
    return run
