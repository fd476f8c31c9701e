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
        if r.bases is not None:
            preferred = set(r.prefer_bases)
            listed = {b for b in r.bases if b not in preferred and self._eligible(r, b)}
            dist = {b: self.inst.distance_km(r.participant, b) for b in listed}
            return [self.index[b] for b in sorted(listed, key=lambda b: (dist[b], b))]
        km = self.km(r.participant)
        keep = self.serves(r.needs) & within_reach(self.inst, r, self.ids, km)
        keep[[self.index[b] for b in r.prefer_bases]] = False
        index = np.flatnonzero(keep)
        order: list[int] = index[np.lexsort((self._id_rank[index], km[index]))].tolist()
        return order

    def serves(self, needs: frozenset[str]) -> npt.NDArray[np.bool_]:
        """By base index, whether the base has a studio with every one of ``needs`` (rule 5c)."""
        if needs not in self._serves:
            self._serves[needs] = np.array(
                [any(has_features(needs, s.features) for s in b.studios) for b in self.inst.bases],
                dtype=bool,
            )
        return self._serves[needs]

    def eligible(self, r: Request, km: npt.NDArray[np.float64] | None = None) -> list[int]:
        """Every base the request may use (rule 5: allowed, within ``max_km``, a studio with its
        features), by index in ``inst.bases`` order; ``km`` its participant's :meth:`km`."""
        km = self.km(r.participant) if km is None else km
        keep = np.flatnonzero(self.serves(r.needs) & within_reach(self.inst, r, self.ids, km))
        out: list[int] = keep.tolist()
        if r.bases is not None:
            out = [i for i in out if allowed_base(r, self.ids[i])]
        return out

    def km(self, participant: str) -> npt.NDArray[np.float64]:
        """Distances from the participant to every base (``haversine_km``, vectorised)."""
        p = self.inst.participant_by_id[participant]
        p1 = np.radians(p.lat)
        dp, dl = self._lat - p1, np.radians(self._lon - p.lon)
        h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(self._lat) * np.sin(dl / 2) ** 2
        km: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))
        return km
