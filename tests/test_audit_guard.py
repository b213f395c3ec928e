"""The suite-wide audit guard (tests/audit_guard.py) really catches a service that writes without
leaving an audit row, and lets an audited one and a test's own writes pass."""
from __future__ import annotations

from sqlalchemy import text

from tests import audit_guard

SERVICE_SOURCE = '''
from sqlalchemy import text
from shell.core import audit

def quiet_write(session):
    session.execute(text("INSERT INTO core_settings (key, value, created_at, updated_at, version_id) "
                         "VALUES ('probe.quiet', '1', '2026-01-01', '2026-01-01', 1)"))

def refused_write(session):
    # a guarded debit whose WHERE refuses: nothing changes, nothing to audit
    session.execute(text("UPDATE core_settings SET value = '0' WHERE key = 'probe.none' AND 1 = 0"))

def audited_write(session):
    session.execute(text("INSERT INTO core_settings (key, value, created_at, updated_at, version_id) "
                         "VALUES ('probe.loud', '1', '2026-01-01', '2026-01-01', 1)"))
    audit.record(session, "update", "core_settings", "probe.loud", "探针")
'''


def _probe_service():
    namespace = {"__name__": "plugins.probe.services"}  # what the guard takes for a service module
    exec(compile(SERVICE_SOURCE, "plugins/probe/services.py", "exec"), namespace)
    return namespace


def test_an_unaudited_service_write_is_caught(sqlite_db):
    service = _probe_service()
    with sqlite_db.session_factory() as s:
        service["quiet_write"](s)
        s.commit()
    found = list(audit_guard._found)
    audit_guard._found.clear()  # this one was on purpose: do not fail this test at teardown
    assert found == ["plugins.probe.services.quiet_write wrote core_settings without an audit row"]


def test_audited_writes_and_the_tests_own_writes_pass(sqlite_db):
    service = _probe_service()
    with sqlite_db.session_factory() as s:
        service["audited_write"](s)
        s.commit()
    with sqlite_db.engine.begin() as conn:  # a test's own setup write is not a service
        conn.execute(text("UPDATE core_settings SET value = '2' WHERE key = 'probe.loud'"))
    assert audit_guard._found == []


def test_a_statement_that_changed_nothing_is_not_a_write(sqlite_db):
    service = _probe_service()
    with sqlite_db.session_factory() as s:
        service["refused_write"](s)
        s.commit()
    assert audit_guard._found == []
