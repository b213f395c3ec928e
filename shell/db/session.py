"""Session factory. Sessions carry the acting user in ``session.info`` for the audit log."""
from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


class JiedaoSession(Session):
    """All Jiedao sessions are of this class; the audit listener is attached to it."""


def make_session_factory(engine: Engine) -> sessionmaker[JiedaoSession]:
    # expire_on_commit=False: views keep showing loaded records after a service commits.
    from shell.core import audit  # noqa: F401  (attaches the flush listener)

    return sessionmaker(bind=engine, class_=JiedaoSession, expire_on_commit=False)


def set_actor(session: Session, actor_id: int | None, actor_name: str) -> None:
    session.info["actor_id"] = actor_id
    session.info["actor_name"] = actor_name
