"""Run pages for admins and operators: history, report, live progress, files, re-optimize now.

Routes stay thin: the button opens a confirmation page saying what will be re-planned; its
form (POST, CSRF) calls ``reoptimize.request_run``, which queues the run for a worker (the same
code path as the nightly job and the CLI), and redirects to the run's report, which shows it
queued, then polls the progress while it runs. Operators see only their bases: a report lists
the changes there, the run's raw files (every participant of the week) are for admins, and their
runs re-plan their bases only.
"""

from __future__ import annotations

from datetime import date

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.main.guards import roles_required
from app.main.paging import PAGE_SIZE, page_number, page_of
from app.models import REGIONS, Hub, OptimizationRun, PlanningWeek
from app.models.vocabulary import ChangeKind, Role, RunState
from app.runs import bp
from app.services.accounts.access import is_admin
from app.services.runs.folders import run_folder
from app.services.runs.reoptimize import request_run
from app.services.runs.report import (
    RUN_FILES,
    ReportFilter,
    chart_rows,
    progress_view,
    run_details,
    run_summary,
    scope_figures,
)

staff_only = roles_required(Role.ADMIN, Role.OPERATOR)


def my_bases() -> list[str] | None:
    """Codes of the bases the signed-in operator runs; ``None`` for an admin (every base)."""
    if is_admin(current_user):
        return None
    return [h.code for h in current_user.hubs]


def _run_or_404(run_id: int) -> OptimizationRun:
    run = db.session.get(OptimizationRun, run_id)
    if run is None:
        abort(404)
    return run


def _present_files(run: OptimizationRun) -> list[str]:
    folder = run_folder(run)
    if folder is None:
        return []
    return [name for name in RUN_FILES if (folder / name).is_file()]


@bp.get("/")
@staff_only
def history():
    """The latest runs, newest first, and the re-optimize form."""
    number = page_number()
    stmt = select(OptimizationRun).order_by(OptimizationRun.id.desc())
    page = page_of(
        db.session.scalars(stmt.limit(PAGE_SIZE + 1).offset((number - 1) * PAGE_SIZE)).all(),
        number,
    )
    runs = page.items
    weeks = db.session.scalars(
        select(PlanningWeek).order_by(PlanningWeek.week_start.desc()).limit(52)
    ).all()
    rows = [dict(run_summary(r), started=r.started_at) for r in runs]
    return render_template("runs/history.html", runs=rows, weeks=weeks, page=page)


def _report_filter(mine: list[str] | None) -> ReportFilter:
    """``?base=&region=&change=`` of the report; a value outside the choices is a 400."""
    base = request.args.get("base", "").strip().upper()
    region = request.args.get("region", "").strip()
    change = request.args.get("change", "").strip()
    if region and region not in REGIONS:
        abort(400, _("There is no region %(region)s.", region=region[:40]))
    if change and change not in {c.value for c in ChangeKind}:
        abort(400, _("A change is added, moved or dropped, not %(change)s.", change=change[:40]))
    if base:
        known = db.session.scalar(select(Hub.code).where(Hub.code == base))
        if known is None or (mine is not None and base not in mine):
            abort(400, _("There is no base %(code)s among the bases you may see.", code=base[:16]))
    return ReportFilter(base=base, region=region, change=change)


def _progress(run: OptimizationRun) -> dict:
    return progress_view(run, float(current_app.config.get("SOLVER_TIME_LIMIT_S") or 60))


