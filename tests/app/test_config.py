"""Configuration from the environment: database URLs, the production SECRET_KEY rule."""

from __future__ import annotations

import stat
from dataclasses import fields
from pathlib import Path

import pytest

from app import create_app
from config import (
    Settings,
    TestingConfig,
    database_url,
    engine_options,
    env_variable,
    markdown_table,
    settings,
)


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


def test_pool_options_come_from_the_environment_without_a_ping_by_default():
    assert engine_options({}) == {
        "pool_pre_ping": False, "pool_recycle": 1800, "pool_size": 5, "max_overflow": 10,
    }  # fmt: skip
    tuned = engine_options(
        {"DB_POOL_PRE_PING": "1", "DB_POOL_SIZE": "8", "DB_POOL_RECYCLE_S": "60"}
    )
    assert tuned["pool_pre_ping"] is True and tuned["pool_size"] == 8
    assert tuned["pool_recycle"] == 60


def test_pool_sizes_reach_a_server_database_and_are_dropped_for_sqlite():
    class Server(TestingConfig):
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://nobody@127.0.0.1:1/none"
        SQLALCHEMY_ENGINE_OPTIONS = engine_options({"DB_POOL_SIZE": "7"})

    app = create_app(Server)
    with app.app_context():
        from app.extensions import db

        assert db.engine.pool.size() == 7  # the engine is built, nothing connects yet
    sqlite = create_app(TestingConfig).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert "pool_size" not in sqlite and "max_overflow" not in sqlite


def test_the_demo_keeps_a_random_secret_key_in_the_instance_folder(tmp_path):
    """Without SECRET_KEY (outside production) a random key is made once, kept 0600, reused."""

    class Demo(TestingConfig):
        ENV_NAME = "development"
        SECRET_KEY = None

    first = create_app(Demo, instance_path=str(tmp_path / "one"))
    key = first.config["SECRET_KEY"]
    assert key != "dev-only-not-secret" and len(key) >= 43
    kept = tmp_path / "one" / "secret_key"
    assert kept.read_text().strip() == key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert create_app(Demo, instance_path=str(tmp_path / "one")).config["SECRET_KEY"] == key
    assert create_app(Demo, instance_path=str(tmp_path / "two")).config["SECRET_KEY"] != key


def test_readme_configuration_table_is_generated_from_the_settings():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    between = readme.split("<!-- settings:begin -->\n")[1].split("<!-- settings:end -->")[0]
    assert between == markdown_table(), "README is stale: paste the output of `python config.py`"
    listed = [line.split("`")[1] for line in between.splitlines()[2:]]
    assert listed == [env_variable(f.name) for f in fields(Settings)]
    assert "MAX_SLOTS_PER_BOOKING" in listed


def test_settings_are_typed_and_a_bad_value_names_its_variable():
    read = Settings.from_env({"SOLVER_WORKERS": "3", "SAME_DAY_SAME_BASE": "no", "RUNS_DIR": ""})
    assert read.SOLVER_WORKERS == 3 and read.SAME_DAY_SAME_BASE is False
    assert read.RUNS_DIR is None and read.MAX_SLOTS_PER_BOOKING == 4
    with pytest.raises(ValueError, match="SOLVER_WORKERS='two'"):
        Settings.from_env({"SOLVER_WORKERS": "two"})
    with pytest.raises(ValueError, match="CHUNLEI_TIMEZONE='Mars/Olympus'"):
        Settings.from_env({"CHUNLEI_TIMEZONE": "Mars/Olympus"})


def test_code_reads_the_settings_the_app_runs_with(app):
    app.config["MAX_SLOTS_PER_BOOKING"] = 2
    with app.app_context():
        assert settings().MAX_SLOTS_PER_BOOKING == 2
        assert settings().TIMEZONE == "Asia/Shanghai"
