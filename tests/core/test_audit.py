import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from shell.core import settings
from shell.core.context import ServiceContext
from shell.core.models import AuditLog, User
from tests.core.helpers import admin


def test_audit_log_refuses_update_and_delete(db):
    admin(db)
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) > 0
    for stmt in ("UPDATE core_audit_log SET action = 'tampered'", "DELETE FROM core_audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(text(stmt))
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "tampered")) == 0
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(text("TRUNCATE core_audit_log"))


def test_orm_delete_of_audit_row_fails_too(sqlite_db):
    admin(sqlite_db)
    with sqlite_db.session_factory() as s:
        row = s.scalar(select(AuditLog).limit(1))
        s.delete(row)
        with pytest.raises(DBAPIError):
            s.commit()


def test_secrets_are_not_audited(sqlite_db):
    admin(sqlite_db)
    with sqlite_db.session_factory() as s:
        row = s.scalar(select(AuditLog).where(AuditLog.entity == "core_users", AuditLog.action == "insert"))
        assert row.after["username"] == "admin"
        assert "password_hash" not in row.after


def test_rolled_back_change_leaves_no_audit(sqlite_db):
    actor = admin(sqlite_db)
    with sqlite_db.session_factory() as s:
        before = s.scalar(select(func.count()).select_from(AuditLog))
        ctx = ServiceContext(s, actor)
        settings.set_value(ctx, settings.CORE_SETTINGS[0], "青石街道办事处")
        s.rollback()
        assert s.scalar(select(func.count()).select_from(AuditLog)) == before
        settings.set_value(ctx, settings.CORE_SETTINGS[0], "青石街道办事处")
        s.commit()
        last = s.scalar(select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
        assert (last.entity, last.action, last.after["value"], last.actor_name) == \
            ("core_settings", "insert", "青石街道办事处", "管理员")


def test_user_update_audit_has_before_and_after(sqlite_db):
    actor = admin(sqlite_db)
    with sqlite_db.session_factory() as s:
        u = s.scalar(select(User))
        ServiceContext(s, actor)  # sets the session's actor for the audit listener
        u.display_name = "新名字"
        s.commit()
        last = s.scalar(select(AuditLog).where(AuditLog.action == "update").order_by(AuditLog.id.desc()).limit(1))
        assert last.before == {"display_name": "管理员"} and last.after == {"display_name": "新名字"}
