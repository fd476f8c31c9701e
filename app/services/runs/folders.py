"""A run's folder: the instance, the plans and the solver's log that reproduce it.

Folders live under ``RUNS_DIR`` (default ``<instance folder>/runs``), one ``run-NNNNNN`` per run;
only the newest ``RUNS_KEEP`` are kept.
"""

from __future__ import annotations

import contextlib
import shutil
import traceback
from pathlib import Path

from flask import current_app

from app.models import OptimizationRun
from config import settings


def runs_dir() -> Path:
    """Where run folders live (``RUNS_DIR``, default ``<instance folder>/runs``)."""
    configured = settings().RUNS_DIR
    return Path(configured or Path(current_app.instance_path) / "runs")


def run_folder(run: OptimizationRun) -> Path | None:
    """The folder holding a run's instance, plans and solver log, if it has one."""
    return runs_dir() / run.files_dir if run.files_dir else None


def prune_folders(keep: int) -> None:
    """Delete the oldest run folders beyond the newest ``keep`` (a national week is ~9 MB)."""
    folders = sorted(p for p in runs_dir().glob("run-*") if p.is_dir())
    for old in folders[: max(0, len(folders) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


def keep_traceback(run_id: int) -> None:
    """Write the current exception's traceback to the run's folder (error.log) for a developer."""
    folder = runs_dir() / f"run-{run_id:06d}"
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
