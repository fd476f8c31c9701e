"""Binds the web extensions and the template helpers every page uses.

Kept apart from ``create_app`` so the factory stays a table of contents: one call here sets up
login, CSRF, translations (zh_CN first), the login limiter and locally served Bootstrap.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import babel, bootstrap, csrf, db, login_manager
from app.models import Notification
from app.services.accounts import login_limit

LANG_COOKIE = "lang"

#: Sent with every response. Every script, style sheet, font and image is served by the app
#: itself, and no template holds an inline script, event handler or style attribute, so the
#: policy needs no 'unsafe-inline'. ``data:`` images are Bootstrap's own (form controls, the
#: navbar toggler). Feed keys travel in URLs: the Referer never takes them to other sites.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SAFETY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def ui_language() -> str:
    """``zh_CN`` or ``en``: the language Flask-Babel chose for this request."""
    return "zh_CN" if str(get_locale() or "zh_CN").startswith("zh") else "en"


def in_ui_language(zh: str, en: str) -> str:
    """Of a text given in both languages (the solver's, a notification's), the reader's."""
    return zh if ui_language() == "zh_CN" else en


def select_locale() -> str:
    """``?lang=`` wins, then the session, then the cookie, then the account; zh_CN otherwise."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and background jobs: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = request.args.get("lang")
    if wanted is not None and wanted in languages:
        session["lang"] = wanted
        return wanted
    for candidate in (session.get("lang"), request.cookies.get(LANG_COOKIE)):
        if isinstance(candidate, str) and candidate in languages:
            return candidate
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if isinstance(user_locale, str) and user_locale in languages:
        return user_locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths may be redirect targets (no open redirects)."""
    if not target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/")


def _fmt_dt(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    return "" if value is None else format_datetime(value, fmt)


def _fmt_time(value: datetime | None) -> str:
    return "" if value is None else format_datetime(value, "HH:mm")


def _fmt_day(value, fmt: str = "EEE M/d") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, fmt)
    return format_date(value, fmt)


def _percent(fraction: float | None) -> int:
    """A fraction as a whole percentage 0..100 (the ``cl-w-N`` / ``cl-h-N`` bar classes)."""
    return round(min(max(fraction or 0.0, 0.0), 1.0) * 100)


def _unread_count() -> int:
    """Unread notifications of the signed-in person (0 for visitors), for the navbar badge."""
    if not current_user or not current_user.is_authenticated:
        return 0
    unread = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
    )
    return unread or 0


def init_web(app: Flask) -> None:
    """Bind login, CSRF, Babel, the limiter and Bootstrap, and the template helpers."""
    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    app.config.setdefault("BOOTSTRAP_BTN_SIZE", "md")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_limit.init_app(app)
    bootstrap.init_app(app)

    from app.models import User
    from app.services.accounts.sessions import user_for_login

    @login_manager.user_loader
    def load_user(login_id: str) -> User | None:
        # A live login row, not just an account id: logout ends every copy of the cookies.
        return user_for_login(login_id)

    @app.after_request
    def safety_headers(response):
        for name, value in SAFETY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.after_request
    def remember_language(response):
        wanted = request.args.get("lang")
        if wanted in app.config["LANGUAGES"]:
            response.set_cookie(
                LANG_COOKIE, wanted, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
            )
        return response

    @app.context_processor
    def inject_helpers() -> dict:
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        return {
            "unread_count": _unread_count(),
            "has_runs_pages": "runs" in app.blueprints,
            "has_api_docs": "api.docs_page" in app.view_functions,
            "current_locale": locale,
            "html_lang": "zh-CN" if locale.startswith("zh") else "en",
            "languages": [("zh_CN", "中文"), ("en", "English")],
        }

    from app.main.inputs import init_inputs

    init_inputs(app)

    from app.main.labels import label

    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["timedelta"] = timedelta
    app.jinja_env.filters["dt"] = _fmt_dt
    app.jinja_env.filters["hm"] = _fmt_time
    app.jinja_env.filters["day"] = _fmt_day
    app.jinja_env.filters["pct"] = _percent
