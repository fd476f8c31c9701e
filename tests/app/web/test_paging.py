"""Lists on the pages come in pages of PAGE_SIZE with previous/next links; a bad page number is
a 400 page saying why."""

from __future__ import annotations

from app.main.paging import PAGE_SIZE
from app.services.booking import requests as request_service


def test_my_requests_come_in_pages(login, world):
    for _ in range(PAGE_SIZE + 3):
        request_service.file_request(
            world.users["p1"],
            sessions=1,
            length=1,
            window_start=world.local(0, 8),
            window_end=world.local(3, 0),
        )
    client = login("p1")
    first = client.get("/me/requests").get_data(as_text=True)
    assert first.count("/me/requests/R") == PAGE_SIZE and 'rel="next"' in first
    second = client.get("/me/requests?page=2").get_data(as_text=True)
    assert second.count("/me/requests/R") == 3 and 'rel="prev"' in second
    assert 'rel="next"' not in second
    for bad, says in (("0", "page number"), ("x", "page number"), ("99999999", "page number"),
                      ("1%00", "NUL")):  # fmt: skip
        response = client.get(f"/me/requests?page={bad}&lang=en")
        assert response.status_code == 400, bad
        assert says in response.get_data(as_text=True), bad
