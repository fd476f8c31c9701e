"""The whole programme's week: 1,000 digital-agriculture origin bases at real county seats.

``seed-demo --programme`` writes the 100 livestream bases of the demo plus these origin bases,
each in a distinct county of the cpca adcode table, taken round-robin over the provinces in an
order drawn from the seed, so the same seed always picks the same counties and every province
gets its share. Producers live in (or near) the county of an origin base.
"""

from __future__ import annotations

import random

from app.demo.world import FEATURE_ODDS, World, add_studio
from app.geo import Place, gazetteer

#: The programme's size, as the exchange's programme sample has it.
PROGRAMME_BASES = 100
PROGRAMME_ORIGIN_BASES = 1000
PROGRAMME_REQUESTS = 30_000
PROGRAMME_PARTICIPANTS = 18_000
#: An origin base is open 10:00–20:00 (five two-hour blocks a day).
ORIGIN_HOURS = (10, 20)
#: Chance that an origin base has a second studio.
SECOND_STUDIO = 0.22
#: Distance limits (km) a request of the programme may set; origin producers look close by.
PROGRAMME_KM = (50, 100, 200, 400, 600, 900, 1500)
#: County-level names that are rural counties, banners or county-level cities (not districts).
COUNTY_SUFFIXES = ("县", "旗", "市")


def pick_origin_counties(rng: random.Random, n: int, taken: set[str]) -> list[Place]:
    """``n`` distinct rural counties spread over provinces (round-robin), skipping ``taken``.

    Raises ValueError if the table has fewer than ``n`` such counties.
    """
    by_province: dict[str, list[Place]] = {}
    for place in gazetteer().counties(suffixes=COUNTY_SUFFIXES):
        if place.adcode not in taken:
            by_province.setdefault(place.province, []).append(place)
    if sum(len(v) for v in by_province.values()) < n:
        raise ValueError(f"the adcode table has fewer than {n} counties for origin bases")
    provinces = sorted(by_province)
    for p in provinces:
        rng.shuffle(by_province[p])
    out: list[Place] = []
    while len(out) < n:
        for p in provinces:
            if by_province[p] and len(out) < n:
                out.append(by_province[p].pop())
    return out


def build_origin_bases(world: World, rng: random.Random, n: int, first_number: int) -> list[Place]:
    """Append ``n`` origin bases (1–2 studios, farm features) with their slots; their places."""
    places = pick_origin_counties(rng, n, {h["adcode"] for h in world.hubs})
    slot_no = len(world.slots)
    open_hour, close_hour = ORIGIN_HOURS
    odds = FEATURE_ODDS["farm"]
    for i, place in enumerate(places):
        code = f"B{first_number + i:04d}"
        world.hubs.append(
            {
                "code": code,
                "name": f"{place.name}数字农业基地",
                "city": place.city,
                "province": place.province,
                "region": place.region,
                "lat": place.lat,
                "lon": place.lon,
                "adcode": place.adcode,
            }
        )
        world.templates.append({"hub_code": code, "open_hour": open_hour, "close_hour": close_hour})
        for s in range(2 if rng.random() < SECOND_STUDIO else 1):
            features = sorted(f for f in sorted(odds) if rng.random() < odds[f])
            slot_no = add_studio(world, rng, code, s, features, (open_hour, close_hour), slot_no)
    return places
