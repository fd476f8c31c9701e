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

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import Table, insert, text
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
