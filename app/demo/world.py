"""Deterministic demo world: bases, studios, slots, participants and requests as plain rows.

Everything is drawn from one ``random.Random(seed)`` in a fixed order over sorted inputs, so
the same (seed, week, bases, requests) always gives the same world. Existing bookings are
placed by ``app.demo.bookings``; writing to the database is ``app.demo.seed``'s job.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from app.demo.catalog import (
    BASE_PLACES,
    FARM_COUNTIES,
    MERCHANT_TRADES,
    PRODUCER_TRADES,
    TRADE_CATEGORIES,
)
from app.geo import Place, gazetteer
from app.models.vocabulary import REGIONS
from scheduler.domain import EARTH_RADIUS_KM

SLOT_HOURS = 2
PRIME_START_HOURS = (18, 20)  # prime time is 18:00–22:00 local
#: Chance that a studio has each feature, for an industrial belt and a farm-origin base.
#: With origin bases, the share of producers that live in an origin base's county.
ORIGIN_PRODUCERS = 0.8
#: Distance limits (km) a demo request may set.
DEMO_KM = (300, 500, 600, 800, 1000, 1500, 2000)
FEATURE_ODDS = {
    "belt": {
        "kitchen": 0.25,
        "cold_chain": 0.15,
        "large_set": 0.4,
        "green_screen": 0.45,
        "outdoor": 0.1,
    },
    "farm": {
        "kitchen": 0.5,
        "cold_chain": 0.45,
        "large_set": 0.2,
        "green_screen": 0.25,
        "outdoor": 0.35,
    },
}


@dataclass
class World:
    """The demo week as rows (codes instead of ids; instants aware)."""

    seed: int
    week_start: date
    tz: ZoneInfo
    hubs: list[dict] = field(default_factory=list)
    studios: list[dict] = field(default_factory=list)
    templates: list[dict] = field(default_factory=list)  # hub_code, open_hour, close_hour
    slots: list[dict] = field(default_factory=list)
    participants: list[dict] = field(default_factory=list)
    profiles: list[dict] = field(default_factory=list)  # participant_code, city, categories
    requests: list[dict] = field(default_factory=list)
    bookings: list[dict] = field(default_factory=list)

    def local(self, day: int, hour: int = 0) -> datetime:
        """Local midnight (or ``hour``) of the week's ``day``-th day, as an aware datetime."""
        d = self.week_start + timedelta(days=day)
        return datetime.combine(d, time(0), self.tz) + timedelta(hours=hour)


def interleaved_base_places(n: int) -> list[tuple[str, str]]:
    """The first ``n`` base places taken round-robin over the regions, so every N is spread."""
    queues = {r: list(BASE_PLACES[r]) for r in REGIONS}
    out: list[tuple[str, str]] = []
    while len(out) < n and any(queues.values()):
        for r in REGIONS:
            if queues[r] and len(out) < n:
                out.append(queues[r].pop(0))
    return out


def max_bases() -> int:
    return sum(len(v) for v in BASE_PLACES.values())


def build_hubs(
    world: World, rng: random.Random, n_bases: int, code_width: int = 3
) -> dict[str, str]:
    """Bases, their studios, timetables and published slots. Returns hub code → belt/farm."""
    g = gazetteer()
    kinds: dict[str, str] = {}
    slot_no = 0
    for i, (path, kind) in enumerate(sorted(interleaved_base_places(n_bases), key=_region_rank)):
        place = g.lookup(path)
        code = f"B{i + 1:0{code_width}d}"
        kinds[code] = kind
        label = place.city if place.name == place.city else f"{place.city}{place.name}"
        world.hubs.append(
            {
                "code": code,
                "name": f"{label}{'直播基地' if kind == 'belt' else '产地直播基地'}",
                "city": place.city,
                "province": place.province,
                "region": place.region,
                "lat": place.lat,
                "lon": place.lon,
                "adcode": place.adcode,
            }
        )
        open_hour, close_hour = (8, 24) if rng.random() < 0.6 else (10, 22)
        world.templates.append({"hub_code": code, "open_hour": open_hour, "close_hour": close_hour})
        for s in range(rng.randint(2, 8)):
            odds = FEATURE_ODDS[kind]
            features = sorted(f for f in sorted(odds) if rng.random() < odds[f])
            slot_no = add_studio(world, rng, code, s, features, (open_hour, close_hour), slot_no)
    return kinds


