"""``backup -o FILE`` and ``restore FILE``: the database and the run files in one archive."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy.exc import SQLAlchemyError

from app.cli.params import OneLineCommand
from app.extensions import db
from app.observability.backup import (
    BackupError,
    backup,
    drop_everything,
    load_rows,
    read_manifest,
    restore_runs,
    rows_held,
    run_folders,
)
from app.observability.health import head_revision, known_revision, migrations_directory
from app.services.runs.folders import runs_dir


def _db_error(e: SQLAlchemyError) -> str:
    return "database error: " + (str(getattr(e, "orig", None) or e).strip().splitlines() or [""])[0]


@click.command("backup", cls=OneLineCommand)
@click.option("-o", "--output", required=True, help="The archive to write (.tar.gz).")
def backup_command(output: str) -> None:
    """Write every table and the run files to one archive (consistent while the app runs)."""
    head = head_revision(migrations_directory(current_app))
    with _one_line(output, writing=True):
        done = backup(db.engine, runs_dir(), Path(output), head=head)
    click.echo(
        f"{output}: {sum(done.rows.values())} rows in {len(done.rows)} tables, "
        f"{done.run_files} run files, schema revision {done.revision}"
    )


@click.command("restore", cls=OneLineCommand)
@click.argument("archive")
@click.option(
    "--force",
    is_flag=True,
    help="Replace a database that holds rows (and run folders of the same name).",
)
def restore_command(archive: str, force: bool) -> None:
    """Load an archive made by ``backup`` into an empty database (and RUNS_DIR)."""
    path = Path(archive)
    directory = migrations_directory(current_app)
    with _one_line(archive):
        manifest = read_manifest(path)
        revision = _check_revision(directory, manifest.get("revision"))
        held = rows_held(db.engine)
        if held and not force:
            first = ", ".join(f"{n} ({c})" for n, c in sorted(held.items())[:3])
            raise BackupError(
                f"the database is not empty ({first}...): restore into an empty database, "
                "or pass --force to replace it"
            )
        folders = run_folders(runs_dir())
        if folders and not force:
            raise BackupError(
                f"{runs_dir()} already holds {len(folders)} run folder(s): empty it, "
                "or pass --force"
            )
        db.session.remove()
        with _quiet_migrations():
            drop_everything(db.engine)
            upgrade(directory=directory, revision=revision)
            loaded = load_rows(db.engine, path, manifest)
            upgrade(directory=directory)
        files = restore_runs(path, runs_dir())
    click.echo(
        f"restored {sum(loaded.values())} rows in {len(loaded)} tables and {files} run files "
        f"(revision {revision}, now {head_revision(directory)})"
    )


@contextmanager
def _one_line(path: str, *, writing: bool = False) -> Iterator[None]:
    """A refusal, a database error or an error of the file at ``path`` as the command's one
    line on stderr."""
    try:
        yield
    except BackupError as e:
        raise click.ClickException(str(e)) from None
    except SQLAlchemyError as e:
        raise click.ClickException(_db_error(e)) from None
    except OSError as e:
        reason = e.strerror or str(e)
        line = f"{path}: cannot write ({reason})" if writing else f"{path}: {reason}"
        raise click.ClickException(line) from None


@contextmanager
def _quiet_migrations() -> Iterator[None]:
    """The migrations' step-by-step lines stay out of the command's output."""
    alembic = logging.getLogger("alembic")
    level = alembic.level
    alembic.setLevel(logging.WARNING)
    try:
        yield
    finally:
        alembic.setLevel(level)


def _check_revision(directory: str, revision: str | None) -> str:
    """The archive's schema revision, if this version's migrations know it."""
    if not revision:
        raise BackupError("the archive names no schema revision")
    if not known_revision(directory, revision):
        raise BackupError(
            f"the archive's schema revision {revision} is unknown to this version of Chunlei "
            "(restore it with the version that made it)"
        )
    return revision
