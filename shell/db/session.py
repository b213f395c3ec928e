"""Session factory. Sessions carry the acting user in ``session.info`` for the audit log."""
from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


class JiedaoSession(Session):
    """All Jiedao sessions are of this class; the audit listener is attached to it."""


# shell.core.audit attaches the audit log's flush listeners to JiedaoSession when it is imported and
# sets this; the database layer does not import the core, so a factory made before that refuses.
AUDIT_ATTACHED = False


def make_session_factory(engine: Engine) -> sessionmaker[JiedaoSession]:
    if not AUDIT_ATTACHED:   # every service write is audited: never hand out an unaudited session
        raise RuntimeError("shell.core.audit is not imported: its flush listener would be missing "
                           "(import shell.core.database or shell.core.audit first)")
    # expire_on_commit=False: views keep showing loaded records after a service commits.
    return sessionmaker(bind=engine, class_=JiedaoSession, expire_on_commit=False)


def set_actor(session: Session, actor_id: int | None, actor_name: str) -> None:
    session.info["actor_id"] = actor_id
    session.info["actor_name"] = actor_name
