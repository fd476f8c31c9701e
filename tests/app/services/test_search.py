"""Search offers only what the participant can book (each rule of their week, distance,
features, not started), one offer per time at a base, ranked by fit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.extensions import db
from app.models import Booking, HarvestLot
from app.services.booking import lifecycle
from app.services.booking import search as finder
from app.services.booking import service as booking_service
from app.services.booking.rules import RuleBroken
from app.services.booking.slots import SlotFilter


def _codes(found: finder.Search) -> set[str]:
    return {c for o in found.offers for s in o.studios for c in s.slot_codes}


def _book(world, user: str, *codes: str, tentative: bool = False) -> None:
    made = booking_service.book(world.users[user], list(codes))
    if tentative:  # as the optimizer proposes it: held, not yet accepted
        db.session.execute(update(Booking).where(Booking.id == made.id).values(status="tentative"))
        db.session.commit()


def _now(world):
    return world.local(0, 0) - timedelta(days=1)


def test_one_base_a_day_counts_an_unanswered_proposal(app, world):
    _book(world, "p1", world.slot("B002-S1", 0, 10), tentative=True)
    found = finder.search(world.participants["P001"], SlotFilter(), now=_now(world))
    codes = _codes(found)
    assert not any(c.startswith("B001") and "-D0-" in c for c in codes)  # another base that day
    assert world.slot("B002-S1", 0, 14) in codes  # the same base, same day: still fine
    assert world.slot("B001-S1", 1, 10) in codes  # another day: any base
    assert found.hidden["same_day_same_base"] > 0
    # What search offers, booking takes: every offered slot passes the booking's rules.
    for offer in found.offers:
        for studio in offer.studios:
            try:
                made = booking_service.book(world.users["p1"], list(studio.slot_codes))
            except RuleBroken as error:
                raise AssertionError(f"search offered {studio.slot_codes}: {error}") from error
            lifecycle.cancel(world.users["p1"], db.session.get(Booking, made.id))


def test_the_daily_cap_hides_a_full_day(app, world):
    _book(world, "p1", world.slot("B001-S1", 1, 10))
    _book(world, "p1", world.slot("B001-S1", 1, 14))
    codes = _codes(finder.search(world.participants["P001"], SlotFilter(), now=_now(world)))
    assert not any("-D1-" in c for c in codes)
    assert world.slot("B001-S1", 2, 10) in codes


def test_my_own_session_hides_the_other_studios_at_that_time(app, world):
    _book(world, "p1", world.slot("B001-S1", 2, 12))
    codes = _codes(finder.search(world.participants["P001"], SlotFilter(), now=_now(world)))
    assert world.slot("B001-S2", 2, 12) not in codes  # would overlap
    assert world.slot("B001-S2", 2, 14) in codes
    # A participant without that session still gets it.
    assert world.slot("B001-S2", 2, 12) in _codes(
        finder.search(world.participants["P002"], SlotFilter(), now=_now(world))
    )


def test_distance_features_and_started_slots(app, world):
    p1 = world.participants["P001"]  # Shouguang: ~150 km from Linyi, ~1,300 km from Ganzhou
    near = _codes(finder.search(p1, SlotFilter(max_km=500), now=_now(world)))
    assert near and all(c.startswith("B001") for c in near)
    kitchens = _codes(
        finder.search(p1, SlotFilter(features=frozenset({"kitchen"})), now=_now(world))
    )
    assert world.slot("B002-S1", 0, 10) in kitchens and world.slot("B001-S2", 0, 12) not in kitchens
    later = world.local(1, 0)
    started = _codes(finder.search(p1, SlotFilter(), now=later))
    assert world.slot("B001-S1", 0, 20) not in started and world.slot("B001-S1", 1, 10) in started


def test_one_offer_per_time_at_a_base_with_the_plainest_studio_first(app, world):
    found = finder.search(world.participants["P001"], SlotFilter(base="B001"), now=_now(world))
    at_ten = [o for o in found.offers if o.start == world.local(1, 10)]
    assert len(at_ten) == 1 and at_ten[0].count == 2
    assert at_ten[0].first.studio_code == "B001-S2"  # the kitchen studio stays for who needs it
    assert at_ten[0].features == ("cold_chain", "kitchen")
    blocked = [o for o in found.offers if o.start == world.local(0, 10)]
    assert blocked[0].count == 1  # B001-S2 is blocked then


def test_ranking_by_distance_preferred_base_prime_and_freshness(app, world):
    now = _now(world)
    p2 = world.participants["P002"]  # Ganzhou: the Ganzhou base is next door
    plain = finder.search(p2, SlotFilter(), now=now)
    assert plain.offers[0].base_code == "B002"
    preferring = finder.search(p2, SlotFilter(), now=now, fit=finder.Fit(preferred=("B001",)))
    # 4 points for a preferred base do not beat ~9 points of extra distance: Ganzhou stays first
    assert preferring.offers[0].base_code == "B002"
    p1 = world.participants["P001"]
    assert finder.search(p1, SlotFilter(), now=now).offers[0].base_code == "B001"
    assert (
        finder.search(p1, SlotFilter(), now=now, fit=finder.Fit(preferred=("B002",)))
        .offers[0]
        .base_code
        == "B001"
    )  # 1,300 km is too far for a preference
    first_prime = finder.search(p1, SlotFilter(base="B001"), now=now, prime=True).offers[0]
    assert first_prime.prime
    assert not finder.search(p1, SlotFilter(base="B001"), now=now).offers[0].prime

    # Prime wanted, no lot: the next day's prime slot beats this morning's plain one ...
    def order(found):
        return [o.start for o in found.offers]

    relaxed = order(finder.search(p1, SlotFilter(base="B001"), now=now, prime=True))
    assert relaxed.index(world.local(1, 20)) < relaxed.index(world.local(0, 10))
    # ... but with a harvest lot fresh until tomorrow, sooner wins.
    db.session.add(
        HarvestLot(
            code="L0001",
            participant_id=p1.id,
            product="黄瓜",
            unit="kg",
            ready_at=now,
            best_before=world.local(1, 0),
        )
    )
    db.session.commit()
    fresh = order(finder.search(p1, SlotFilter(base="B001"), now=now, prime=True))
    assert fresh.index(world.local(0, 10)) < fresh.index(world.local(1, 20))
    soonest = order(finder.search(p1, SlotFilter(base="B001"), now=now, sort="soonest"))
    assert soonest == sorted(soonest)


def test_preferred_bases_come_from_open_requests_and_recent_sessions(app, world):
    _book(world, "p3", world.slot("B002-S1", 2, 10))
    fit = finder.fit_for(world.participants["P003"].id, now=_now(world))
    assert fit.preferred == ("B002",)


def test_week_view_says_which_days_have_nothing_published(app, world):
    found = finder.search(world.participants["P001"], SlotFilter(), now=_now(world))
    days = finder.week_view(found, world.week_start)
    assert [d.published for d in days] == [True, True, True, False, False, False, False]
    assert all(d.offers for d in days[:3]) and len(days[0].offers) <= 4
