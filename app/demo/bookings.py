"""Existing bookings for the demo week, in every status, that obey every hard rule.

Placement mirrors what the product would have done before an optimizer run: some requests
were partly served (tentative proposals, confirmed, operator-locked), some bookings were
cancelled, and some participants booked a slot directly without a request. Each placement
checks the spec's hard rules: eligible studio (base list, distance, features), window,
consecutive free slots, at most ``sessions`` per request, and per participant no overlap,
at most ``max_sessions_per_day`` starts a day and one base a day.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from app.demo.world import World, distances_km, hub_arrays
from scheduler.domain import haversine_km

ACTIVE_MIX = (("tentative", 0.5), ("confirmed", 0.4), ("locked", 0.1))
ORIGIN_OF = {"tentative": "optimizer", "confirmed": "participant", "locked": "operator"}


@dataclass
class _Calendar:
    """What each participant already has, to keep the per-participant rules."""

    max_per_day: int
    same_day_same_base: bool
    sessions: dict[str, list[tuple[datetime, datetime, str, date]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def fits(self, who: str, start: datetime, end: datetime, hub: str, day: date) -> bool:
        mine = self.sessions[who]
        if any(s < end and start < e for s, e, _, _ in mine):
            return False
        same_day = [h for _, _, h, d in mine if d == day]
        if len(same_day) >= self.max_per_day:
            return False
        return not (self.same_day_same_base and any(h != hub for h in same_day))

    def add(self, who: str, start: datetime, end: datetime, hub: str, day: date) -> None:
        self.sessions[who].append((start, end, hub, day))


def place_bookings(
    world: World,
    rng: random.Random,
    *,
    max_per_day: int,
    same_day_same_base: bool,
    share: float = 0.22,
    cancelled_share: float = 0.08,
    direct_share: float = 0.03,
) -> None:
    """Fill ``world.bookings`` (each: code, request/participant code, status, origin, slots)."""
    studios_of: dict[str, list[dict]] = defaultdict(list)
    features = {s["code"]: frozenset(s["features"]) for s in world.studios}
    for s in world.studios:
        studios_of[s["hub_code"]].append(s)
    runs: dict[str, list[dict]] = defaultdict(list)
    for slot in world.slots:
        runs[slot["studio_code"]].append(slot)
    for v in runs.values():
        v.sort(key=lambda s: s["start"])
    held: set[str] = set()
    cal = _Calendar(max_per_day, same_day_same_base)
    people = {p["code"]: p for p in world.participants}
    hubs = {h["code"]: h for h in world.hubs}
    tz = world.tz

    def candidates(who: str, studio: dict, length: int, w0: datetime, w1: datetime) -> list:
        seq = runs[studio["code"]]
        out = []
        for i in range(len(seq) - length + 1):
            block = seq[i : i + length]
            if block[0]["start"] < w0 or block[-1]["end"] > w1:
                continue
            if any(b["state"] != "open" or b["code"] in held for b in block):
                continue
            if any(block[k]["end"] != block[k + 1]["start"] for k in range(length - 1)):
                continue
            day = block[0]["start"].astimezone(tz).date()
            if cal.fits(who, block[0]["start"], block[-1]["end"], studio["hub_code"], day):
                out.append(block)
        return out

    def book(request: str | None, who: str, block: list[dict], status: str, origin: str) -> None:
        start, end = block[0]["start"], block[-1]["end"]
        hub = block[0]["hub_code"]
        if status != "cancelled":
            held.update(b["code"] for b in block)
            cal.add(who, start, end, hub, start.astimezone(tz).date())
        world.bookings.append(
            {
                "code": f"K{len(world.bookings) + 1:06d}",
                "request_code": request,
                "participant_code": who,
                "status": status,
                "origin": origin,
                "slot_codes": [b["code"] for b in block],
            }
        )

    codes = [h["code"] for h in world.hubs]
    lats, lons = hub_arrays(world)
    chosen = [r for r in world.requests if rng.random() < share]
    for r in chosen:
        who = r["participant_code"]
        p = people[who]
        allowed = r["bases"] or sorted(hubs)
        if r["bases"] is None and r["max_km"] is not None:
            # A vector prefilter with a margin; the exact check below decides.
            km = distances_km(p["lat"], p["lon"], lats, lons)
            allowed = sorted(codes[j] for j in np.flatnonzero(km <= r["max_km"] + 1.0))
        eligible = [
            s
            for h in allowed
            if r["max_km"] is None
            or haversine_km(p["lat"], p["lon"], hubs[h]["lat"], hubs[h]["lon"]) <= r["max_km"]
            for s in studios_of[h]
            if set(r["needs"]) <= features[s["code"]]
        ]
        rng.shuffle(eligible)
        wanted = rng.randint(1, r["sessions"])
        for _ in range(wanted):
            for studio in eligible[:10]:
                options = candidates(who, studio, r["length"], r["window_start"], r["window_end"])
                if options:
                    block = rng.choice(options)
                    if rng.random() < cancelled_share:
                        book(r["code"], who, block, "cancelled", "participant")
                        continue
                    status = rng.choices([s for s, _ in ACTIVE_MIX], [w for _, w in ACTIVE_MIX])[0]
                    book(r["code"], who, block, status, ORIGIN_OF[status])
                    break

    # Direct bookings: a participant picks one free slot (or two) at one of its nearest bases.
    for who in sorted(people):
        if rng.random() >= direct_share:
            continue
        p = people[who]
        near = sorted(
            (haversine_km(p["lat"], p["lon"], h["lat"], h["lon"]), c) for c, h in hubs.items()
        )
        hub = near[rng.randrange(min(3, len(near)))][1]
        studio = rng.choice(studios_of[hub])
        length = 1 if rng.random() < 0.8 else 2
        options = candidates(who, studio, length, world.local(1), world.local(7))
        if options:
            status = "confirmed" if rng.random() < 0.8 else "locked"
            book(None, who, rng.choice(options), status, "participant")
