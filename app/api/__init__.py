"""The JSON API, ``/api/v1``: APIFlask views, bearer tokens, OpenAPI 3 spec and docs page."""

from apiflask import APIBlueprint

bp = APIBlueprint(
    "api", __name__, url_prefix="/api/v1", tag="Chunlei API v1", template_folder="templates"
)

from app.api import docs, errors, routes, sheets, webhooks  # noqa: E402,F401

errors.register(bp)

from app.api.setup import register  # noqa: E402

__all__ = ["bp", "register"]
