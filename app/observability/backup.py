"""Backups that restore: every table's rows and the run files in one portable archive.

The archive (``chunlei-backup/1``) is a gzipped tar holding ``manifest.json`` (format, the
schema's migration revision, when, each table's row count), ``tables/<table>.jsonl`` (a line
of column names, then one JSON array per row) and ``runs/`` (the run folders). It is logical,
not a copy of the database's files: a backup of SQLite restores into PostgreSQL and back.

Backing up reads every table in one transaction (PostgreSQL: REPEATABLE READ, one snapshot), so
the archive is consistent while the app runs. Restoring refuses a database holding any row (or
a runs folder holding any run) unless ``force``; it builds the schema with the migrations up to
the archive's revision, loads the rows in foreign-key order in one transaction, moves
PostgreSQL's id sequences past the loaded ids, then migrates to the code's head.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, func, select, text
from sqlalchemy.types import Date, DateTime, LargeBinary, Numeric, Time

FORMAT = "chunlei-backup/1"
MANIFEST = "manifest.json"
VERSION_TABLE = "alembic_version"
#: Not data: the version slot search's caches follow, bumped by triggers as the rows load (a
#: restored database draws its own, so no process mistakes it for the one it cached).
CACHE_VERSION_TABLE = "timetable_version"
BATCH = 1000


class BackupError(Exception):
    """A backup or restore refused, in one sentence; nothing was written."""


@dataclass(frozen=True)
class Summary:
    """What a backup wrote or a restore loaded."""

    revision: str | None
    rows: dict[str, int]
    run_files: int


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(column, dialect: str):
    """How a stored value is read back for ``column`` of the target database."""
    kind = column.type
    if isinstance(kind, DateTime):
        aware = bool(getattr(kind, "timezone", False)) and dialect != "sqlite"

        def instant(v: str) -> datetime:
            d = datetime.fromisoformat(v)
            if d.tzinfo is not None:
                d = d.astimezone(UTC)
            return d.replace(tzinfo=UTC) if aware else d.replace(tzinfo=None)

        return instant
    if isinstance(kind, Date):
        return date.fromisoformat
    if isinstance(kind, Time):
        return time.fromisoformat
    if isinstance(kind, Numeric) and getattr(kind, "asdecimal", False):
        return Decimal
    if isinstance(kind, LargeBinary):
        return base64.b64decode
    return None


def _tables(conn: Connection) -> list[Table]:
    """The database's tables as they are (reflected), parents before the tables referring to
    them; rows are read and loaded in id order, so a row referring to an earlier row of its
    own table finds it."""
    meta = MetaData()
    meta.reflect(conn)
    return [t for t in meta.sorted_tables if t.name not in (VERSION_TABLE, CACHE_VERSION_TABLE)]


def _revision(conn: Connection) -> str | None:
    try:
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except Exception:
        conn.rollback()
        return None


def _rows(conn: Connection, table: Table) -> Iterator[list[Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
    for row in result:
        yield [_encode(v) for v in row]


def backup(engine: Engine, runs_dir: Path, output: Path, *, head: str | None) -> Summary:
    """Write the archive of every table and the run folders to ``output``.

    ``head`` is the code's migration head, recorded when the database holds no revision (a
    schema made from the models, which the migration test keeps equal to the head).
    """
    output = Path(output)
    if output.exists() and output.is_dir():
        raise BackupError(f"{output}: is a directory")
    if not output.parent.is_dir():
        raise BackupError(f"{output.parent}: no such directory")
    counts: dict[str, int] = {}
    run_files = 0
    fd, partial = tempfile.mkstemp(prefix=".chunlei-backup-", dir=output.parent)
    os.close(fd)
    try:
        with tarfile.open(partial, "w:gz") as tar, engine.connect() as conn:
            revision = _revision(conn) or head
            conn.rollback()
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            else:
                conn.exec_driver_sql("BEGIN")  # SQLite: one read transaction for every table
            for table in _tables(conn):
                counts[table.name] = _add_table(tar, conn, table)
            conn.rollback()
            if runs_dir.is_dir():
                for path in sorted(runs_dir.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        arcname = "runs/" + path.relative_to(runs_dir).as_posix()
                        tar.add(path, arcname=arcname, recursive=False)
                        run_files += 1
            manifest = {
                "format": FORMAT,
                "revision": revision,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "dialect": conn.dialect.name,
                "tables": counts,
                "run_files": run_files,
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
        os.replace(partial, output)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return Summary(revision, counts, run_files)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _add_table(tar: tarfile.TarFile, conn: Connection, table: Table) -> int:
    n = 0
    with tempfile.TemporaryFile() as spool:
        spool.write(json.dumps([c.name for c in table.columns]).encode() + b"\n")
        for row in _rows(conn, table):
            spool.write(json.dumps(row, ensure_ascii=False, default=str).encode() + b"\n")
            n += 1
        info = tarfile.TarInfo(f"tables/{table.name}.jsonl")
        info.size = spool.tell()
        info.mtime = int(datetime.now(UTC).timestamp())
        spool.seek(0)
        tar.addfile(info, spool)
    return n


# --- restore -----------------------------------------------------------------------------------


def read_manifest(archive: Path) -> dict:
    """The archive's manifest, or a BackupError saying why it is not a Chunlei backup."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            manifest = json.loads(member.read()) if member is not None else None
    except FileNotFoundError:
        raise BackupError(f"{archive}: no such file") from None
    except IsADirectoryError:
        raise BackupError(f"{archive}: is a directory") from None
    except (tarfile.TarError, OSError, EOFError):
        raise BackupError(f"{archive}: not a backup archive (a gzipped tar)") from None
    except KeyError:
        raise BackupError(f"{archive}: not a Chunlei backup (no {MANIFEST})") from None
    except ValueError:
        raise BackupError(f"{archive}: its {MANIFEST} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: not a {FORMAT} archive")
    if not isinstance(manifest.get("tables"), dict):
        raise BackupError(f"{archive}: its {MANIFEST} lists no tables")
    return manifest


