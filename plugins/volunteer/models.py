"""Volunteer service tables (all prefixed ``volunteer_``).

Records people edit (volunteers, teams, activities, attendance, reward items) carry ``RecordMixin``
(optimistic locking, audited). Values that count — approved service minutes, points, stock — live in
append-only ledgers (``volunteer_hours_ledger``, ``volunteer_points_ledger``,
``volunteer_stock_moves``; database triggers refuse UPDATE/DELETE) and in stored balances that are
only ever changed by guarded statements (``UPDATE … WHERE balance >= :n``) in the same transaction
as the ledger entry. Hours are stored in whole minutes, points and stock as integers.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shell.clock import utcnow
from shell.db.base import Base, ChainMixin, IdMixin, RecordMixin

# Choices and labels are plain data in labels.py (views read them without importing the models);
# re-exported here for the services, importers and ledgers that read them with the tables.
from .labels import (  # noqa: F401
    ACTIVITY_STATES,
    ATTENDANCE_STATES,
    GENDERS,
    HOUR_KINDS,
    ID_TYPES,
    LIMIT_PERIODS,
    ORDER_STATES,
    POINT_KINDS,
    STAR_LABELS,
    STAR_THRESHOLDS_HOURS,
    STOCK_KINDS,
)

# Columns a volunteer search matches by prefix (served by an index on both engines).
SEARCH_PREFIX_COLUMNS = ("id_number", "phone", "initials", "number", "name_pinyin")


class Volunteer(RecordMixin, Base):
    __tablename__ = "volunteer_volunteers"
    __table_args__ = (
        Index("ix_volunteer_volunteers_area_name", "area_id", "name"),
        Index("ix_volunteer_volunteers_initials", "initials"),
        Index("ix_volunteer_volunteers_name_pinyin", "name_pinyin"),   # full pinyin (v0006)
        Index("ix_volunteer_volunteers_phone", "phone"),
        # PostgreSQL only (v0004): a prefix search (LIKE 'x%') needs pattern_ops in a non-C collation;
        # SQLite's GLOB prefix search uses the indexes above and the unique ones. info["dialect"] tells
        # the migration check.
        *(Index(f"ix_volunteer_volunteers_{column}_pattern", column, postgresql_ops={column: "varchar_pattern_ops"},
                info={"dialect": "postgresql"}).ddl_if(dialect="postgresql")
          for column in SEARCH_PREFIX_COLUMNS),
    )

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id", ondelete="RESTRICT"))  # community
    number: Mapped[str] = mapped_column(String(32), unique=True)            # 志愿者编号
    name: Mapped[str] = mapped_column(String(64))
    initials: Mapped[str] = mapped_column(String(64), default="")           # pinyin initials, for search
    name_pinyin: Mapped[str] = mapped_column(String(255), default="", info={"audit": False})  # full pinyin, for search
    gender: Mapped[str] = mapped_column(String(2))
    birth_date: Mapped[date | None] = mapped_column(Date)
    id_type: Mapped[str] = mapped_column(String(8), default="111")
    id_number: Mapped[str] = mapped_column(String(18), unique=True, info={"personal": "id"})
    phone: Mapped[str] = mapped_column(String(32), default="")
    skills: Mapped[str] = mapped_column(String(200), default="")            # 服务技能, "、"-separated
    address: Mapped[str] = mapped_column(String(200), default="")
    registered_on: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    account: Mapped[VolunteerAccount] = relationship(back_populates="volunteer", uselist=False, lazy="raise")

    @property
    def skill_list(self) -> list[str]:
        return [s for s in (self.skills or "").split("、") if s]


class VolunteerAccount(Base):
    """Stored balances, changed only by guarded statements next to a ledger entry."""

    __tablename__ = "volunteer_accounts"
    __table_args__ = (
        CheckConstraint("points_balance >= 0", name="points_nonneg"),
        CheckConstraint("approved_minutes >= 0", name="minutes_nonneg"),
    )
    __audit__ = False

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer_volunteers.id", ondelete="RESTRICT"),
                                              primary_key=True)
    points_balance: Mapped[int] = mapped_column(Integer, default=0)
    approved_minutes: Mapped[int] = mapped_column(Integer, default=0)

    volunteer: Mapped[Volunteer] = relationship(back_populates="account", lazy="raise")


class Team(RecordMixin, Base):
    __tablename__ = "volunteer_teams"
    __table_args__ = (UniqueConstraint("area_id", "name", name="uq_volunteer_teams_area_name"),)

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    leader_name: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TeamMembership(RecordMixin, Base):
    """One stretch of membership; leaving closes it (``left_on``), rejoining opens a new one."""

    __tablename__ = "volunteer_team_members"
    __table_args__ = (Index("ix_volunteer_team_members_team_volunteer", "team_id", "volunteer_id"),)

    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_teams.id", ondelete="RESTRICT"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer_volunteers.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="队员")
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)


class Activity(RecordMixin, Base):
    __tablename__ = "volunteer_activities"
    __table_args__ = (Index("ix_volunteer_activities_starts_at", "starts_at"),)

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id", ondelete="RESTRICT"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_teams.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    organiser: Mapped[str] = mapped_column(String(100), default="")     # 组织单位
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    place: Mapped[str] = mapped_column(String(200), default="")
    target: Mapped[str] = mapped_column(String(200), default="")        # 服务对象
    content: Mapped[str] = mapped_column(Text, default="")              # 服务内容
    leader_name: Mapped[str] = mapped_column(String(64), default="")    # 负责人
    recorder_name: Mapped[str] = mapped_column(String(64), default="")  # 记录人
    capacity: Mapped[int | None] = mapped_column(Integer)
    cap_minutes: Mapped[int] = mapped_column(Integer, default=0)        # 0 = no cap
    points_per_hour: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="open")


class Attendance(RecordMixin, Base):
    """Enrolment, sign-in/out and approval of one volunteer at one activity."""

    __tablename__ = "volunteer_attendances"
    # (activity_id, status): the activity list counts enrolled and waiting records per activity.
    __table_args__ = (UniqueConstraint("activity_id", "volunteer_id", name="uq_volunteer_attendances_activity_volunteer"),
                      Index("ix_volunteer_attendances_status", "status"),
                      Index("ix_volunteer_attendances_activity_status", "activity_id", "status"))

    activity_id: Mapped[int] = mapped_column(ForeignKey("volunteer_activities.id", ondelete="RESTRICT"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer_volunteers.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="enrolled")
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_in_at: Mapped[datetime | None] = mapped_column()
    signed_out_at: Mapped[datetime | None] = mapped_column()
    minutes: Mapped[int] = mapped_column(Integer, default=0)        # credited (capped) minutes
    raw_minutes: Mapped[int] = mapped_column(Integer, default=0)    # actual minutes between the times
    points: Mapped[int] = mapped_column(Integer, default=0)         # points credited on approval
    quality: Mapped[str] = mapped_column(String(16), default="")    # 质量评价
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column()
    note: Mapped[str] = mapped_column(String(200), default="")


class HoursEntry(IdMixin, ChainMixin, Base):
    """Append-only ledger of approved service minutes, with the balance after each entry."""

    __tablename__ = "volunteer_hours_ledger"
    __table_args__ = (Index("ix_volunteer_hours_ledger_volunteer_id", "volunteer_id", "id"),
                      Index("ix_volunteer_hours_ledger_at", "at"))
    __audit__ = False

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer_volunteers.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    service_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    minutes: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    attendance_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_attendances.id", ondelete="RESTRICT"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_hours_ledger.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))


class PointsEntry(IdMixin, ChainMixin, Base):
    """Append-only points ledger: earn, redeem, refund, adjust, expire, reverse."""

    __tablename__ = "volunteer_points_ledger"
    # (at, kind, points) covers the monthly statistics (earned vs redeemed) without reading the table.
    __table_args__ = (Index("ix_volunteer_points_ledger_volunteer_id", "volunteer_id", "id"),
                      Index("ix_volunteer_points_ledger_at_kind_points", "at", "kind", "points"))
    __audit__ = False

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer_volunteers.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    attendance_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_attendances.id", ondelete="RESTRICT"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_redemptions.id", ondelete="RESTRICT"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_points_ledger.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))


class RewardItem(RecordMixin, Base):
    """A 爱心超市 catalogue item. ``stock`` changes only with a stock move (guarded statement)."""

    __tablename__ = "volunteer_reward_items"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_nonneg"),
                      CheckConstraint("points_price > 0", name="price_positive"),
                      UniqueConstraint("area_id", "name", name="uq_volunteer_reward_items_area_name"))

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id", ondelete="RESTRICT"))  # the store's area
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(8), default="件")
    points_price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, default=0, info={"audit": False})
    per_person_limit: Mapped[int] = mapped_column(Integer, default=0)      # 0 = no limit
    limit_period: Mapped[str] = mapped_column(String(8), default="none")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StockMove(IdMixin, ChainMixin, Base):
    __tablename__ = "volunteer_stock_moves"
    __table_args__ = (Index("ix_volunteer_stock_moves_item_id", "item_id", "id"),
                      Index("ix_volunteer_stock_moves_at", "at"))
    __audit__ = False

    item_id: Mapped[int] = mapped_column(ForeignKey("volunteer_reward_items.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    stock_after: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_redemptions.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))


class RedemptionOrder(IdMixin, Base):
    """One redemption at the counter. Status moves done → cancelled once (guarded statement)."""

    __tablename__ = "volunteer_redemptions"
    __table_args__ = (Index("ix_volunteer_redemptions_volunteer_id", "volunteer_id"),
                      Index("ix_volunteer_redemptions_at", "at"))

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer_volunteers.id", ondelete="RESTRICT"))
    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    total_points: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="done")
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")

    lines: Mapped[list[RedemptionLine]] = relationship(back_populates="order", lazy="selectin",
                                                       order_by="RedemptionLine.id")


class RedemptionLine(IdMixin, Base):
    __tablename__ = "volunteer_redemption_lines"
    __table_args__ = (Index("ix_volunteer_redemption_lines_item_id", "item_id"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("volunteer_redemptions.id", ondelete="RESTRICT"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("volunteer_reward_items.id", ondelete="RESTRICT"))
    quantity: Mapped[int] = mapped_column(Integer)
    points_price: Mapped[int] = mapped_column(Integer)

    order: Mapped[RedemptionOrder] = relationship(back_populates="lines")


class Counter(Base):
    """Named counters (certificate numbers): incremented only by a guarded UPDATE."""

    __tablename__ = "volunteer_counters"
    __audit__ = False

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Certificate(IdMixin, Base):
    """An issued 志愿服务证明. The number is unique and never reused."""

    __tablename__ = "volunteer_certificates"

    number: Mapped[str] = mapped_column(String(40), unique=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer_volunteers.id", ondelete="RESTRICT"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))
