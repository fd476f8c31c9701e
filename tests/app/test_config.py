"""Configuration from the environment: database URLs, the production SECRET_KEY rule."""

from __future__ import annotations

import pytest

from app import create_app
from config import TestingConfig, database_url


def test_plain_postgresql_urls_get_the_psycopg_driver():
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h:5433/db") == "postgresql+psycopg://u@h:5433/db"
    assert database_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"
    assert database_url("") is None and database_url(None) is None


def test_production_refuses_to_start_without_a_secret_key():
    class Production(TestingConfig):
        ENV_NAME = "production"
        SECRET_KEY = None
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Production)


def test_default_database_is_a_sqlite_file_in_the_instance_folder():
    class Default(TestingConfig):
        SQLALCHEMY_DATABASE_URI = None

    app = create_app(Default)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("chunlei.sqlite")
    assert app.instance_path in uri


def test_tests_never_touch_the_servers_named_database():
    # PostgreSQL tests get scratch databases from tests/conftest.py, whatever TEST_DATABASE_URL says.
    assert TestingConfig.SQLALCHEMY_DATABASE_URI == "sqlite://"
