"""Login (rate-limited), logout, the account page (change password, log out everywhere) and
resetting a forgotten password by e-mail."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from app.auth import bp
from app.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutEverywhereForm,
    ResetPasswordForm,
)
from app.extensions import db
from app.main.web import is_safe_next
from app.models import User, utcnow
from app.services.accounts import audit, reset, sessions
from app.services.accounts.login_limit import allow_login_attempt, retry_after
from app.services.accounts.passwords import PasswordPolicyError, authenticate
from config import settings


def _fresh_session() -> None:
    """Empty the session (no fixation, nothing of the last person) but keep the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _sign_in(user: User, *, remember: bool) -> None:
    """A new login row for this browser, in a fresh session (committed by the caller)."""
    _fresh_session()
    sessions.open_login(user, remember=remember)
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Check the password; the same message and the same work for an unknown user."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    if request.method == "POST" and not allow_login_attempt(
        request.form.get("username", ""), request.remote_addr
    ):
        raise TooManyRequests(retry_after=retry_after())  # the form says "wait a minute"
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        user = authenticate(username, form.password.data)
        if user is None:
            db.session.rollback()
            audit.record("auth.login_failed", subject=username[:40])
            db.session.commit()
            flash(_("Wrong username or password."), "danger")
            return render_template("auth/login.html", form=form), 200
        _sign_in(user, remember=form.remember.data)
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
    """Log out (POST with CSRF token): this browser's login ends, and its remember cookie goes."""
    user = current_user._get_current_object()
    audit.record("auth.logout", actor=user, subject=user.username[:40])
    sessions.end_login(user)
    db.session.commit()
    _fresh_session()
    logout_user()  # after the clear: it leaves the order to delete the remember cookie
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.index"))


def _policy_message(error: PasswordPolicyError) -> str:
    if error.reason == "short":
        return _("Use at least %(n)d characters.", n=error.minimum)
    if error.reason == "long":
        return _("Use at most 200 characters.")
    if error.reason == "username":
        return _("The password must not contain the username.")
    return _("This password is too common. Choose another.")


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """My account: change the password (every other login and token ends) or log out everywhere."""
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        remember = sessions.login_remembered(user)
        try:
            sessions.change_password(user, form.current_password.data, form.new_password.data)
        except sessions.WrongPassword:
            db.session.rollback()
            form.current_password.errors.append(_("The current password is not right."))
        except PasswordPolicyError as e:
            db.session.rollback()
            form.new_password.errors.append(_policy_message(e))
        else:
            _sign_in(user, remember=remember)  # this browser goes on with a new login
            db.session.commit()
            flash(_("Your password is changed. Every other device has been signed out."), "success")
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html", form=form, everywhere=LogoutEverywhereForm(), user=user
    )


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """End every login and API token of my account, this browser's too."""
    form = LogoutEverywhereForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.account"))
    sessions.log_out_everywhere(current_user._get_current_object())
    db.session.commit()
    _fresh_session()
    logout_user()
    flash(_("You have been signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link by e-mail: the same answer whether the address is known or not,
    counted against the login limits (per address given and per client)."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    if request.method == "POST" and not allow_login_attempt(
        request.form.get("email", ""), request.remote_addr
    ):
        raise TooManyRequests(retry_after=retry_after())
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        reset.request_reset(
            form.email.data,
            lambda token: url_for("auth.reset_password", token=token, _external=True),
        )  # committed; the worker sends the e-mail
        flash(
            _(
                "If an account uses this address, we have sent it a link to choose a new "
                "password. It works once, for %(minutes)d minutes.",
                minutes=settings().PASSWORD_RESET_TTL_MIN,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an e-mailed link; every login and API token then ends."""
    user = reset.user_for_token(token)
    if user is None:
        return render_template("auth/reset.html", form=None), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset.reset_with_token(token, form.new_password.data or "")
        except PasswordPolicyError as e:
            db.session.rollback()
            form.new_password.errors = [*form.new_password.errors, _policy_message(e)]
        else:
            db.session.commit()
            if current_user.is_authenticated:
                _fresh_session()
                logout_user()
            flash(
                _("Your password is changed and every device was signed out. Log in now."),
                "success",
            )
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, username=user.username)
