"""Optimistic locking: turn a stale save into a ConflictError that names who changed the record."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shell.clock import format_local
from shell.core.models import AuditLog
from shell.errors import ConflictError


def last_change(session: Session, obj: Any) -> AuditLog | None:
    return session.scalar(
        select(AuditLog).where(AuditLog.entity == obj.__tablename__, AuditLog.entity_id == str(obj.id),
                               AuditLog.action.in_(("update", "insert")))
        .order_by(AuditLog.id.desc()).limit(1)
    )


def saved_values(session: Session, obj: Any) -> dict:
    """The record's row as it is in the database now (not as this session holds it)."""
    table = obj.__table__
    row = session.execute(select(table).where(table.c.id == obj.id)).mappings().first()
    return dict(row) if row is not None else {}


def conflict_for(session: Session, obj: Any, what: str = "记录") -> ConflictError:
    entry = last_change(session, obj)
    who = f"{entry.actor_name or '其他用户'}于 {format_local(entry.at)}" if entry else "其他用户"
    return ConflictError(f"这条{what}已被{who}修改。为避免覆盖对方的修改，本次保存未生效；"
                         "可以对比双方的内容，或重新载入后再改。", saved_values(session, obj))


def check_version(session: Session, obj: Any, expected_version: int | None, what: str = "记录") -> None:
    """Refuse to edit ``obj`` when the version the user started from is no longer current."""
    if expected_version is None:
        return
    session.refresh(obj)
    if obj.version_id != expected_version:
        raise conflict_for(session, obj, what)


def flush_or_conflict(session: Session, obj: Any, what: str = "记录") -> None:
    """Flush; if another desktop saved ``obj`` in between (the version-guarded UPDATE matched no
    row), roll back and raise a ConflictError naming who changed it."""
    from sqlalchemy.orm.exc import StaleDataError

    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise conflict_for(session, obj, what) from None
