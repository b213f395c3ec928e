"""Shared fixtures: the test setup shipped for plugin authors (``shell.testing``: a migrated database
on SQLite (always) and PostgreSQL (127.0.0.1:5432 or JIEDAO_TEST_PG_URL), templates copied per test,
demo actors, ``make_ctx``) and the audit guard. With JIEDAO_REQUIRE_PG=1 (CI) an unreachable server
fails the PG tests."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never read or write the real user's config or keyring (one folder per process: per worker).
os.environ.setdefault("JIEDAO_CONFIG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), f"jiedao-test-config-{os.getpid()}"))

# shell.testing: the fixtures (db, sqlite_db, pg_db, pg_server, pg_empty_url, make_ctx, templates …).
# tests.audit_guard: every service write anywhere in the suite must leave audit rows (issue 8).
pytest_plugins = ["shell.testing", "tests.audit_guard"]


def __getattr__(name):
    """``from tests.conftest import PG_URL`` (or REQUIRE_PG) still works: they live in shell.testing,
    which is imported here only once pytest has registered it as a plugin."""
    if name in ("PG_URL", "REQUIRE_PG"):
        import shell.testing

        return getattr(shell.testing, name)
    raise AttributeError(name)


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _own_config_dir(tmp_path_factory, monkeypatch):
    """Each test its own config folder: the per-user list preferences (shell.config.UserPrefs — the
    last filter, column widths) one test leaves must not filter the next test's page, and no test
    writes the real user's config."""
    monkeypatch.setenv("JIEDAO_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
