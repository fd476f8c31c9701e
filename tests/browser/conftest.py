"""A live server on 127.0.0.1 (a thread) over a small seeded SQLite file, and Debian's chromium.

The server runs the real app with CSRF on; the world is the two-base world of the service
tests plus a weekly template at Linyi, so an operator can generate and publish a week.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.services.timetable import service as timetable
from config import TestingConfig
from tests.app.services.world import World, build_world

CHROMIUM = "/usr/bin/chromium"


@dataclass
class Live:
    """The running server's address, the seeded world, and the app (a test may set its config)."""

    url: str
    world: World
    app: Flask


@pytest.fixture
def live(tmp_path) -> Iterator[Live]:
    """Start the app on a free port of 127.0.0.1; stop it and drop the database afterwards."""

    class BrowserConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'browser.sqlite'}"
        WTF_CSRF_ENABLED = True

    app = create_app(BrowserConfig)
    with app.app_context():
        db.create_all()
        world = build_world()
        spec = timetable.TemplateSpec(weekdays=(0, 1, 2), open_minute=10 * 60, close_minute=22 * 60)
        timetable.save_template(world.hubs["B001"], spec, world.users["op1"])
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(url=f"http://127.0.0.1:{server.server_port}", world=world, app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (skipped when chromium is not installed)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()
