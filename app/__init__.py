"""The Chunlei web application: ``create_app`` reads as the table of contents."""

from __future__ import annotations

import os
import secrets
import time

from apiflask import APIFlask
from flask import Flask

from config import Config


def create_app(config_class: type[Config] = Config, *, instance_path: str | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error handlers, CLI commands.

    ``instance_path`` overrides Flask's instance folder (``instance/`` beside the package).
    """
    # APIFlask is Flask plus the OpenAPI spec of /api/v1; the site keeps its HTML error pages.
    app = APIFlask(
        __name__,
        instance_relative_config=True,
        instance_path=instance_path,
        title="Chunlei API",
        version="v1",
        spec_path="/api/v1/openapi.json",
        docs_path=None,
        json_errors=False,
    )
    app.config.from_object(config_class)
    configure(app)
    register_observability(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def configure(app: Flask) -> None:
    """Fill in what depends on the instance folder, and refuse unsafe production settings."""
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "chunlei.sqlite")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite's pools take no size: one file (or one in-memory database) per process.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        for key in ("pool_size", "max_overflow"):
            options.pop(key, None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if app.config.get("ENV_NAME") == "production":
        # Cookies travel over HTTPS only, whatever a config subclass says.
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    if not app.config.get("SECRET_KEY"):
        if app.config.get("ENV_NAME") == "production":
            raise RuntimeError("SECRET_KEY must be set when CHUNLEI_ENV=production")
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)


def instance_secret_key(folder: str) -> str:
    """The key kept in ``folder/secret_key`` (0600), made at random on first use.

    A fixed development key would let anyone forge a session cookie on a demo reachable from a
    network; a key made here once survives restarts, so sessions do too. Several processes
    starting at once agree: only one can create the file (O_EXCL), the others read it.
    """
    path = os.path.join(folder, "secret_key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
        key = ""
        for _ in range(50):  # another process may have created the file and not written yet
            with open(path, encoding="ascii") as kept:
                key = kept.read().strip()
            if key:
                break
            time.sleep(0.02)
        if len(key) < 32:
            raise RuntimeError(f"{path} holds no usable key: delete it or set SECRET_KEY") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as new:
        new.write(key + "\n")
    return key


def register_observability(app: Flask) -> None:
    """Logs (JSON or text), a request id and request metrics on every request; first, so its
    hooks see every request, also those another hook refuses."""
    from app.observability.web import init_app

    init_app(app)


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every table on db.metadata, for Flask-Migrate)
    from app.extensions import db, migrate, multi_row_inserts

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            multi_row_inserts(engine)
    from app.jobs import queue

    queue.init_app(app)
    from app.services.notify import mailer

    mailer.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    from app.main.web import init_web

    init_web(app)


def register_blueprints(app: APIFlask) -> None:
    from app.auth import bp as auth_bp
    from app.health import bp as health_bp
    from app.main import bp as main_bp
    from app.operator import bp as operator_bp
    from app.participant import bp as participant_bp
    from app.runs import bp as runs_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(participant_bp)
    app.register_blueprint(runs_bp)

    from app.api import register as register_api

    register_api(app)


def register_errorhandlers(app: Flask) -> None:
    """HTML error pages for people, JSON errors under /api/ (decided by the request path)."""
    from app.main.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
