"""Home page, the language switch and my notifications."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.main import bp
from app.main.web import LANG_COOKIE, is_safe_next, ui_language
from app.models import Notification
from app.models.vocabulary import Role
from app.services.accounts import audit
from app.services.notify import messages as notify


@bp.get("/")
def index():
    """Signed-in people go straight to their own start page; visitors see what Chunlei is."""
    if current_user.is_authenticated:
        if current_user.role in (Role.ADMIN, Role.OPERATOR):
            return redirect(url_for("operator.home"))
        return redirect(url_for("participant.find_slots"))
    return render_template("main/index.html")


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the interface language and come back to the page the person was on."""
    wanted = request.args.get("next")
    target = wanted if wanted is not None and is_safe_next(wanted) else url_for("main.index")
    response = redirect(target)
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
        if current_user.is_authenticated and current_user.locale != code:
            # Remembered on the account too, so the next device opens in this language.
            current_user.locale = code
            audit.record("user.locale", actor=current_user, subject=current_user.username[:40])
            db.session.commit()
    return response


@bp.get("/notifications")
@login_required
def notifications():
    """My latest notifications in my language; opening the page marks them read."""
    rows = list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == current_user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(50)
        )
    )
    locale = ui_language()
    items = [(n, notify.render(n.kind, n.params or {}, locale)) for n in rows]
    unread_ids = [n.id for n in rows if n.read_at is None]
    page = render_template("main/notifications.html", items=items, unread_ids=set(unread_ids))
    if unread_ids:
        notify.mark_read(current_user, unread_ids)
    return page
