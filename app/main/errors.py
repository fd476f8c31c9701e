"""Error answers: friendly HTML pages for people, JSON for ``/api/`` clients.

One dispatcher for every HTTP error, so APIFlask's JSON errors and the site's pages never
step on each other: the request path decides. A use case's refusal (``ServiceError``) raised
by a page is handled once here: roll back, flash the translated message, go back to where the
view said (:func:`back_on_refusal`) or to the page the form came from.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound

from app.extensions import db
from app.main.messages import refusal_message
from app.services.errors import ServiceError


def wants_json() -> bool:
    """API clients get JSON errors; everyone else gets a page."""
    return request.path.startswith("/api/")


def _json_error(code: int, name: str, message: str, headers: dict | None = None):
    from app.api.errors import error_response

    return error_response(code, message, headers=headers)


def kept_headers(error: HTTPException) -> dict:
    """The headers an error must keep in any body (a 405's ``Allow``, a 429's ``Retry-After``)."""
    return {k: v for k, v in error.get_headers() if k in ("Allow", "Retry-After")}


def handle_http_error(error: HTTPException):
    """Render any HTTP error as a page (HTML) or as ``{"error": {...}}`` (API)."""
    code = error.code or 500
    if wants_json():
        return _json_error(code, error.name, error.description or error.name, kept_headers(error))
    if code == 429 and request.endpoint == "auth.login":
        flash(_("Too many login attempts. Please wait a minute and try again."), "warning")
        return redirect(url_for("auth.login")), 303
    pages = {400: "errors/400.html", 403: "errors/403.html", 404: "errors/404.html"}
    template = pages.get(code, "errors/generic.html")
    return render_template(template, code=code, error=error), code, kept_headers(error)


def handle_csrf_error(error: CSRFError):
    """An expired or missing form token: explain and send the person back, keep nothing."""
    if wants_json():
        return _json_error(400, "Bad Request", error.description)
    return render_template("errors/csrf.html", code=400), 400


def handle_unexpected(error: InternalServerError):
    """A bug: roll back, log it, and still answer with a page (or JSON), never a traceback."""
    db.session.rollback()
    current_app.logger.error("unhandled error on %s: %r", request.path, error.original_exception)
    if wants_json():
        return _json_error(500, "Internal Server Error", "internal error")
    return render_template("errors/500.html", code=500), 500


def back_on_refusal(url: str) -> None:
    """Where a refused action of this request goes back to (set before calling the service)."""
    g.refusal_redirect = url


def handle_refusal(error: ServiceError):
    """A page's action refused by a service: nothing kept, the reason shown, back we go."""
    db.session.rollback()
    if error.status == 404:
        return handle_http_error(NotFound())
    flash(refusal_message(error), "warning")
    target = g.get("refusal_redirect")
    if target is None:  # back to the page the form came from, if it is one of ours
        came_from = urlsplit(request.referrer or "")
        ours = came_from.netloc == request.host and came_from.path.startswith("/")
        target = came_from.path + (f"?{came_from.query}" if came_from.query else "")
        if not ours:
            target = url_for("main.index")
    return redirect(target)


def register(app: Flask) -> None:
    """Install the handlers on ``app`` (called from ``create_app``)."""
    app.register_error_handler(ServiceError, handle_refusal)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    # Flask routes any uncaught exception here (outside testing) with ``original_exception``.
    app.register_error_handler(InternalServerError, handle_unexpected)
