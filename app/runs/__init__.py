"""Optimization runs: history, the run report, the re-optimize button, and the run commands.

``cli_group=None`` puts the blueprint's commands (``reoptimize``, ``runs``, ``scheduler``) at the
top level of ``flask --app wsgi``.
"""

from flask import Blueprint

bp = Blueprint("runs", __name__, url_prefix="/runs", cli_group=None)

from app.runs import cli, routes, whatif  # noqa: E402,F401
