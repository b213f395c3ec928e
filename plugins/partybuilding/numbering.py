"""Guarded counters for numbered documents (no Qt). A primitive on the caller's session, not a
service: it checks no permission and writes only its bookkeeping row; the service that asks for a
number (``issue_transfer_letter``) writes the audited record carrying it in the same transaction."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from .models import Counter


def next_number(session: Session, name: str) -> int:
    """Hand out the next value of counter ``name``: the row is created if missing (ignoring a
    concurrent creator), then incremented with one guarded UPDATE … RETURNING in the caller's
    transaction, so two sessions never get the same value and a rolled-back number is never
    handed out to anyone else's committed letter twice."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dinsert
    else:
        from sqlalchemy.dialects.sqlite import insert as dinsert
    session.execute(dinsert(Counter).values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"]))
    return session.execute(update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
                           .returning(Counter.value)).scalar_one()
