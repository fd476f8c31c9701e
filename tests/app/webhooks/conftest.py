"""Fixtures of the webhook tests: local receivers, and the tiny world on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.app.jobs.conftest import queue_app, queue_name, redis_url, workers  # noqa: F401
from tests.app.services.fixtures import app, world  # noqa: F401  (fixtures)
from tests.app.webhooks.receiver import Receiver


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """Start receivers on demand (``receivers(statuses=[500, 200])``); all stopped after."""
    made: list[Receiver] = []

    def start(**kw) -> Receiver:
        r = Receiver(**kw).start()
        made.append(r)
        return r

    yield start
    for r in made:
        r.stop()


@pytest.fixture
def private_ok(app):  # noqa: F811  (the imported fixture)
    """Receivers on 127.0.0.1 are allowed (they are refused by default)."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    return app
