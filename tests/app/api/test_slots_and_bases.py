"""GET /api/v1/bases and GET /api/v1/slots: filters, states, local ISO times."""

from __future__ import annotations

from app.services.booking import service as booking
from tests.app.api.conftest import assert_error


def test_bases_list_studios_and_features(api):
    bases = api.get("/api/v1/bases", as_="op2").get_json()
    assert bases[0]["studios"] == [
        {"id": "B001-S1", "name": None, "features": ["cold_chain", "kitchen"]},
        {"id": "B001-S2", "name": None, "features": []},
    ]
    assert bases[1]["region"] == "central"


def test_slots_of_a_base_on_a_day_with_their_state(api, world):
    booking.book_slots(world.users["p2"], [world.slot("B001-S1", 1, 12)])
    day = (world.week_start.toordinal() + 1) - world.week_start.toordinal()
    date = world.local(day, 0).date().isoformat()
    r = api.get(f"/api/v1/slots?base=B001&date={date}", as_="p1")
    assert r.status_code == 200
    slots = r.get_json()
    assert len(slots) == 8 and {s["base"] for s in slots} == {"B001"}
    first = slots[0]
    assert set(first) == {"id", "studio", "base", "start", "end", "prime", "features", "state"}
    assert first["start"] == f"{date}T10:00:00+08:00" and first["end"] == f"{date}T12:00:00+08:00"
    states = {s["id"]: s["state"] for s in slots}
    assert states[world.slot("B001-S1", 1, 12)] == "booked"
    assert states[world.slot("B001-S1", 1, 10)] == "open"
    assert {s["prime"] for s in slots if s["start"].endswith("T20:00:00+08:00")} == {True}


def test_free_slots_exclude_booked_blocked_and_draft(api, world):
    booking.book_slots(world.users["p2"], [world.slot("B001-S2", 0, 12)])
    date = world.week_start.isoformat()
    slots = api.get(f"/api/v1/slots?base=B001&date={date}&free=true", as_="p1").get_json()
    ids = {s["id"] for s in slots}
    assert world.slot("B001-S2", 0, 12) not in ids  # booked
    assert world.slot("B001-S2", 0, 10) not in ids  # blocked
    assert len(ids) == 6 and {s["state"] for s in slots} == {"open"}
    every = api.get("/api/v1/slots", as_="p1").get_json()
    assert world.slot("B002-S1", 7, 10) not in {s["id"] for s in every}  # draft week
    assert len(every) == 3 * 3 * 4


def test_feature_filter_and_paging(api):
    slots = api.get("/api/v1/slots?feature=kitchen&feature=cold_chain", as_="p1").get_json()
    assert {s["studio"] for s in slots} == {"B001-S1"}
    page = api.get("/api/v1/slots?limit=5&offset=5", as_="p1").get_json()
    everything = api.get("/api/v1/slots", as_="p1").get_json()
    assert page == everything[5:10]


def test_bad_slot_queries_answer_json(api):
    assert_error(api.get("/api/v1/slots?base=B999", as_="p1"), 404, "not_found")
    assert_error(api.get("/api/v1/slots?date=tomorrow", as_="p1"), 422, "validation")
    assert_error(api.get("/api/v1/slots?limit=0", as_="p1"), 422, "validation")


def test_one_filter_shape_answers_for_each_value_it_is_given(api, world):
    # The slot list builds one statement per combination of filters and binds the values.
    date = world.week_start.isoformat()
    for base in ("B001", "B002", "B001"):
        slots = api.get(f"/api/v1/slots?base={base}&date={date}", as_="p1").get_json()
        assert slots and {s["base"] for s in slots} == {base}
    later = world.local(1, 0).date().isoformat()
    slots = api.get(f"/api/v1/slots?base=B001&date={later}", as_="p1").get_json()
    assert slots and {s["start"][:10] for s in slots} == {later}
