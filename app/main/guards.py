"""Role guards for page views: operators and admins on operator pages, participants on theirs.

A signed-out visitor is sent to the login page; a signed-in person with the wrong role gets 403.
Per-object checks (which base, whose booking) live in the views, answering 404 for objects
outside a person's reach so that their existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def roles_required(*roles: str) -> Callable:
    """Allow only signed-in users whose role is in ``roles``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
