"""What a transaction promises holds on both engines (issue 14.1): a savepoint, a DDL statement or a
write first in a session is inside a real transaction, so a rollback undoes it; reads before the
first write see what others committed (PostgreSQL's READ COMMITTED), so a desktop that read a row
before another saved it can still write."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from shell.core.models import Setting


def _count(db, where: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM core_settings WHERE key LIKE '{where}%'")).scalar()


def test_a_savepoint_first_in_a_session_is_rolled_back_with_it(db):
    with db.session_factory() as s:
        with s.begin_nested():  # the session's first statement: a SAVEPOINT
            s.add(Setting(key="t14.savepoint", value=1))
        with s.begin_nested():
            s.add(Setting(key="t14.savepoint2", value=2))
        s.rollback()
    assert _count(db, "t14.") == 0


def test_a_released_savepoint_inside_a_write_is_rolled_back_with_it(db):
    with db.session_factory() as s:
        s.add(Setting(key="t14.outer", value=1))
        s.flush()
        with s.begin_nested():
            s.add(Setting(key="t14.inner", value=2))
        s.rollback()
    assert _count(db, "t14.") == 0


def test_ddl_in_a_failed_transaction_is_undone(db):
    with pytest.raises(RuntimeError):
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t14_scratch (x INTEGER)")
            raise RuntimeError("half-way")
    with db.engine.connect() as conn:
        names = set(conn.dialect.get_table_names(conn))
    assert "t14_scratch" not in names


def test_a_session_that_read_before_another_saved_can_still_write(db):
    with db.session_factory() as a, db.session_factory() as b:
        a.execute(text("SELECT count(*) FROM core_settings")).scalar()  # a reads first …
        b.add(Setting(key="t14.b", value=1))
        b.commit()  # … b saves …
        a.add(Setting(key="t14.a", value=2))
        a.commit()  # … and a's write is not refused as "database is locked"
        # a sees b's row at its next statement, as under PostgreSQL's READ COMMITTED
        assert a.execute(text("SELECT count(*) FROM core_settings WHERE key = 't14.b'")).scalar() == 1
    assert _count(db, "t14.") == 2


def test_sqlite_autocommit_work_leaves_the_connection_transactional(sqlite_db):
    """PRAGMA journal_mode and ANALYZE run with AUTOCOMMIT; the pooled connection that comes back
    still puts the next session's writes in one transaction."""
    engine = sqlite_db.engine
    engine.dispose()
    with engine.connect() as conn:
        assert conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "PRAGMA journal_mode = WAL").scalar() == "wal"
    with sqlite_db.session_factory() as s:
        with s.begin_nested():
            s.add(Setting(key="t14.after_autocommit", value=1))
        s.rollback()
    assert _count(sqlite_db, "t14.") == 0