def add_studio(
    world: World,
    rng: random.Random,
    hub_code: str,
    position: int,
    features: list[str],
    hours: tuple[int, int],
    slot_no: int,
) -> int:
    """A studio of ``hub_code`` and its week of slots from ``hours`` (open, close); returns the
    last slot number used."""
    studio = f"{hub_code}-S{position + 1}"
    world.studios.append(
        {"code": studio, "hub_code": hub_code, "features": features, "position": position}
    )
    for day in range(7):
        for hour in range(hours[0], hours[1], SLOT_HOURS):
            slot_no += 1
            start = world.local(day, hour)
            world.slots.append(
                {
                    "code": f"SL{slot_no:06d}",
                    "studio_code": studio,
                    "hub_code": hub_code,
                    "start": start,
                    "end": start + timedelta(hours=SLOT_HOURS),
                    "prime": hour in PRIME_START_HOURS,
                    # A few blocks are closed for maintenance or a base's own shows.
                    "state": "blocked" if rng.random() < 0.01 else "open",
                }
            )
    return slot_no


def _region_rank(item: tuple[str, str]) -> int:
    region = next(r for r in REGIONS if any(p == item[0] for p, _ in BASE_PLACES[r]))
    return REGIONS.index(region)


def build_participants(
    world: World,
    rng: random.Random,
    n: int,
    kinds: dict[str, str],
    origins: list[Place] | None = None,
) -> None:
    """Producers in real farm counties, merchants in counties around the industrial belts.

    With ``origins`` (the programme's origin bases) most producers live in an origin county.
    """
    g = gazetteer()
    famous = [g.lookup(p) for p in FARM_COUNTIES]
    rural = g.counties(suffixes=("县", "旗"))
    belts = [h for h in world.hubs if kinds[h["code"]] == "belt"] or world.hubs
    near_belt = {
        h["code"]: g.counties(prefix=h["adcode"][:4]) or [g.lookup_adcode(h["adcode"])]
        for h in belts
    }
    used_names: dict[str, int] = {}
    for i in range(n):
        if rng.random() < 0.5:
            if origins and rng.random() < ORIGIN_PRODUCERS:
                place: Place = rng.choice(origins)
            else:
                place = rng.choice(famous) if rng.random() < 0.45 else rng.choice(rural)
            trade = rng.choice(PRODUCER_TRADES)
            kind, priority = "producer", rng.choices((1, 2, 3), (0.2, 0.3, 0.5))[0]
        else:
            hub = rng.choice(belts)
            place = rng.choice(near_belt[hub["code"]])
            trade, base_priority = rng.choice(MERCHANT_TRADES)
            kind = "merchant"
            priority = base_priority if rng.random() < 0.8 else 1
        name = f"{place.name}{trade}"
        used_names[name] = used_names.get(name, 0) + 1
        if used_names[name] > 1:
            name = f"{name}{used_names[name]}"
        world.participants.append(
            {
                "code": f"P{i + 1:05d}",
                "name": name,
                "kind": kind,
                "province": place.province,
                "county": place.name,
                "region": place.region,
                "lat": place.lat,
                "lon": place.lon,
                "priority": priority,
                "adcode": place.adcode,
            }
        )
        world.profiles.append(
            {
                "participant_code": f"P{i + 1:05d}",
                "city": place.prefecture,
                "categories": sorted(TRADE_CATEGORIES[trade]),
            }
        )


