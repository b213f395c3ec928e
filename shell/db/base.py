"""One declarative ``Base`` for every table of every plugin, and the shared mixins."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from shell.clock import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use shell.clock.utcnow() or an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)


class CreatedByMixin:
    @declared_attr
    def created_by(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"), nullable=True)


class VersionMixin:
    """Optimistic locking: a stale UPDATE raises ``StaleDataError`` (see ``shell.core.locking``)."""

    version_id: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version_id}  # type: ignore[attr-defined]  # on the mapped class


class RecordMixin(IdMixin, TimestampMixin, CreatedByMixin, VersionMixin):
    """The usual set for an editable record: id, timestamps, created_by, version_id."""


class ChainMixin:
    """Tamper evidence for an append-only table: the previous entry's hash, this entry's, and the
    entry's place in the chain — set when the row is inserted on SQLite, when the transaction
    commits on PostgreSQL (shell/core/chain.py). Not part of the audited values."""

    chain_prev: Mapped[str | None] = mapped_column(String(64), info={"audit": False})
    chain_hash: Mapped[str | None] = mapped_column(String(64), info={"audit": False})
    chain_seq: Mapped[int | None] = mapped_column(Integer, index=True, info={"audit": False})
