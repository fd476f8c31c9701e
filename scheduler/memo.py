"""The last answer worked out for one week, kept only while that week is in use.

Validation and the search ask the same question of one week several times (a plan is validated,
then its figures counted from the same sessions; rule 6's two checks group the same sessions).
The answer is kept beside the week it was worked out for, keyed by identity, and dropped as soon
as the week itself is: a web process that explained one request must not keep a whole week
(tens of thousands of slots and sessions) alive afterwards, where every full garbage collection
would walk it again.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from scheduler.domain import Instance

T = TypeVar("T")


class WeekMemo(Generic[T]):
    """One answer, for one week and one key object (both compared by identity).

    The week is held weakly and the answer goes with it; the key is held, so its id is not
    reused while the answer stands. The answer must not refer to the week itself, or the week
    would never be dropped. Safe across threads: a lookup sees a whole entry or none.
    """

    def __init__(self) -> None:
        self._last: tuple[weakref.ref[Instance], object, T] | None = None

    def get(self, inst: Instance, key: object = None) -> T | None:
        last = self._last
        if last is not None and last[0]() is inst and last[1] is key:
            return last[2]
        return None

    def put(self, inst: Instance, key: object, answer: T) -> T:
        def forget(week: weakref.ref[Instance]) -> None:
            last = self._last
            if last is not None and last[0] is week:
                self._last = None

        self._last = (weakref.ref(inst, forget), key, answer)
        return answer

    def clear(self) -> None:
        self._last = None
