"""Database layer: one Base, mixins, engines for SQLite and PostgreSQL, sessions, migrations."""
from shell.db.base import Base, CreatedByMixin, IdMixin, RecordMixin, TimestampMixin, UTCDateTime, VersionMixin
from shell.db.engine import make_engine, normalize_url
from shell.db.session import JiedaoSession, make_session_factory

__all__ = [
    "Base", "CreatedByMixin", "IdMixin", "RecordMixin", "TimestampMixin", "UTCDateTime", "VersionMixin",
    "make_engine", "normalize_url", "JiedaoSession", "make_session_factory",
]
