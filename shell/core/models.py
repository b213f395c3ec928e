"""Core tables shared by every plugin: areas, users and roles, settings, the audit log."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shell.clock import utcnow
from shell.db.base import Base, ChainMixin, IdMixin, RecordMixin, TimestampMixin, VersionMixin

# The jurisdiction levels, top-down. A child is always exactly one level below its parent.
AREA_LEVELS: tuple[str, ...] = ("street", "community", "grid", "microgrid")
AREA_LEVEL_LABELS = {"street": "街道", "community": "社区", "grid": "网格", "microgrid": "微网格"}


class Area(RecordMixin, Base):
    """One node of 街道 → 社区 → 网格 (→ 微网格). ``path`` is "/<id>/<id>/…/" for subtree queries."""

    __tablename__ = "core_areas"
    __table_args__ = (Index("ix_core_areas_path", "path"),)

    parent_id: Mapped[int | None] = mapped_column(ForeignKey("core_areas.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(400), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_reason: Mapped[str | None] = mapped_column(String(200))

    parent: Mapped[Area | None] = relationship(remote_side="Area.id")

    @property
    def level_label(self) -> str:
        return AREA_LEVEL_LABELS.get(self.level, self.level)

    @property
    def depth(self) -> int:
        return AREA_LEVELS.index(self.level)

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    def __repr__(self) -> str:
        return f"<Area {self.id} {self.level} {self.name}>"


class User(RecordMixin, Base):
    __tablename__ = "core_users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    # The PostgreSQL login role of this user on a secured server database (shell/db/security).
    server_role: Mapped[str | None] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200), info={"audit": False}, deferred=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    # Data scope: the area subtree this user may see. None only for superusers (everything).
    area_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_areas.id", ondelete="RESTRICT", use_alter=True)
    )
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, info={"audit": False}, deferred=True)
    locked_until: Mapped[datetime | None] = mapped_column(info={"audit": False}, deferred=True)
    last_login_at: Mapped[datetime | None] = mapped_column(info={"audit": False})
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)

    area: Mapped[Area | None] = relationship(foreign_keys=[area_id])
    roles: Mapped[list[Role]] = relationship(secondary="core_user_roles", back_populates="users", lazy="selectin")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}>"


class Role(RecordMixin, Base):
    __tablename__ = "core_roles"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)

    permissions: Mapped[list[RolePermission]] = relationship(
        back_populates="role", cascade="all, delete-orphan", lazy="selectin"
    )
    users: Mapped[list[User]] = relationship(secondary="core_user_roles", back_populates="roles")

    @property
    def codes(self) -> set[str]:
        return {p.code for p in self.permissions}


class RolePermission(IdMixin, Base):
    __tablename__ = "core_role_permissions"
    __table_args__ = (UniqueConstraint("role_id", "code", name="uq_core_role_permissions_role_code"),)

    role_id: Mapped[int] = mapped_column(ForeignKey("core_roles.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(100))

    role: Mapped[Role] = relationship(back_populates="permissions")


class UserRole(Base):
    __tablename__ = "core_user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("core_users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("core_roles.id", ondelete="CASCADE"), primary_key=True)


class Setting(TimestampMixin, VersionMixin, Base):
    """A configurable value (a norm, a rule, a database-wide flag), JSON-encoded."""

    __tablename__ = "core_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))


HOLIDAY_KINDS = {"off": "休", "work": "班"}


class Holiday(RecordMixin, Base):
    """One day of the holiday calendar that differs from the Monday–Friday rule: ``off`` (休) a
    holiday on a weekday, ``work`` (班) a 调休 working weekend day. A year counts as entered once it
    has at least one row (the official schedule is published for a whole year at once)."""

    __tablename__ = "core_holidays"

    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(8))                        # "off" 休 | "work" 班
    name: Mapped[str] = mapped_column(String(50), default="")           # 国庆节, 春节…
    source: Mapped[str] = mapped_column(String(32), default="手工")     # chinese-calendar | 导入 | 手工


class ChainHead(Base):
    """One row per tamper-evident chain (shell/core/chain.py): the append-only guard's message, so a
    dropped trigger can be re-created, and the last entry verified intact."""

    __tablename__ = "core_chain_heads"
    __audit__ = False

    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    message: Mapped[str] = mapped_column(String(200))
    verified_id: Mapped[int | None] = mapped_column(Integer)
    verified_hash: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[str | None] = mapped_column(String(32))


class SecurityInfo(Base):
    """The one row of a secured server database (shell/db/security): its street key, from which
    every role name is made, and its owner role. Empty on SQLite and on an unsecured server."""

    __tablename__ = "core_security"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_key: Mapped[str] = mapped_column(String(20))
    owner_role: Mapped[str] = mapped_column(String(63))
    secured_at: Mapped[datetime] = mapped_column()
    schema_version: Mapped[str] = mapped_column(String(400))


class TableAccessRow(Base):
    """A table privilege a plugin declared (``register_table_access``), as the owner last wrote them."""

    __tablename__ = "core_table_access"
    __table_args__ = (PrimaryKeyConstraint("table_name", "code", "privilege"),
                      CheckConstraint("privilege IN ('read', 'write', 'append')", name="privilege"))
    __audit__ = False

    table_name: Mapped[str] = mapped_column(String(63))
    code: Mapped[str] = mapped_column(String(100))
    privilege: Mapped[str] = mapped_column(String(8))


class AuditLog(ChainMixin, Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the core migration)."""

    __tablename__ = "core_audit_log"
    __table_args__ = (
        Index("ix_core_audit_log_entity", "entity", "entity_id"),
        Index("ix_core_audit_log_at", "at"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # no FK: the log outlives users
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))        # insert | update | delete | login | …
    entity: Mapped[str] = mapped_column(String(64))        # table name
    entity_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
