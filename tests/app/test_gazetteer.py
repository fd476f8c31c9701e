"""The cpca adcode table as a gazetteer, and the demo catalogue resolving against it."""

from __future__ import annotations

import pytest

from app.demo.catalog import BASE_PLACES, FARM_COUNTIES
from app.demo.world import interleaved_base_places
from app.geo import GazetteerError, gazetteer, region_of_province


def test_lookup_gives_coordinates_and_names_from_the_table():
    yiwu = gazetteer().lookup("浙江省/义乌市")
    assert (yiwu.adcode, yiwu.province, yiwu.prefecture, yiwu.city) == (
        "330782000000",
        "浙江省",
        "金华市",
        "义乌市",
    )
    assert (yiwu.lat, yiwu.lon) == (29.306775, 120.075106)
    assert yiwu.region == "east"
    assert gazetteer().lookup("北京市/朝阳区").city == "北京市"


def test_ambiguous_and_unknown_places_are_errors():
    with pytest.raises(GazetteerError, match="ambiguous"):
        gazetteer().lookup("江苏省/鼓楼区")
    assert gazetteer().lookup("江苏省/徐州市/鼓楼区").prefecture == "徐州市"
    with pytest.raises(GazetteerError, match="no such place"):
        gazetteer().lookup("浙江省/不存在县")


def test_every_catalogue_place_resolves_in_its_region():
    for region, places in BASE_PLACES.items():
        for path, kind in places:
            assert gazetteer().lookup(path).region == region
            assert kind in ("belt", "farm")
    for path in FARM_COUNTIES:
        assert gazetteer().lookup(path).is_county


def test_any_number_of_bases_is_spread_over_regions():
    seven = interleaved_base_places(7)
    assert {gazetteer().lookup(p).region for p, _ in seven} == set(BASE_PLACES)
    hundred = interleaved_base_places(100)
    assert len({gazetteer().lookup(p).province for p, _ in hundred}) >= 25


def test_regions_by_province_prefix():
    assert region_of_province("440100000000") == "south"
    assert region_of_province("650100000000") == "northwest"
    assert region_of_province("710000000000") is None