def distances_km(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances from one point to many (radians arrays), as ``haversine_km``."""
    p1, dl = math.radians(lat), lons - math.radians(lon)
    h = np.sin((lats - p1) / 2) ** 2 + math.cos(p1) * np.cos(lats) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))


def hub_arrays(world: World) -> tuple[np.ndarray, np.ndarray]:
    """The bases' latitudes and longitudes in radians, in ``world.hubs`` order."""
    lats = np.radians(np.array([h["lat"] for h in world.hubs], dtype=float))
    lons = np.radians(np.array([h["lon"] for h in world.hubs], dtype=float))
    return lats, lons


def build_requests(
    world: World, rng: random.Random, n: int, km_choices: tuple[int, ...] = DEMO_KM
) -> None:
    """Realistic requests: 1–3 sessions, some 2–3 slots long, 2–7 day windows, limits, needs.

    Distances to every base are one vector per request (a programme week has 1,100 bases and
    30,000 requests); bases at equal distance keep code order, as a sort on (km, code) would.
    """
    hubs = world.hubs
    codes = [h["code"] for h in hubs]
    index = {c: k for k, c in enumerate(codes)}
    hub_features: dict[str, list[frozenset[str]]] = {}
    for s in world.studios:
        hub_features.setdefault(s["hub_code"], []).append(frozenset(s["features"]))
    can_serve: dict[frozenset[str], np.ndarray] = {}

    def serves(needs: frozenset[str]) -> np.ndarray:
        if needs not in can_serve:
            can_serve[needs] = np.array(
                [any(needs <= f for f in hub_features.get(c, [])) for c in codes], dtype=bool
            )
        return can_serve[needs]

    lats, lons = hub_arrays(world)
    people = world.participants
    # Every participant asks at least once; the rest of the requests go to random participants.
    owners = list(range(len(people))) + [rng.randrange(len(people)) for _ in range(n)]
    owners = owners[:n]
    rng.shuffle(owners)
    for i, owner in enumerate(owners):
        p = people[owner]
        km = distances_km(p["lat"], p["lon"], lats, lons)
        near = np.argsort(km, kind="stable")
        mode = rng.random()
        bases: list[str] | None = None
        max_km: float | None = None
        eligible = np.ones(len(codes), dtype=bool)
        if mode < 0.4:
            k = rng.choices((1, 2, 3, 4, 5), (0.25, 0.25, 0.2, 0.15, 0.15))[0]
            k = min(k, len(codes))
            pool = [codes[j] for j in near[: max(k, 6)]]
            bases = sorted(rng.sample(pool, k))
            eligible = np.zeros(len(codes), dtype=bool)
            eligible[[index[c] for c in bases]] = True
        elif mode < 0.85:
            max_km = float(rng.choice(km_choices))
            nearest = float(km[near[0]])
            if nearest > max_km:
                max_km = float(math.ceil((nearest + 50) / 100) * 100)
            eligible = km <= max_km
        needs: set[str] = set()
        odds = (
            {"kitchen": 0.25, "cold_chain": 0.2}
            if p["kind"] == "producer"
            else {"large_set": 0.15, "green_screen": 0.15, "outdoor": 0.05}
        )
        for feature in sorted(odds):
            if rng.random() < odds[feature]:
                needs.add(feature)
        servable = eligible & serves(frozenset(needs))
        if not servable.any():
            needs = set()
            servable = eligible
        in_order = near[servable[near]]
        days = rng.randint(2, 7)
        first = rng.randint(0, 7 - days)
        world.requests.append(
            {
                "code": f"R{i + 1:06d}",
                "participant_code": p["code"],
                "sessions": rng.choices((1, 2, 3), (0.5, 0.35, 0.15))[0],
                "length": rng.choices((1, 2, 3), (0.7, 0.22, 0.08))[0],
                "window_start": world.local(first),
                "window_end": world.local(first + days),
                "bases": bases,
                "max_km": max_km,
                "needs": sorted(needs),
                "prefer": [codes[j] for j in in_order[: rng.randint(1, 3)]],
                "prefer_prime": rng.random() < 0.6,
            }
        )
