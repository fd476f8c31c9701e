"""Bad input anywhere answers 400/422 with a clear message, never a 500: a NUL byte in any
text field or query, offsets past a 64-bit integer, dates in year 1 or 9999 (on SQLite and on
PostgreSQL, which refuses NUL in text outright)."""

from __future__ import annotations

import pytest

from app.api.auth import issue_token
from tests.app.services.fixtures import app, world  # noqa: F401  (fixtures)
from tests.app.services.world import PASSWORD
from tests.app.web.conftest import FreshUserClient

Y1 = "0001-01-01"
Y9999 = "9999-12-31"

#: (who, method, url, body) — body is JSON under /api, a form otherwise.
CASES = [
    ("p1", "GET", "/api/v1/slots?base=B0%0001", None),
    ("p1", "GET", f"/api/v1/slots?date={Y1}", None),
    ("p1", "GET", f"/api/v1/slots?date={Y9999}", None),
    ("p1", "GET", "/api/v1/slots?offset=2147483648", None),
    ("p1", "GET", "/api/v1/slots?offset=9223372036854775808", None),
    ("p1", "GET", "/api/v1/bookings/K0%0001", None),
    ("p1", "GET", "/api/v1/requests/R0%0001", None),
    ("p1", "GET", "/api/v1/bookings?base=B%00", None),
    ("p1", "POST", "/api/v1/bookings", {"slots": ["SL\u00000001"]}),
    ("p1", "POST", "/api/v1/bookings", {"slots": ["B001-S1-D1-10"], "request": "R\u0000"}),
    ("p1", "POST", "/api/v1/requests", "needs-nul"),
    ("p1", "POST", "/api/v1/requests", "window-year-1"),
    ("p1", "POST", "/api/v1/requests", "window-year-9999"),
    (None, "POST", "/api/v1/tokens", {"username": "p\u00001", "password": "x"}),
    ("p1", "GET", "/me/slots?base=B%00", None),
    ("p1", "GET", "/me/slots?province=%00", None),
    ("p1", "GET", f"/me/slots?day={Y1}", None),
    ("p1", "GET", f"/me/slots?day={Y9999}", None),
    (
        "p1",
        "POST",
        "/me/requests/new",
        {"sessions": "1", "length": "1", "window_start": Y1, "window_end": Y1},
    ),
    (
        "p1",
        "POST",
        "/me/requests/new",
        {"sessions": "1", "length": "1", "window_start": Y9999, "window_end": Y9999},
    ),
    ("op1", "GET", "/operator/bases/B001/week?week=%00", None),
    ("op1", "GET", f"/operator/bases/B001/week?week={Y1}", None),
    ("op1", "GET", f"/operator/bases/B001/week?week={Y9999}", None),
    ("op1", "GET", f"/operator/bases/B001/bookings?week={Y9999}", None),
    ("op1", "POST", "/operator/slots/B001-S1-D1-10/book-for", {"participant": "P0\u000001"}),
    ("op1", "GET", "/runs/reoptimize?week=%00", None),
    ("op1", "GET", "/runs/99999999999999999999", None),
    (None, "POST", "/auth/login", {"username": "p\u00001", "password": "x"}),
]


def _request_body(world, kind: str) -> dict:  # noqa: F811
    start, end = world.local(0, 8).isoformat(), world.local(3, 0).isoformat()
    body = {"sessions": 1, "length": 1, "window": {"start": start, "end": end}}
    if kind == "needs-nul":
        body["needs"] = ["kitchen\u0000"]
    elif kind == "window-year-1":
        body["window"] = {"start": "0001-01-01T00:00:00+08:00", "end": "0001-01-02T00:00:00+08:00"}
    else:
        body["window"] = {"start": "9999-12-31T00:00:00-05:00", "end": "9999-12-31T23:00:00-05:00"}
    return body


def _client(app, who):  # noqa: F811
    app.test_client_class = FreshUserClient
    client = app.test_client()
    if who is not None:
        signed = client.post("/auth/login", data={"username": who, "password": PASSWORD})
        assert signed.status_code == 302
    return client


@pytest.mark.parametrize(("who", "method", "url", "body"), CASES, ids=lambda v: str(v)[:60])
def test_bad_input_is_a_clear_4xx_never_a_server_error(app, world, who, method, url, body):  # noqa: F811
    client = _client(app, who if not url.startswith("/api/") else None)
    headers = {}
    if url.startswith("/api/") and who is not None:
        headers["Authorization"] = f"Bearer {issue_token(world.users[who])}"
    if isinstance(body, str):
        body = _request_body(world, body)
    if url.startswith("/api/"):
        response = client.open(url, method=method, json=body, headers=headers)
    else:
        response = client.open(url, method=method, data=body, headers=headers)
    status = response.status_code
    assert status in (400, 404, 422), (status, response.get_data(as_text=True)[:300])
    if url.startswith("/api/"):
        error = response.get_json()["error"]
        assert error["code"] == status and error["message"]
    elif status == 400:
        assert "<html" in response.get_data(as_text=True)
