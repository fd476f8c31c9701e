"""Many rows into one table at once: PostgreSQL's ``COPY``, elsewhere an ``INSERT`` of them all.

A whole-programme run applies ~37,000 changes: a booking, its slots, its hold, its run change
and its audit event each, ~190,000 rows. As multi-row ``INSERT`` statements (pages of 1,000
rows) the driver spent most of the time parsing each page's long text for its placeholders
(a statement that long is never cached) — about a third of the apply. ``COPY … FROM STDIN``
sends the rows as data, with no statement to parse.

The values go through each column's own type first (its SQLAlchemy bind processing: enums to
their codes, JSON to text, the UTC instants of ``UTCDateTime``), so a copied row reads back as
the same row inserted. Rows must all have the same keys, and every column with a Python-side
default the caller relies on must be given: ``COPY`` knows only the database's defaults.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import Table, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

from app.extensions import AnySession


def copy_rows(
    session: AnySession,
    target: type[DeclarativeBase] | Table,
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Insert ``rows`` (dicts of column keys) into ``target`` in the session's transaction."""
    if not rows:
        return
    table = target if isinstance(target, Table) else target.__table__
    assert isinstance(table, Table)
    missing = [
        c.key
        for c in table.columns
        if c.key not in rows[0] and c.default is not None and not c.primary_key
    ]
    if missing:  # on every database, so a caller's mistake shows in SQLite's tests too
        raise ValueError(f"{table.name}: give {', '.join(missing)} (COPY has no Python defaults)")
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    keys = list(rows[0])
    columns = [table.c[k] for k in keys]
    procs = [c.type._cached_bind_processor(conn.dialect) for c in columns]
    names = ", ".join(conn.dialect.identifier_preparer.quote(c.name) for c in columns)
    quoted = conn.dialect.identifier_preparer.format_table(table)
    statement = f"COPY {quoted} ({names}) FROM STDIN"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        value if proc is None or value is None else proc(value)
                        for proc, value in zip(procs, (row[k] for k in keys), strict=True)
                    ]
                )
    except psycopg.Error as error:  # as SQLAlchemy would raise it: callers catch IntegrityError
        raise DBAPIError.instance(statement, None, error, psycopg.Error) from error
    finally:
        cursor.close()


def next_ids(session: AnySession, target: type[DeclarativeBase], n: int) -> list[int] | None:
    """``n`` new ids from the primary key's sequence, ascending (PostgreSQL), to copy rows that
    others refer to by id; None on SQLite, where an id comes only with its insert."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return None
    if n <= 0:
        return []
    table = target.__table__
    assert isinstance(table, Table)
    seq = session.execute(
        text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
    ).scalar_one()
    ids = session.execute(
        text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq, "n": n}
    ).scalars()
    return sorted(ids)


def insert_coded(
    session: AnySession,
    target: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    code: Callable[[int], str],
) -> list[int]:
    """Insert ``rows`` whose ``code`` column follows their id (bookings' K000123), in order;
    their ids. On PostgreSQL the ids come first, so each row is copied once with its code; on
    SQLite each row goes in under a temporary code (short enough for the column) and is renamed
    once its id is known."""
    ids = next_ids(session, target, len(rows))
    if ids is not None:
        copy_rows(
            session,
            target,
            [{"id": i, "code": code(i), **row} for i, row in zip(ids, rows, strict=True)],
        )
        return ids
    table = target.__table__
    assert isinstance(table, Table)
    temps = [f"t{k:06d}{secrets.token_hex(4)}" for k in range(len(rows))]
    session.execute(insert(table), [{"code": t, **row} for t, row in zip(temps, rows, strict=True)])
    by_temp: dict[str, int] = {}
    for k in range(0, len(temps), 10_000):  # within SQLite's limit of bound parameters
        chosen = select(table.c.code, table.c.id).where(table.c.code.in_(temps[k : k + 10_000]))
        by_temp.update(session.execute(chosen).tuples().all())
    ids = [by_temp[t] for t in temps]
    session.execute(update(target), [{"id": i, "code": code(i)} for i in ids])
    return ids
