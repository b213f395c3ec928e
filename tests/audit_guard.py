"""Every service that writes leaves audit rows — checked across the whole test suite.

A pytest plugin (loaded by tests/conftest.py). It watches every INSERT/UPDATE/DELETE the tests cause.
A statement whose call stack passes through a service module (``plugins.*.services``/``importers``,
the core services) marks its transaction; when such a transaction commits without a row written to
``core_audit_log``, the test that caused it fails at teardown, naming the service and the tables.
Writes a test makes itself (fixtures, tampering to test a guard) and the demo seeder are not services
and are not checked, nor is a statement that changed no row (a guarded UPDATE whose WHERE refused).
"""
from __future__ import annotations

import re
import sys
import threading

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

DML = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)
SERVICE_MODULE = re.compile(r"^(plugins\.\w+\.(services|importers)|shell\.core\.(areas|auth|settings|maintenance|"
                            r"transfer|reporting|audit_query|calendar))$")
AUDIT_TABLE = "core_audit_log"
NOT_DATA = {"alembic_version"}

_found: list[str] = []
_audited_tables: set[str] = set()


def _server_audited() -> set[str]:
    if not _audited_tables:
        from shell.db.security.server_audit import audit_specs
        _audited_tables.update(audit_specs())
    return _audited_tables
_lock = threading.Lock()


def _service_on_stack() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if SERVICE_MODULE.match(name):
            return f"{name}.{frame.f_code.co_name}"
        frame = frame.f_back
    return None


@event.listens_for(Engine, "after_cursor_execute")
def _watch(conn, cursor, statement, _params, _context, _executemany):
    server = conn.info.get("jiedao_server_audit", (False,))[0]
    if server and "jiedao_sec.audit_event" in statement:
        conn.info["jd_audited"] = True     # audit.record on a secured database
        return
    m = DML.match(statement)
    if not m:
        return
    if cursor.rowcount == 0:
        # Changed nothing: a guarded debit refused by its WHERE, a delete of what is gone.
        return
    table = m.group(1)
    if table == AUDIT_TABLE or (server and table in _server_audited()):   # the server's row trigger wrote it
        conn.info["jd_audited"] = True
        return
    if table in NOT_DATA:
        return
    service = _service_on_stack()
    if service is not None:
        conn.info.setdefault("jd_service_writes", {}).setdefault(service, set()).add(table)


def _forget(conn) -> None:
    if conn.invalidated:  # the server ended the session: the connection and its info are thrown away
        return
    conn.info.pop("jd_service_writes", None)
    conn.info.pop("jd_audited", None)


@event.listens_for(Engine, "commit")
def _on_commit(conn):
    writes = conn.info.get("jd_service_writes")
    if writes and not conn.info.get("jd_audited"):
        with _lock:
            _found.extend(f"{service} wrote {'、'.join(sorted(tables))} without an audit row"
                          for service, tables in sorted(writes.items()))
    _forget(conn)


@event.listens_for(Engine, "rollback")
def _on_rollback(conn):
    _forget(conn)


@pytest.fixture(autouse=True)
def every_service_write_is_audited():
    with _lock:
        _found.clear()
    yield
    with _lock:
        found = sorted(set(_found))
        _found.clear()
    if found:
        pytest.fail("Service writes committed without audit rows:\n" + "\n".join(found), pytrace=False)
