"""The Flask extension objects, created unbound; ``create_app`` binds them."""

import contextlib
import sqlite3
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

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

if TYPE_CHECKING:
    # Flask-SQLAlchemy builds ``db.Model`` at run time from ``Base`` (a subclass of it with the
    # query property and table-name rules); a type checker cannot see an attribute as a base
    # class, so it sees ``Base`` itself.
    Model = Base
else:
    Model = db.Model

#: A session as the services take it: a plain Session or ``db.session``, its scoped proxy.
AnySession: TypeAlias = Session | scoped_session[Any]


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. ``execute`` returns a CursorResult for those
    statements, but SQLAlchemy's annotations give every ``execute`` the general Result."""
    return cast("CursorResult[Any]", result).rowcount


@event.listens_for(Engine, "connect")
def _sqlite_write_ahead_log(dbapi_connection, _record) -> None:
    """A SQLite file is shared by the web server, the worker and the scheduler (the demo):
    write-ahead logging lets them read while one of them writes (a long apply no longer locks
    every page and heartbeat out). An in-memory database keeps its own journal."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Another process may be switching it right now: it ends up in WAL either way.
        with contextlib.suppress(sqlite3.OperationalError):
            dbapi_connection.execute("PRAGMA journal_mode=WAL").close()


def multi_row_inserts(engine: Engine) -> None:
    """Bulk inserts (``session.execute(insert(Model), rows)``) go to PostgreSQL as multi-row
    INSERT statements, a page of rows each, as they already do when they return ids.

    Without this the psycopg dialect sends one INSERT per row (pipelined, but each a statement
    of its own on the server, with its own trigger firings): importing the programme week's
    ~465,000 rows took 96 s, 36 s with it.
    """
    if engine.dialect.name == "postgresql":
        engine.dialect.use_insertmanyvalues_wo_returning = True


migrate = Migrate(compare_type=True, render_as_batch=True)

# --- web extensions (login, CSRF, translations, local Bootstrap) ---
# The login limit is per app, not an extension object: see app.services.accounts.login_limit.

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
#: Outgoing e-mail (Flask-Mailman); the outbox's workers send through it.
mail = Mail()
