"""Shared fixtures: a migrated database on SQLite (always) and PostgreSQL (127.0.0.1:5432 or
JIEDAO_TEST_PG_URL). With JIEDAO_REQUIRE_PG=1 (CI) an unreachable server fails the PG tests."""
from __future__ import annotations

import os
import shutil
import uuid

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never read or write the real user's config or keyring.
os.environ.setdefault("JIEDAO_CONFIG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), f"jiedao-test-config-{os.getpid()}"))

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database

# Every service write anywhere in the suite must leave audit rows (issue 8): see tests/audit_guard.py.
pytest_plugins = ["tests.audit_guard"]

PG_URL = os.environ.get("JIEDAO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("JIEDAO_REQUIRE_PG") == "1"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated empty database file, copied for each test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    db = open_database(path, backup=False)
    db.dispose()
    return path


@pytest.fixture
def sqlite_db(sqlite_template, tmp_path):
    path = tmp_path / "jiedao.sqlite"
    shutil.copy(sqlite_template, path)
    db = open_database(path, backup=False)
    yield db
    db.dispose()


def _pg_admin_engine():
    return create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 3})


@pytest.fixture(scope="session")
def pg_server():
    """The admin URL of a reachable PostgreSQL server, or skip/fail as the environment demands."""
    engine = _pg_admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        engine.dispose()
        if REQUIRE_PG:
            pytest.fail(f"JIEDAO_REQUIRE_PG=1 but PostgreSQL at {PG_URL} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} (set JIEDAO_REQUIRE_PG=1 to make this fail)")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_empty_url(pg_server):
    """URL of a brand-new empty database, dropped afterwards."""
    name = f"jd_test_{uuid.uuid4().hex[:12]}"
    with pg_server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
    yield url
    with pg_server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_db(pg_empty_url):
    db = open_database(pg_empty_url, backup=False)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def db(request):
    """Both engines: for tests where SQL dialect or concurrency matters."""
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


@pytest.fixture
def system_actor():
    return Actor.system()


@pytest.fixture
def make_ctx():
    """make_ctx(db, actor) -> ServiceContext on a new session (closed at teardown)."""
    sessions = []

    def factory(database, actor):
        s = database.session_factory()
        sessions.append(s)
        return ServiceContext(s, actor)

    yield factory
    for s in sessions:
        s.close()
