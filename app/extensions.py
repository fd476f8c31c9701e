"""The Flask extension objects, created unbound; ``create_app`` binds them."""

from functools import wraps

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# A naming convention keeps constraint names stable, so Alembic revisions stay reviewable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)

# --- web extensions (login, CSRF, translations, login rate limit, local Bootstrap) ---

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# No default limits: only the login form and the token endpoint are limited, and only they pay
# for the check (``rate_limited``); an automatic check before every request would cost each API
# call a lookup through every limit and exemption.
limiter = Limiter(key_func=get_remote_address, default_limits=[], auto_check=False)


def rate_limited(limit_value, **options):
    """``limiter.limit(limit_value, **options)``, checked when the decorated view runs."""

    def decorate(view):
        limited = limiter.limit(limit_value, **options)(view)

        @wraps(limited)
        def checked(*args, **kwargs):
            limiter.check()
            return limited(*args, **kwargs)

        return checked

    return decorate


bootstrap = Bootstrap5()
