"""Schemathesis against the API's own OpenAPI spec (in-process WSGI): generated requests for
every operation, with a participant's token, must never get a server error, and every answer
must match the spec (status code documented, content type, headers, response schema).

Whether a schema-valid request is accepted is not checked: the services refuse valid-looking
input by rule (an unknown slot, a window in the past), with a documented 4xx.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.auth import issue_token
from app.extensions import db
from tests.app.services.world import build_world
from tests.conftest import make_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Examples per operation: about 12 operations, well under a minute on a busy machine.
EXAMPLES = 15


@pytest.fixture(scope="module")
def api_app(tmp_path_factory) -> Iterator:
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'api.sqlite'}")
    with app.app_context():
        db.create_all()
        world = build_world()
        app.config["SCHEMATHESIS_TOKEN"] = issue_token(world.users["p1"])
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="module")
def api_schema(api_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_spec(case, api_app):
    token = api_app.config["SCHEMATHESIS_TOKEN"]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
