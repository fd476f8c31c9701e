"""Which bases a request may use, best first, without measuring every base for every request.

``Reach(inst)`` answers the same question as ``greedy.eligible_bases`` (allowed list, ``max_km``,
a studio with every need; preferred bases first in the request's order, then the rest nearest
first, ties by base id) in two parts, so that the greedy pays for the far bases only when the
near ones are full:

* ``preferred(r)``: the eligible preferred bases, each distance computed exactly;
* ``rest(r)``: every other eligible base, nearest first. With an allowed list the few listed bases
  are measured exactly; otherwise all bases at once with numpy (the same formula; a distance
  within a micrometre of ``max_km`` is measured again exactly, so the cut-off is the spec's).

Bases are given by their index in ``inst.bases`` (``names`` turns them into ids); ``studios(needs)``
is, by base index, the base's studios that have every need, in the base's order. ``eligible(r)``
is the same set in ``inst.bases`` order, for the candidate placements (``candidates.eligibility``):
one vectorised pass per participant instead of a distance per request and base.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

from scheduler.domain import EARTH_RADIUS_KM, Instance, Request
from scheduler.placement import allowed_base, has_features, within_reach
from scheduler.validate import KM_TOLERANCE


class Reach:
    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.ids = [b.id for b in inst.bases]
        self.index = {b: i for i, b in enumerate(self.ids)}
        self._lat = np.radians(np.array([b.lat for b in inst.bases], dtype=np.float64))
        self._lon = np.array([b.lon for b in inst.bases], dtype=np.float64)
        order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        self._id_rank = np.empty(len(self.ids), dtype=np.int64)
        self._id_rank[order] = np.arange(len(self.ids))
        # Bases by latitude: a request with ``max_km`` measures only the band of latitudes it can
        # reach (a distance is never less than its north-south part).
        self._by_lat = np.argsort(self._lat, kind="stable")
        self._lat_sorted = self._lat[self._by_lat]
        self._serves: dict[frozenset[str], npt.NDArray[np.bool_]] = {}
        self._studios: dict[frozenset[str], list[list[str]]] = {}

    def studios(self, needs: frozenset[str]) -> list[list[str]]:
        """By base index, the base's studios that have every one of ``needs``, in its order."""
        if needs not in self._studios:
            self._studios[needs] = [
                [s.id for s in b.studios if needs <= s.features] for b in self.inst.bases
            ]
        return self._studios[needs]

    def names(self, bases: list[int]) -> list[str]:
        """The ids of bases given by index."""
        return [self.ids[i] for i in bases]

    def _eligible(self, r: Request, base: str) -> bool:
        if r.bases is not None and base not in r.bases:
            return False
        if r.max_km is not None and (
            self.inst.distance_km(r.participant, base) > r.max_km + KM_TOLERANCE
        ):
            return False
        return bool(self.studios(r.needs)[self.index[base]])

    def preferred(self, r: Request) -> list[int]:
        """The request's eligible preferred bases (indexes), in its order of preference."""
        rank = {b: i for i, b in enumerate(r.prefer_bases)}  # a repeated base counts as its last
        ordered = sorted(rank, key=rank.__getitem__)
        return [self.index[b] for b in ordered if self._eligible(r, b)]

    def rest(self, r: Request) -> list[int]:
        """The request's other eligible bases (indexes), nearest first (ties by base id)."""
        order: list[int] = self.rest_index(r).tolist()
        return order

    def rest_index(
        self, r: Request, among: npt.NDArray[np.bool_] | None = None
    ) -> npt.NDArray[np.intp]:
        """``rest(r)`` as an array; with ``among`` (by base index), only the bases it marks."""
        if r.bases is not None:
            preferred = set(r.prefer_bases)
            listed = {
                b
                for b in r.bases
                if b not in preferred
                and (among is None or among[self.index[b]])
                and self._eligible(r, b)
            }
            dist = {b: self.inst.distance_km(r.participant, b) for b in listed}
            nearest = sorted(listed, key=lambda b: (dist[b], b))
            return np.array([self.index[b] for b in nearest], dtype=np.intp)
        index, km = self._reachable(r, among)
        if r.prefer_bases:
            skip = np.zeros(len(self.ids), dtype=bool)
            skip[[self.index[b] for b in r.prefer_bases]] = True
            keep = ~skip[index]
            index, km = index[keep], km[keep]
        ordered: npt.NDArray[np.intp] = index[np.lexsort((self._id_rank[index], km))]
        return ordered

    def _reachable(
        self, r: Request, among: npt.NDArray[np.bool_] | None = None
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """The bases (indexes, ascending) within the request's ``max_km`` that have a studio with
        its needs (and that ``among`` marks, if given), and their distances; the allowed list is
        not applied."""
        p = self.inst.participant_by_id[r.participant]
        if r.max_km is None:
            index = np.arange(len(self.ids))
        else:
            # 1 km of margin over the cut (``within_reach`` decides it exactly).
            half = (r.max_km + KM_TOLERANCE + 1.0) / EARTH_RADIUS_KM
            p1 = np.radians(p.lat)
            lo, hi = np.searchsorted(self._lat_sorted, (p1 - half, p1 + half), side="left")
            index = np.sort(self._by_lat[lo:hi])
        serves = self.serves(r.needs) if among is None else self.serves(r.needs) & among
        index = index[serves[index]]
        km = self.km(r.participant, index)
        keep = within_reach(self.inst, r, _Ids(self.ids, index), km)
        return index[keep], km[keep]

    def serves(self, needs: frozenset[str]) -> npt.NDArray[np.bool_]:
        """By base index, whether the base has a studio with every one of ``needs`` (rule 5c)."""
        if needs not in self._serves:
            self._serves[needs] = np.array(
                [any(has_features(needs, s.features) for s in b.studios) for b in self.inst.bases],
                dtype=bool,
            )
        return self._serves[needs]

    def eligible(self, r: Request) -> list[int]:
        """Every base the request may use (rule 5: allowed, within ``max_km``, a studio with its
        features), by index in ``inst.bases`` order."""
        out: list[int] = self._reachable(r)[0].tolist()
        if r.bases is not None:
            out = [i for i in out if allowed_base(r, self.ids[i])]
        return out

    def km(
        self, participant: str, index: npt.NDArray[np.intp] | None = None
    ) -> npt.NDArray[np.float64]:
        """Distances from the participant to every base, or to the bases of ``index``
        (``haversine_km``, vectorised: a base's figure is the same either way)."""
        p = self.inst.participant_by_id[participant]
        lat, lon = (self._lat, self._lon) if index is None else (self._lat[index], self._lon[index])
        p1 = np.radians(p.lat)
        dp, dl = lat - p1, np.radians(lon - p.lon)
        h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(lat) * np.sin(dl / 2) ** 2
        km: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))
        return km


class _Ids(Sequence[str]):
    """The ids of the bases of ``index``, read only where asked (``within_reach`` measures again
    the few bases within a micrometre of the cut)."""

    def __init__(self, ids: list[str], index: npt.NDArray[np.intp]) -> None:
        self._ids, self._index = ids, index

    def __len__(self) -> int:
        return len(self._index)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...
    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        if isinstance(i, slice):
            return [self._ids[k] for k in self._index[i]]
        return self._ids[int(self._index[i])]
