"""Home page and the language switch."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.main import bp
from app.main.web import LANG_COOKIE, is_safe_next


@bp.get("/")
def index():
    """Signed-in people go straight to their own start page; visitors see what Chunlei is."""
    if current_user.is_authenticated:
        if current_user.role in ("admin", "operator"):
            return redirect(url_for("operator.home"))
        return redirect(url_for("participant.find_slots"))
    return render_template("main/index.html")


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the interface language and come back to the page the person was on."""
    target = request.args.get("next")
    if not is_safe_next(target):
        target = url_for("main.index")
    response = redirect(target)
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response