def rows_held(engine: Engine) -> dict[str, int]:
    """The tables of the database that hold rows, with their counts (alembic's left out)."""
    with engine.connect() as conn:
        held = {}
        for table in _tables(conn):
            n = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if n:
                held[table.name] = n
        return held


def run_folders(runs_dir: Path) -> list[str]:
    return sorted(p.name for p in runs_dir.iterdir()) if runs_dir.is_dir() else []


def drop_everything(engine: Engine) -> None:
    """Drop every table (the migrations' record too): the database is rebuilt from the archive."""
    with engine.begin() as conn:
        meta = MetaData()
        meta.reflect(conn)
        meta.drop_all(conn)


def load_rows(engine: Engine, archive: Path, manifest: dict) -> dict[str, int]:
    """Insert every table's rows from the archive in one transaction; returns the counts."""
    loaded: dict[str, int] = {}
    with tarfile.open(archive, "r:gz") as tar, engine.begin() as conn:
        dialect = conn.dialect.name
        tables = {t.name: t for t in _tables(conn)}
        missing = sorted(set(manifest["tables"]) - set(tables))
        if missing:
            raise BackupError(f"the archive has tables the schema lacks: {', '.join(missing)}")
        for name, table in tables.items():
            if name not in manifest["tables"]:
                continue
            loaded[name] = _load_table(tar, conn, table, dialect)
            if loaded[name] != manifest["tables"][name]:
                raise BackupError(
                    f"{name}: the archive holds {loaded[name]} rows, its manifest says "
                    f"{manifest['tables'][name]}"
                )
        if dialect == "postgresql":
            _advance_sequences(conn, tables.values())
    return loaded


def _load_table(tar: tarfile.TarFile, conn: Connection, table: Table, dialect: str) -> int:
    member = tar.extractfile(f"tables/{table.name}.jsonl")
    if member is None:
        raise BackupError(f"the archive has no rows file for {table.name}")
    lines = io.TextIOWrapper(member, encoding="utf-8")
    names = json.loads(lines.readline())
    unknown = [n for n in names if n not in table.columns]
    if unknown:
        raise BackupError(f"{table.name}: the schema has no column(s) {', '.join(unknown)}")
    decoders = [_decoder(table.columns[n], dialect) for n in names]
    batch: list[dict[str, Any]] = []
    n = 0
    for line in lines:
        values = json.loads(line)
        batch.append(
            {
                name: (dec(v) if dec is not None and v is not None else v)
                for name, dec, v in zip(names, decoders, values, strict=True)
            }
        )
        if len(batch) >= BATCH:
            conn.execute(table.insert(), batch)
            n += len(batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)
        n += len(batch)
    return n


def _advance_sequences(conn: Connection, tables) -> None:
    """Move each serial id's sequence past the loaded ids, so new rows get new ids."""
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or pk[0].type.python_type is not int:
            continue
        column = pk[0].name
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:t, :c), "
                f'COALESCE(MAX("{column}"), 1), MAX("{column}") IS NOT NULL) FROM "{table.name}"'
            ),
            {"t": table.name, "c": column},
        )


def restore_runs(archive: Path, runs_dir: Path) -> int:
    """Write the archive's run files under ``runs_dir`` (only plain files inside it)."""
    written = 0
    root = runs_dir.resolve()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if not member.name.startswith("runs/") or not member.isfile():
                continue
            relative = PurePosixPath(member.name).relative_to("runs")
            if relative.is_absolute() or ".." in relative.parts or not relative.parts:
                raise BackupError(f"the archive names an unsafe path: {member.name}")
            target = root.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:
                continue
            with open(target, "wb") as out:
                shutil.copyfileobj(source, out)
            written += 1
    return written