@bp.get("/<int:run_id>")
@staff_only
def report(run_id: int):
    """One run: outcome, KPIs before/after with a chart, changes per region/base and session.

    The summary covers the whole scope; the changed sessions are filtered by base, region and
    kind of change and shown a page at a time, an operator's bases first.
    """
    run = _run_or_404(run_id)
    mine = my_bases()
    flt = _report_filter(mine)
    number = page_number()
    names = {
        "weighted_share": _("Weighted served"),
        "served_ratio": _("Sessions served"),
        "min_region_ratio": _("Worst region"),
        "preferred_base_share": _("Preferred base"),
        "prime_satisfaction": _("Prime time"),
    }
    chart = [(names[key], *rest) for key, *rest in chart_rows(run)]
    details = run_details(
        run,
        _present_files(run) if mine is None else [],
        only_bases=None if mine is None else set(mine),
        flt=flt,
        first_bases=set(mine or []),
    )
    start = (number - 1) * PAGE_SIZE
    page = page_of(list(details.sessions[start : start + PAGE_SIZE + 1]), number)
    return render_template(
        "runs/report.html",
        run=run_summary(run),
        details=details,
        page=page,
        flt=flt,
        live=_progress(run),
        scope=run.scope_bases,
        only_bases=mine,
        chart=chart,
        started=run.started_at,
        finished=run.finished_at,
        freeze_until=run.freeze_until,
    )


@bp.get("/<int:run_id>/progress.json")
@staff_only
def progress(run_id: int):
    """The run's state and live solver progress, for the report page's polling."""
    run = _run_or_404(run_id)
    s = run_summary(run)
    body = {k: s[k] for k in ("id", "status", "message", "started_at")}
    body["progress"] = _progress(run)
    db.session.rollback()  # end the read at once: a SQLite writer never waits on a poll
    return jsonify(body)


@bp.get("/<int:run_id>/files/<name>")
@roles_required("admin")
def download(run_id: int, name: str):
    """A run's instance, plans or solver log, to reproduce it with ``python -m scheduler``
    (admins only: the instance names every participant of the week with their location)."""
    run = _run_or_404(run_id)
    folder = run_folder(run)
    if folder is None or name not in RUN_FILES or name not in _present_files(run):
        abort(404)
    path = folder / name
    mimetype = "text/plain" if name.endswith(".log") else "application/json"
    download_name = f"run-{run.id}-{name}"
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=download_name)


def _chosen_week() -> PlanningWeek | None:
    """The planning week named by the form's ``week`` (YYYY-MM-DD), flashing why if none."""
    raw = request.values.get("week", "")
    try:
        week_start = date.fromisoformat(raw)
    except ValueError:
        flash(_("Choose a week to re-optimize."), "warning")
        return None
    week = db.session.scalar(select(PlanningWeek).where(PlanningWeek.week_start == week_start))
    if week is None:
        flash(_("There is no planning week starting on %(day)s.", day=raw[:10]), "warning")
    return week


@bp.get("/reoptimize")
@staff_only
def confirm_reoptimize():
    """The confirmation step: which week and bases a run would re-plan, and what stays fixed."""
    week = _chosen_week()
    if week is None:
        return redirect(url_for("runs.history"))
    bases = my_bases()
    if bases == []:
        abort(403)
    return render_template(
        "runs/confirm.html",
        week=week,
        national=bases is None,
        figures=scope_figures(week, bases),
    )


@bp.post("/reoptimize")
@staff_only
def reoptimize_now():
    """Start a confirmed run of the chosen week (CSRF-protected form of the confirmation page).

    Admins re-plan the whole week; an operator's run re-plans only their bases and keeps every
    booking elsewhere exactly as it is.
    """
    week = _chosen_week()
    if week is None:
        return redirect(url_for("runs.history"))
    if request.form.get("confirm") != "yes":
        return redirect(url_for("runs.confirm_reoptimize", week=week.week_start.isoformat()))
    bases = my_bases()
    if bases == []:
        abort(403)
    run = request_run(week.week_start, actor=current_user._get_current_object(), scope_bases=bases)
    if run.state == RunState.SKIPPED:
        flash(_("Another run of this week is in progress; this one was skipped."), "warning")
    elif run.state == RunState.QUEUED:
        flash(_("Re-optimization queued: a worker will start it shortly."), "success")
    else:
        flash(_("Re-optimization started."), "success")
    return redirect(url_for("runs.report", run_id=run.id))
