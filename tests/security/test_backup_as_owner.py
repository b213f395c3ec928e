"""Backup and restore of a secured server database with the owner's credentials (issue 15.2): the
owner is under its tables' forced row-level security too, so pg_dump and pg_restore must run with
row security on (its own policy sees every row) — without it pg_dump refused the first policed table."""
from __future__ import annotations

from sqlalchemy import text

from shell.db.engine import make_engine
from shell.db.pgdump import pg_backup, pg_restore


def _counts(url) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = ("grid_persons", "grid_events", "core_audit_log", "core_users", "volunteer_points_ledger")
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}
    finally:
        engine.dispose()


def test_owner_backs_up_and_restores_a_secured_database(pg_secure_db, tmp_path):
    before = _counts(pg_secure_db.url)           # the superuser's count: every row
    dump = pg_backup(pg_secure_db.owner_url, tmp_path / "street.dump")
    with make_engine(pg_secure_db.url).begin() as conn:
        conn.execute(text("DELETE FROM grid_visit_logs"))
    safety = pg_restore(pg_secure_db.owner_url, dump, safety_folder=tmp_path)
    assert safety.exists()
    assert _counts(pg_secure_db.url) == before
    # still secured after the restore: a grid worker sees only their grid's residents
    with pg_secure_db.psycopg("grid_worker") as c:
        seen = c.execute("SELECT count(*) FROM grid_persons").fetchone()[0]
    assert 0 < seen < before["grid_persons"]
