"""Every API list is paged (limit with a default and a maximum, offset), says where the next
page is in a ``Link`` header, and costs a constant number of queries whatever its length."""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event

from app.extensions import db
from app.services.booking import requests as request_service
from app.services.booking import service as booking_service
from tests.app.api.conftest import assert_error

LISTS = ("/api/v1/bases", "/api/v1/slots", "/api/v1/bookings", "/api/v1/requests")


def file_requests(world, n: int, who: str = "p1") -> None:
    for i in range(n):
        request_service.file_request(
            world.users[who],
            sessions=1,
            length=1,
            window_start=world.local(0, 8),
            window_end=world.local(3, 0),
            bases=["B001", "B002"] if i % 2 else None,
            prefer_bases=["B002"],
        )


@contextmanager
def counted_queries():
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def next_link(response) -> str | None:
    link = response.headers.get("Link")
    if not link:
        return None
    assert link.endswith('>; rel="next"'), link
    url = urlsplit(link[1 : link.index(">")])
    return f"{url.path}?{url.query}"


def test_the_request_list_pages_through_everything_once(api, world):
    file_requests(world, 7)
    seen, url, pages = [], "/api/v1/requests?limit=3", 0
    while url:
        r = api.get(url, as_="admin")
        assert r.status_code == 200, r.get_json()
        assert len(r.get_json()) <= 3
        seen += [x["id"] for x in r.get_json()]
        url, pages = next_link(r), pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) == 7


def test_every_list_has_a_default_and_a_maximum_page(api, world):
    file_requests(world, 3)
    for hour in (10, 14):
        booking_service.book(world.users["p1"], [world.slot("B001-S1", 1, hour)])
    for path in LISTS:
        assert api.get(path, as_="admin").status_code == 200, path
        assert_error(api.get(f"{path}?limit=100000", as_="admin"), 422, "validation")
        assert_error(api.get(f"{path}?limit=0", as_="admin"), 422, "validation")
        one = api.get(f"{path}?limit=1", as_="admin")
        assert len(one.get_json()) == 1, path
        assert next_link(one) is not None, path  # every list here has two rows or more


@pytest.mark.parametrize("offset", ["2147483648", "9223372036854775808", "-1", "1e3"])
def test_an_offset_out_of_range_is_refused_not_a_server_error(api, world, offset):
    for path in LISTS:
        assert_error(api.get(f"{path}?offset={offset}", as_="admin"), 422, "validation")


def test_listing_requests_costs_the_same_queries_for_few_or_many(api, world):
    file_requests(world, 3)
    with counted_queries() as few:
        assert len(api.get("/api/v1/requests", as_="admin").get_json()) == 3
    file_requests(world, 30, who="p2")
    with counted_queries() as many:
        assert len(api.get("/api/v1/requests", as_="admin").get_json()) == 33
    assert len(many) <= len(few) <= 8, many
