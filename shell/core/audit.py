"""The audit log: every insert/update/delete flushed through a Jiedao session is recorded with
actor, time, entity and before/after values, in the same transaction as the change.

On a secured PostgreSQL database the server writes it (shell/db/security/server_audit.py): row
triggers record every change with the actor taken from the login role, so the listener here writes
nothing (one entry per change, never two) and ``record()`` calls ``jiedao_sec.audit_event``. Whether
the server audits is asked once per connection."""
from __future__ import annotations

import decimal
import enum
import json
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Session

from shell.clock import utcnow
from shell.core import chain as _chain  # noqa: F401  (registers the hash-chain insert hook)
from shell.core.models import AuditLog
from shell.db import session as _session_module
from shell.db.guards import SKIP_COLUMNS as SKIP_COLUMNS  # shared with the server's audit triggers
from shell.db.session import JiedaoSession


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} 字节>"
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _columns(obj: Any):
    mapper = inspect(obj).mapper
    for attr in mapper.column_attrs:
        col = attr.columns[0]
        if attr.key in SKIP_COLUMNS or col.info.get("audit", True) is False:
            continue
        yield attr


def _snapshot(obj: Any) -> dict:
    values = inspect(obj).dict  # what is loaded; never triggers a load inside the flush
    return {a.key: _plain(values.get(a.key)) for a in _columns(obj)}


def _changes(obj: Any) -> tuple[dict, dict]:
    state = inspect(obj)
    before, after = {}, {}
    for a in _columns(obj):
        hist = state.attrs[a.key].history
        if hist.has_changes():
            before[a.key] = _plain(hist.deleted[0]) if hist.deleted else None
            after[a.key] = _plain(hist.added[0]) if hist.added else None
    return before, after


def _identity(obj: Any) -> str | None:
    state = inspect(obj)
    ident = state.mapper.primary_key_from_instance(obj)
    if all(i is None for i in ident):
        return None
    return ",".join(str(i) for i in ident)


def _audited(obj: Any) -> bool:
    return getattr(type(obj), "__audit__", True)


def server_audit(session: Session) -> tuple[bool, bool]:
    """(the server writes this database's audit log, this session may name the actor itself — the
    owner's maintenance); (False, False) on SQLite without a round trip."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return (False, False)
    from shell.db.security.server_audit import server_audit as ask
    return ask(session.connection())


def _claim_actor(session: Session) -> None:
    """An owner's session on a secured database names the program's actor for the server's entries
    (only the owner's: the server ignores it for users, whose actor is their login role)."""
    actor_id = session.info.get("actor_id")
    session.connection().execute(
        text("SELECT set_config('jiedao.actor_id', :i, true), set_config('jiedao.actor_name', :n, true)"),
        {"i": "" if actor_id is None else str(actor_id), "n": session.info.get("actor_name", "") or ""})


@event.listens_for(JiedaoSession, "before_flush")
def _before_flush(session: Session, _flush_context, _instances) -> None:
    if not (session.new or session.dirty or session.deleted):
        return
    on, claims = server_audit(session)
    if on and claims:
        _claim_actor(session)


@event.listens_for(JiedaoSession, "after_flush")
def _write_audit(session: Session, _flush_context) -> None:
    # after_flush still sees the pre-flush new/dirty/deleted sets and attribute history, and
    # inserted rows already have their ids.
    if server_audit(session)[0]:
        return   # the server's row triggers wrote the entries
    rows = []
    now = utcnow()
    actor_id, actor_name = session.info.get("actor_id"), session.info.get("actor_name", "")
    for obj in session.new:
        if _audited(obj):
            rows.append(dict(action="insert", entity=obj.__tablename__, entity_id=_identity(obj),
                             before=None, after=_snapshot(obj)))
    for obj in session.dirty:
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                rows.append(dict(action="update", entity=obj.__tablename__, entity_id=_identity(obj),
                                 before=before, after=after))
    for obj in session.deleted:
        if _audited(obj):
            rows.append(dict(action="delete", entity=obj.__tablename__, entity_id=_identity(obj),
                             before=_snapshot(obj), after=None))
    if rows:
        for r in rows:
            r.update(at=now, actor_id=actor_id, actor_name=actor_name, summary="")
        session.connection().execute(insert(AuditLog), rows)



_session_module.AUDIT_ATTACHED = True   # the listeners above are on JiedaoSession: factories may be made


def record(session: Session, action: str, entity: str, entity_id: Any = None, summary: str = "",
           before: Any = None, after: Any = None) -> None:
    """An explicit audit entry for what is not a row change (login, export, full ID view …)."""
    on, claims = server_audit(session)
    if on:
        if claims:
            _claim_actor(session)
        session.execute(
            text("SELECT jiedao_sec.audit_event(:a, :e, :i, :s, CAST(:b AS jsonb), CAST(:f AS jsonb))"),
            {"a": action, "e": entity, "i": None if entity_id is None else str(entity_id), "s": summary or "",
             "b": None if before is None else json.dumps(_plain(before), ensure_ascii=False),
             "f": None if after is None else json.dumps(_plain(after), ensure_ascii=False)})
        return
    session.add(AuditLog(
        at=utcnow(), actor_id=session.info.get("actor_id"), actor_name=session.info.get("actor_name", ""),
        action=action, entity=entity, entity_id=None if entity_id is None else str(entity_id),
        summary=summary, before=_plain(before), after=_plain(after),
    ))


def history(session: Session, entity: str, entity_id: Any) -> list[AuditLog]:
    return list(session.scalars(
        select(AuditLog).where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
        .order_by(AuditLog.id)
    ))
