"""Typed field readers for the exchange format: each failure is one :class:`FormatError` line
naming the item (``requests[3] (R000004): 'sessions' must be an integer, got 'two'``)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

Source = str | os.PathLike[str] | Mapping[str, Any]


class FormatError(ValueError):
    """A file that is not a valid instance or plan; the message is one line for the user."""


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file, turning every way it can fail into a :class:`FormatError`."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise FormatError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from None


def document(source: Source) -> Mapping[str, Any]:
    """The document itself: ``source`` if already parsed, else the JSON file it names."""
    doc = source if isinstance(source, Mapping) else read_json(source)
    if not isinstance(doc, Mapping):
        raise FormatError("the file holds a JSON value that is not an object")
    return doc


def get(
    obj: Any, key: str, kind: type | tuple[type, ...], where: str, *, optional: bool = False
) -> Any:
    """``obj[key]``, which must be of ``kind`` (None when ``optional`` and absent or null)."""
    # ``type(...) is`` first: a parsed document is plain dicts, lists and scalars, and the
    # abstract-class check costs more than the rest of this function (an instance reads ~700,000
    # fields).
    if type(obj) is not dict and not isinstance(obj, Mapping):
        raise FormatError(f"{where}: expected an object")
    value = obj.get(key)
    if value is None:
        if optional:
            return None
        raise FormatError(f"{where}: missing '{key}'")
    if type(value) is kind and kind is not float:
        return value
    # bool is an int in Python; a JSON true is never a count or a coordinate.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise FormatError(f"{where}: '{key}' must be {_kind_name(kind)}, got {value!r}")
    if not isinstance(value, kind):
        raise FormatError(f"{where}: '{key}' must be {_kind_name(kind)}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise FormatError(f"{where}: '{key}' must be a finite number")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "an object",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def instant(text: Any, where: str) -> datetime:
    """An aware datetime from an ISO 8601 string with an offset."""
    if not isinstance(text, str):
        raise FormatError(f"{where}: expected an ISO 8601 time, got {text!r}")
    try:
        value = parse_time(text)
    except ValueError:
        raise FormatError(f"{where}: {text!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise FormatError(f"{where}: {text!r} has no UTC offset")
    return value


#: A week repeats few instants (a programme week: ~130,000 times, 60 distinct ones); datetimes
#: are immutable, so one object per text is shared.
parse_time = lru_cache(maxsize=4096)(datetime.fromisoformat)


def str_list(value: Any, where: str) -> tuple[str, ...]:
    """A list of strings, as a tuple."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FormatError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def unique(ids: Iterable[str], what: str) -> None:
    """Refuse the first id seen twice."""
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise FormatError(f"duplicate {what} id {i!r}")
        seen.add(i)


def list_of(doc: Mapping[str, Any], key: str) -> list[Any]:
    """A top-level list of the document."""
    value = doc.get(key)
    if not isinstance(value, list):
        raise FormatError(f"'{key}' must be a list")
    return value
