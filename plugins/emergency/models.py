"""Emergency tables (prefix ``emergency_``): warehouses, items, batches, stock moves, stock-takes,
plans, drills, rescue teams and shelters.

Stock is a ledger: ``EmergencyStockMove`` rows are append-only (database triggers refuse UPDATE and
DELETE, see migration e0001) and each batch's ``qty`` is the running balance, changed only by the
guarded statements in ``services.py`` inside the same transaction as the move it belongs to.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from shell.clock import utcnow
from shell.db.base import Base, ChainMixin, IdMixin, RecordMixin, TimestampMixin

# Choices and labels are plain data in labels.py (views read them without importing the models);
# re-exported here for the services, importers and ledgers that read them with the tables.
from .labels import (  # noqa: F401
    ADJUST_REASONS,
    DRILL_CONTENTS,
    DRILL_FORMS,
    DRILL_PURPOSES,
    DRILL_STATUS,
    DUTY_SHIFTS,
    MOVE_KINDS,
    PLAN_CATEGORIES,
    PLAN_LEVELS,
    SHELTER_STATUS,
    STOCKTAKE_STATUS,
    TEAM_KINDS,
    WAREHOUSE_LEVELS,
)

# ----------------------------------------------------------------------------- supplies


class Warehouse(RecordMixin, Base):
    """An emergency supplies warehouse (储备库/点) of the street or of a community."""

    __tablename__ = "emergency_warehouses"

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))          # street | community (from the area)
    address: Mapped[str | None] = mapped_column(String(200))
    keeper: Mapped[str | None] = mapped_column(String(50))
    keeper_phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Item(RecordMixin, Base):
    """A kind of supply: GB/T 38565-2020 code (7 digits), name, specification and unit."""

    __tablename__ = "emergency_items"
    __table_args__ = (UniqueConstraint("code", "name", "spec", name="uq_emergency_items_code_name_spec"),)

    code: Mapped[str] = mapped_column(String(7), index=True)
    name: Mapped[str] = mapped_column(String(100))
    spec: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MinStock(RecordMixin, Base):
    """Minimum stock of one item in one warehouse (below it an alert is raised)."""

    __tablename__ = "emergency_min_stock"
    __table_args__ = (UniqueConstraint("warehouse_id", "item_id", name="uq_emergency_min_stock_warehouse_item"),
                      CheckConstraint("min_qty >= 0", name="min_qty_nonneg"))

    warehouse_id: Mapped[int] = mapped_column(ForeignKey("emergency_warehouses.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("emergency_items.id"))
    min_qty: Mapped[int] = mapped_column(Integer)


class Batch(IdMixin, TimestampMixin, Base):
    """One batch of one item in one warehouse. ``qty`` is the balance, kept by guarded UPDATEs."""

    __tablename__ = "emergency_batches"
    __audit__ = False  # the stock moves are the audit trail of every quantity change
    __table_args__ = (
        UniqueConstraint("warehouse_id", "item_id", "batch_no", name="uq_emergency_batches_wh_item_no"),
        CheckConstraint("qty >= 0", name="qty_nonneg"),
        Index("ix_emergency_batches_item_expiry", "item_id", "expiry_date"),
    )

    warehouse_id: Mapped[int] = mapped_column(ForeignKey("emergency_warehouses.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("emergency_items.id"))
    batch_no: Mapped[str] = mapped_column(String(50))
    production_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    qty: Mapped[int] = mapped_column(Integer, default=0)


class StockMove(IdMixin, ChainMixin, Base):
    """One stock move. Immutable once written (triggers refuse UPDATE/DELETE); ``qty`` is signed."""

    __tablename__ = "emergency_stock_moves"
    __audit__ = False  # append-only ledger carrying its own actor and time
    __table_args__ = (
        CheckConstraint("qty <> 0", name="qty_nonzero"),
        CheckConstraint("balance_after >= 0", name="balance_nonneg"),
        Index("ix_emergency_stock_moves_batch", "batch_id", "id"),
        Index("ix_emergency_stock_moves_wh_time", "warehouse_id", "occurred_at"),
        Index("ix_emergency_stock_moves_time_item", "occurred_at", "item_id", "kind", "qty"),   # e0003
    )

    batch_id: Mapped[int] = mapped_column(ForeignKey("emergency_batches.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("emergency_warehouses.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("emergency_items.id"))
    kind: Mapped[str] = mapped_column(String(16))
    qty: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(String(200))
    party: Mapped[str | None] = mapped_column(String(100))      # supplier / recipient
    doc_no: Mapped[str | None] = mapped_column(String(40), index=True)  # links the two legs of a transfer
    stocktake_id: Mapped[int | None] = mapped_column(ForeignKey("emergency_stocktakes.id"))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"))
    actor_name: Mapped[str | None] = mapped_column(String(64))


class Stocktake(RecordMixin, Base):
    """A stock count of one warehouse: opened with a snapshot, counted, posted as moves."""

    __tablename__ = "emergency_stocktakes"

    warehouse_id: Mapped[int] = mapped_column(ForeignKey("emergency_warehouses.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_on: Mapped[date] = mapped_column(Date)
    posted_at: Mapped[datetime | None] = mapped_column()
    counted_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(200))


class StocktakeLine(IdMixin, Base):
    __tablename__ = "emergency_stocktake_lines"
    __table_args__ = (UniqueConstraint("stocktake_id", "batch_id", name="uq_emergency_stocktake_lines_take_batch"),)

    stocktake_id: Mapped[int] = mapped_column(ForeignKey("emergency_stocktakes.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("emergency_batches.id"))
    expected_qty: Mapped[int] = mapped_column(Integer)
    counted_qty: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(200))


# ----------------------------------------------------------------------------- plans and drills

class Plan(RecordMixin, Base):
    """An emergency plan (预案) with its attached document and review date."""

    __tablename__ = "emergency_plans"

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(20), default="1.0")
    issued_on: Mapped[date | None] = mapped_column(Date)
    review_on: Mapped[date | None] = mapped_column(Date)
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_size: Mapped[int | None] = mapped_column(Integer)
    file_data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, info={"audit": False}))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PlanStep(IdMixin, Base):
    """One response step of a plan: what is expected, by whom. Drills are scored against these."""

    __tablename__ = "emergency_plan_steps"
    __table_args__ = (UniqueConstraint("plan_id", "seq", name="uq_emergency_plan_steps_plan_seq"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("emergency_plans.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(300))
    responsible: Mapped[str | None] = mapped_column(String(100))


class Drill(RecordMixin, Base):
    """A drill (演练): planned → held → evaluated, with the summary report fields."""

    __tablename__ = "emergency_drills"

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("emergency_plans.id"))
    title: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    planned_on: Mapped[date] = mapped_column(Date)
    held_on: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))
    units: Mapped[str | None] = mapped_column(Text)            # participating units
    participants: Mapped[int | None] = mapped_column(Integer)  # number of people
    scenario: Mapped[str | None] = mapped_column(Text)
    # summary report (总结报告)
    aim: Mapped[str | None] = mapped_column(Text)             # 演练目的
    problems: Mapped[str | None] = mapped_column(Text)        # 发现的问题
    causes: Mapped[str | None] = mapped_column(Text)          # 原因
    lessons: Mapped[str | None] = mapped_column(Text)         # 经验教训
    improvements: Mapped[str | None] = mapped_column(Text)    # 改进措施
    evaluator: Mapped[str | None] = mapped_column(String(100))
    evaluated_on: Mapped[date | None] = mapped_column(Date)
    score: Mapped[int | None] = mapped_column(Integer)        # total, 0–100


class DrillScore(IdMixin, Base):
    """One evaluated step: expected action (from the plan), observed, score 0–10, problem."""

    __tablename__ = "emergency_drill_scores"
    __table_args__ = (UniqueConstraint("drill_id", "seq", name="uq_emergency_drill_scores_drill_seq"),
                      CheckConstraint("score >= 0 AND score <= 10", name="score_range"))

    drill_id: Mapped[int] = mapped_column(ForeignKey("emergency_drills.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("emergency_plan_steps.id"))
    expected: Mapped[str] = mapped_column(String(300))
    observed: Mapped[str | None] = mapped_column(Text)
    score: Mapped[int] = mapped_column(Integer)
    problem: Mapped[str | None] = mapped_column(Text)


# ----------------------------------------------------------------------------- teams and shelters

class Team(RecordMixin, Base):
    __tablename__ = "emergency_teams"

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    leader: Mapped[str | None] = mapped_column(String(50))
    leader_phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TeamMember(RecordMixin, Base):
    __tablename__ = "emergency_team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("emergency_teams.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(32))
    skills: Mapped[str | None] = mapped_column(String(200))
    certificates: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Shelter(RecordMixin, Base):
    """An emergency shelter (应急避难场所)."""

    __tablename__ = "emergency_shelters"

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(200))
    area_m2: Mapped[int] = mapped_column(Integer)            # usable area in m²
    capacity: Mapped[int] = mapped_column(Integer)           # people
    facilities: Mapped[str | None] = mapped_column(Text)
    manager: Mapped[str | None] = mapped_column(String(50))
    manager_phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="available")


class DutyShift(RecordMixin, Base):
    """One shift of the emergency duty roster (值班表) of a street or community: who leads (带班领导)
    and who is on duty (值班人员) on a date. At most one row per unit, date and shift."""

    __tablename__ = "emergency_duty_shifts"
    __table_args__ = (UniqueConstraint("area_id", "duty_date", "shift", name="uq_emergency_duty_shifts_area_date_shift"),)

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id"))
    duty_date: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(8), default="full")
    leader: Mapped[str] = mapped_column(String(50))
    staff: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(200))
