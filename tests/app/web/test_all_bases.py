"""The "all bases" page: search by name, code or city, filter by region and province, a page
at a time; bad filters answer 400 saying why; an operator with one base goes to its week."""

from __future__ import annotations

from app.extensions import db
from app.models import Hub


def _cards(html: str) -> int:
    return html.count('data-testid="base-card"')


def _many_bases(n: int) -> None:
    for i in range(n):
        db.session.add(Hub(code=f"B{100 + i}", name=f"测试基地{i}", city="成都" if i % 2 else "昆明",
                           province="四川省" if i % 2 else "云南省", region="southwest",
                           lat=30.0, lon=104.0))  # fmt: skip
    db.session.commit()


def test_admin_searches_and_filters_the_bases(app, world, login):
    _many_bases(30)
    admin = login("admin")
    first = admin.get("/operator/").get_data(as_text=True)
    assert _cards(first) == 24 and 'rel="next"' in first and 'data-testid="bases-filter"' in first
    assert _cards(admin.get("/operator/?page=2").get_data(as_text=True)) == 8
    assert _cards(admin.get("/operator/?q=临沂").get_data(as_text=True)) == 1
    assert _cards(admin.get("/operator/?q=b002").get_data(as_text=True)) == 1
    assert _cards(admin.get("/operator/?q=成都").get_data(as_text=True)) == 15
    assert _cards(admin.get("/operator/?region=southwest").get_data(as_text=True)) == 24
    assert _cards(admin.get("/operator/?region=east").get_data(as_text=True)) == 1
    assert _cards(admin.get("/operator/?province=云南省&q=基地1").get_data(as_text=True)) == 5
    none = admin.get("/operator/?q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert _cards(none) == 0 and "没有符合筛选条件的基地" in none


def test_bad_filters_say_why(app, world, login):
    admin = login("admin")
    assert admin.get("/operator/?region=mars").status_code == 400
    assert "火星省" in admin.get("/operator/?province=火星省").get_data(as_text=True)
    assert admin.get("/operator/?q=" + "x" * 61).status_code == 400
    assert admin.get("/operator/?page=abc").status_code == 400


def test_an_operator_sees_only_their_bases(app, world, login):
    op1 = login("op1")
    assert op1.get("/operator/").status_code == 302  # one base: straight to its week
    page = op1.get("/operator/?q=赣州")
    assert page.status_code == 200 and _cards(page.get_data(as_text=True)) == 0
