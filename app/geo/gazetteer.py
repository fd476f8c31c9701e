"""China's administrative divisions with coordinates, read from cpca's ``resources/adcodes.csv``.

The table has one row per province, prefecture and county (12-digit adcode, name, longitude,
latitude). A place is looked up by a path such as ``"浙江省/义乌市"`` or, where a name repeats
inside a province, ``"江苏省/徐州市/鼓楼区"``. Macro-regions follow the usual seven-region
grouping of provinces (华东 east, 华南 south, 华北 north, 华中 central, 西南 southwest,
西北 northwest, 东北 northeast), keyed by the adcode's two-digit province prefix.
"""

from __future__ import annotations

import csv
import importlib.util
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: Province adcode prefix → macro-region.
REGION_BY_PREFIX = {
    **dict.fromkeys(("31", "32", "33", "34", "35", "36", "37"), "east"),
    **dict.fromkeys(("44", "45", "46"), "south"),
    **dict.fromkeys(("11", "12", "13", "14", "15"), "north"),
    **dict.fromkeys(("41", "42", "43"), "central"),
    **dict.fromkeys(("50", "51", "52", "53", "54"), "southwest"),
    **dict.fromkeys(("61", "62", "63", "64", "65"), "northwest"),
    **dict.fromkeys(("21", "22", "23"), "northeast"),
}


class GazetteerError(LookupError):
    """A place path that names no place, or more than one."""


@dataclass(frozen=True)
class Place:
    """One administrative division with its coordinates."""

    adcode: str
    name: str
    lat: float
    lon: float
    province: str
    prefecture: str  # the prefecture-level city, or the province for municipalities
    region: str

    @property
    def is_county(self) -> bool:
        """County level (district, county, county-level city, banner)."""
        return self.adcode[4:6] != "00"

    @property
    def city(self) -> str:
        """The city a person would name: a county-level city itself, else its prefecture."""
        if self.is_county and self.name.endswith("市"):
            return self.name
        return self.prefecture


def region_of_province(adcode: str) -> str | None:
    """The macro-region of an adcode (None for Taiwan, Hong Kong, Macao)."""
    return REGION_BY_PREFIX.get(adcode[:2])


class Gazetteer:
    """The adcode table, indexed by name within each province."""

    def __init__(self, rows: list[tuple[str, str, str, str]]) -> None:
        names = {code: name for code, name, _, _ in rows}
        self.places: list[Place] = []
        for code, name, lon, lat in sorted(rows):
            region = region_of_province(code)
            if not lon or not lat or region is None or name == "市辖区":
                continue
            province = names.get(code[:2] + "0" * 10, "")
            prefecture = names.get(code[:4] + "0" * 8)
            if not prefecture or prefecture in ("市辖区", "县", "省直辖县级行政区划"):
                prefecture = province
            self.places.append(
                Place(code, name, float(lat), float(lon), province, prefecture, region)
            )
        self._by_province: dict[str, list[Place]] = {}
        for p in self.places:
            self._by_province.setdefault(p.province, []).append(p)

    def lookup(self, path: str) -> Place:
        """The one place named by ``province/name`` or ``province/prefecture/name``."""
        parts = path.split("/")
        if len(parts) not in (2, 3):
            raise GazetteerError(f"{path!r}: expected province/name or province/city/name")
        province, name = parts[0], parts[-1]
        found = [p for p in self._by_province.get(province, []) if p.name == name]
        if len(parts) == 3:
            found = [p for p in found if p.prefecture == parts[1]]
        if not found:
            raise GazetteerError(f"{path!r}: no such place in the adcode table")
        if len(found) > 1:
            raise GazetteerError(f"{path!r}: ambiguous ({', '.join(p.adcode for p in found)})")
        return found[0]

    def lookup_adcode(self, adcode: str) -> Place:
        """The place with this 12-digit adcode."""
        for p in self.places:
            if p.adcode == adcode:
                return p
        raise GazetteerError(f"adcode {adcode}: no such place")

    def counties(self, *, prefix: str = "", suffixes: tuple[str, ...] = ()) -> list[Place]:
        """County-level places whose adcode starts with ``prefix``, by adcode order."""
        return [
            p
            for p in self.places
            if p.is_county
            and p.adcode.startswith(prefix)
            and (not suffixes or p.name.endswith(suffixes))
        ]

    def provinces(self) -> list[str]:
        return sorted(self._by_province)


@cache
def gazetteer() -> Gazetteer:
    """The table shipped with ``cpca``, loaded once."""
    # Locate the package without importing it: cpca's __init__ loads jieba, pandas and
    # pkg_resources, none of which the table needs.
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise GazetteerError("the cpca package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    text = path.read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    next(reader)
    return Gazetteer([(r[0], r[1], r[2], r[3]) for r in reader if len(r) >= 4])
