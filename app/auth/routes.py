"""Login (rate-limited per client address) and logout."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from app.auth import bp
from app.auth.forms import LoginForm
from app.extensions import db, rate_limited
from app.main.web import is_safe_next
from app.models import User, utcnow
from app.services.accounts import audit


def _login_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT", "10 per minute")


@bp.route("/login", methods=["GET", "POST"])
@rate_limited(_login_limit, methods=["POST"])
def login():
    """Check the password; the same message for an unknown user and a wrong password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is None or not user.active or not user.check_password(form.password.data):
            audit.record("auth.login_failed", subject=form.username.data.strip()[:40])
            db.session.commit()
            flash(_("Wrong username or password."), "danger")
            return render_template("auth/login.html", form=form), 200
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        login_user(user, remember=form.remember.data)
        user.last_login_at = utcnow()
        audit.record("auth.login", actor=user, subject=user.username[:40])
        db.session.commit()
        flash(_("Welcome back, %(name)s.", name=user.display_name or user.username), "success")
        target = request.args.get("next")
        return redirect(target if is_safe_next(target) else url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST with CSRF token, so a link elsewhere cannot log people out)."""
    lang = session.get("lang")
    audit.record("auth.logout", actor=current_user, subject=current_user.username[:40])
    db.session.commit()
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.index"))
