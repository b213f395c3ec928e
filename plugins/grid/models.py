"""Grid tables (prefix ``grid_``): people, households, houses and occupancy, organisations, the
event closed loop with its timeline, grid staff, special groups with visits, and visit logs.

Every record hangs on an area (``area_id`` → ``core_areas``), normally a grid. Event categories
and the directory of departments and units (部门与单位, the 派遣对象) are street-wide configuration
and carry no area."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shell.db.base import Base, RecordMixin

# the choices live in labels.py (plain data the views read); imported here for the existing callers
from .labels import HOUSE_USES, ORG_KINDS, PERSON_KINDS, PERSON_STATUS, STAFF_ROLES  # noqa: F401


def _area():
    return mapped_column(ForeignKey("core_areas.id", ondelete="RESTRICT"), index=True)


# --- 人：实有人口 ------------------------------------------------------------------------------


class Household(RecordMixin, Base):
    """户: the head is the member whose ``relation_to_head`` is 户主 (kept unique by the services)."""

    __tablename__ = "grid_households"

    area_id: Mapped[int] = _area()
    number: Mapped[str] = mapped_column(String(32), unique=True)          # 户号
    address: Mapped[str] = mapped_column(String(200), default="")
    house_id: Mapped[int | None] = mapped_column(ForeignKey("grid_houses.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="")


class Person(RecordMixin, Base):
    """GB/T 31000 person base record plus the 户籍 / 流动 / 境外 extensions."""

    __tablename__ = "grid_persons"
    __table_args__ = (
        Index("ix_grid_persons_name", "name"),
        Index("ix_grid_persons_initials", "name_initials"),
        Index("ix_grid_persons_pinyin", "name_pinyin"),                # full pinyin (g0005)
        Index("ix_grid_persons_phone", "phone"),
        Index("ix_grid_persons_area_status", "area_id", "status"),   # the resident list's count (g0003)
        # PostgreSQL only (g0003): LIKE 'x%' needs pattern_ops in a non-C collation; SQLite's GLOB
        # prefix search uses the indexes above. info["dialect"] tells the migration checks.
        *(Index(f"ix_grid_persons_{name}_pattern", column, postgresql_ops={column: "varchar_pattern_ops"},
                info={"dialect": "postgresql"}).ddl_if(dialect="postgresql")
          for name, column in (("id_number", "id_number"), ("phone", "phone"), ("initials", "name_initials"),
                               ("pinyin", "name_pinyin"))),
    )

    area_id: Mapped[int] = _area()                                          # 责任网格
    kind: Mapped[str] = mapped_column(String(16), default="registered")     # PERSON_KINDS
    status: Mapped[str] = mapped_column(String(16), default="active")       # PERSON_STATUS
    id_type: Mapped[str] = mapped_column(String(8), default="111")          # 证件类型, 111 = 居民身份证
    id_number: Mapped[str] = mapped_column(String(32), unique=True, info={"personal": "id"})         # 证件号码
    name: Mapped[str] = mapped_column(String(64))
    name_initials: Mapped[str] = mapped_column(String(64), default="")      # 拼音首字母, for search
    name_pinyin: Mapped[str] = mapped_column(String(255), default="", info={"audit": False})  # 全拼, for search
    former_name: Mapped[str | None] = mapped_column(String(64))
    sex: Mapped[str | None] = mapped_column(String(2))                      # 男 / 女
    birth_date: Mapped[date | None] = mapped_column(Date)
    nationality: Mapped[str] = mapped_column(String(8), default="156")
    ethnicity: Mapped[str | None] = mapped_column(String(16))
    native_place: Mapped[str | None] = mapped_column(String(64))
    marital_status: Mapped[str | None] = mapped_column(String(16))
    political_status: Mapped[str | None] = mapped_column(String(16))
    education: Mapped[str | None] = mapped_column(String(16))
    religion: Mapped[str | None] = mapped_column(String(16))
    occupation_category: Mapped[str | None] = mapped_column(String(32))
    occupation: Mapped[str | None] = mapped_column(String(64))
    workplace: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    registered_place: Mapped[str | None] = mapped_column(String(64))        # 户籍地
    registered_address: Mapped[str | None] = mapped_column(String(200))    # 户籍地详址
    current_place: Mapped[str | None] = mapped_column(String(64))           # 现住地
    current_address: Mapped[str | None] = mapped_column(String(200))        # 现住地详址
    house_id: Mapped[int | None] = mapped_column(ForeignKey("grid_houses.id", ondelete="SET NULL"))  # 现住房屋
    # 户籍人口
    household_id: Mapped[int | None] = mapped_column(ForeignKey("grid_households.id", ondelete="SET NULL"),
                                                     index=True)
    relation_to_head: Mapped[str | None] = mapped_column(String(16))        # 与户主关系
    residence_match: Mapped[str | None] = mapped_column(String(16))         # 人户一致情况
    # 流动人口
    permit_type: Mapped[str | None] = mapped_column(String(16))             # 办证类型（居住证…）
    permit_start: Mapped[date | None] = mapped_column(Date)
    permit_end: Mapped[date | None] = mapped_column(Date)
    dwelling_type: Mapped[str | None] = mapped_column(String(16))           # 住所类别
    inflow_reason: Mapped[str | None] = mapped_column(String(32))           # 流入原因
    key_attention: Mapped[bool] = mapped_column(Boolean, default=False)     # 是否重点关注
    # 境外人员
    foreign_surname: Mapped[str | None] = mapped_column(String(64))
    foreign_given_name: Mapped[str | None] = mapped_column(String(64))
    visit_purpose: Mapped[str | None] = mapped_column(String(32))           # 来华目的
    arrival_date: Mapped[date | None] = mapped_column(Date)
    expected_departure: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")


# --- 地：实有房屋 ------------------------------------------------------------------------------


class House(RecordMixin, Base):
    __tablename__ = "grid_houses"
    __table_args__ = (Index("ix_grid_houses_address", "address"),)

    area_id: Mapped[int] = _area()
    code: Mapped[str] = mapped_column(String(32), unique=True)              # 房屋编号
    address: Mapped[str] = mapped_column(String(200))
    building_use: Mapped[str | None] = mapped_column(String(16))            # 建筑用途（住宅/商业…）
    floor_area: Mapped[float | None] = mapped_column(Float)                 # 建筑面积 m²
    house_use: Mapped[str] = mapped_column(String(8), default="自住")        # 房屋用途 HOUSE_USES
    hazard: Mapped[str | None] = mapped_column(String(64))                  # 隐患类型
    owner_id_number: Mapped[str | None] = mapped_column(String(32), info={"personal": "id"})
    owner_name: Mapped[str | None] = mapped_column(String(64))
    owner_phone: Mapped[str | None] = mapped_column(String(32))
    rental_pledge_on: Mapped[date | None] = mapped_column(Date)             # 出租房屋治安责任书签订日期

    @property
    def is_rental(self) -> bool:
        return self.house_use == "出租"


class Occupancy(RecordMixin, Base):
    """人房关联: who lives in a house, from when to when. Moving out closes the period.

    A tenant's landlord must report the tenant to the grid within ``grid.rental_report_hours`` of the
    move-in (出租房屋租客报备): ``moved_in_at`` is the hour of moving in (``start_date`` is its local
    date), ``reported_at`` when the report came in — NULL for a tenant not reported yet (found on a
    visit) and for residents who are not tenants. Rows older than g0004 got start_date 00:00 and, for
    tenants, their created_at (see the migration)."""

    __tablename__ = "grid_occupancies"

    area_id: Mapped[int] = _area()
    house_id: Mapped[int] = mapped_column(ForeignKey("grid_houses.id", ondelete="RESTRICT"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("grid_persons.id", ondelete="RESTRICT"), index=True)
    relation_to_owner: Mapped[str] = mapped_column(String(16), default="")  # 本人/亲属/租客…
    is_tenant: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(100))
    moved_in_at: Mapped[datetime]                                           # 入住时间
    reported_at: Mapped[datetime | None]                                    # 租客报备时间


# --- 组织 --------------------------------------------------------------------------------------


class Organisation(RecordMixin, Base):
    __tablename__ = "grid_organisations"

    area_id: Mapped[int] = _area()
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)       # 统一社会信用代码
    legal_rep: Mapped[str | None] = mapped_column(String(64))
    security_head: Mapped[str | None] = mapped_column(String(64))           # 治保负责人
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    hazard: Mapped[str | None] = mapped_column(String(64))
    has_party_org: Mapped[bool] = mapped_column(Boolean, default=False)
    party_members: Mapped[int] = mapped_column(Integer, default=0)


# --- 事：事件闭环 ------------------------------------------------------------------------------
class EventCategory(RecordMixin, Base):
    __tablename__ = "grid_event_categories"

    name: Mapped[str] = mapped_column(String(32), unique=True)
    deadline_days: Mapped[int] = mapped_column(Integer, default=5)          # 处置时限（工作日）
    is_dispute: Mapped[bool] = mapped_column(Boolean, default=False)        # carries mediation fields
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Department(RecordMixin, Base):
    """部门与单位: a 派遣对象 — a street office, a community committee, a unit or company stationed in the
    street — with whom to call and how many working days it gets by default. Street-wide (no area):
    one directory for every grid; an entry no longer dispatched to is made inactive, never deleted
    (its events keep pointing at it)."""

    __tablename__ = "grid_departments"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="职能部门")           # labels.DEPARTMENT_KINDS
    contact: Mapped[str] = mapped_column(String(64), default="")             # 联系人
    phone: Mapped[str | None] = mapped_column(String(32))
    deadline_days: Mapped[int | None] = mapped_column(Integer)               # 默认处置时限（工作日）; None: the category's
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Event(RecordMixin, Base):
    __tablename__ = "grid_events"
    __table_args__ = (Index("ix_grid_events_status", "status"),
                      Index("ix_grid_events_registered_at", "registered_at"),
                      # PostgreSQL only (g0003): the global search's event-number prefix
                      Index("ix_grid_events_number_pattern", "number", postgresql_ops={"number": "varchar_pattern_ops"},
                            info={"dialect": "postgresql"}).ddl_if(dialect="postgresql"))
    # Not a column: set by services.transition("register") when the deadline reaches into a year with
    # no holiday calendar (shell.core.calendar.missing_warning), for the caller to show.
    deadline_warning = ""

    area_id: Mapped[int] = _area()
    number: Mapped[str] = mapped_column(String(32), unique=True)            # 事件编号
    category_id: Mapped[int] = mapped_column(ForeignKey("grid_event_categories.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(32), default="网格员上报")
    reporter_name: Mapped[str] = mapped_column(String(64), default="")
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    occurred_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="reported")
    reported_at: Mapped[datetime]
    registered_at: Mapped[datetime | None]
    deadline: Mapped[date | None] = mapped_column(Date)                     # 处置时限（最后一个工作日）
    assignee: Mapped[str | None] = mapped_column(String(100))               # 派遣对象（部门或人员）, as shown
    # the directory entry it was dispatched to (g0006; events before it were linked by their assignee text)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("grid_departments.id", ondelete="RESTRICT"),
                                                      index=True)
    # a deadline set at 派遣 (the department's working days from that day): recounted from these
    dispatched_on: Mapped[date | None] = mapped_column(Date)
    dispatch_days: Mapped[int | None] = mapped_column(Integer)
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    escalations: Mapped[int] = mapped_column(Integer, default=0)            # 督办次数
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    # 矛盾纠纷
    party_count: Mapped[int | None] = mapped_column(Integer)
    main_parties: Mapped[str | None] = mapped_column(String(200))
    mediation_method: Mapped[str | None] = mapped_column(String(16))        # 人民调解/行政调解/司法调解
    mediation_result: Mapped[str | None] = mapped_column(String(8))         # 化解中/成功/失败
    satisfaction: Mapped[str | None] = mapped_column(String(8))             # 满意/基本满意/不满意


class EventStep(RecordMixin, Base):
    """The timeline: one row per transition (and per 督办), with who, when and the comment."""

    __tablename__ = "grid_event_steps"
    # the department statistics read one kind of step over a period (g0006): 派遣 of a year, 处置 since
    __table_args__ = (Index("ix_grid_event_steps_action_at", "action", "at"),)

    area_id: Mapped[int] = _area()
    event_id: Mapped[int] = mapped_column(ForeignKey("grid_events.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime]
    # the department the case was with at this step (派遣: the one it went to): the per-department
    # statistics count receipts, 核查不通过 and 督办 from these
    department_id: Mapped[int | None] = mapped_column(ForeignKey("grid_departments.id", ondelete="RESTRICT"),
                                                      index=True)


class EventAttachment(RecordMixin, Base):
    """A photo or file of an event, kept in the database itself so every desktop on a township server
    sees it and backups include it. Images arrive already downscaled by the view; the services check
    size and type. Never edited: removed (by its uploader, while the event is open) or kept."""

    __tablename__ = "grid_event_attachments"

    area_id: Mapped[int] = _area()
    event_id: Mapped[int] = mapped_column(ForeignKey("grid_events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # The bytes stay out of the audit log (name, size and sha256 identify them there).
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, info={"audit": False})
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))
    uploaded_by_name: Mapped[str] = mapped_column(String(64), default="")
    uploaded_at: Mapped[datetime]

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")


# --- 网格力量 ----------------------------------------------------------------------------------


class GridStaff(RecordMixin, Base):
    __tablename__ = "grid_staff"

    area_id: Mapped[int] = _area()                                          # the grid
    role: Mapped[str] = mapped_column(String(8))                            # head / worker
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("grid_persons.id", ondelete="SET NULL"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


# --- 特殊人群与走访 ----------------------------------------------------------------------------
class SpecialPerson(RecordMixin, Base):
    __tablename__ = "grid_special_persons"

    area_id: Mapped[int] = _area()
    person_id: Mapped[int] = mapped_column(ForeignKey("grid_persons.id", ondelete="RESTRICT"), index=True)
    group: Mapped[str] = mapped_column(String(16))                          # services.SPECIAL_GROUPS
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)     # the group's own fields
    helper: Mapped[str | None] = mapped_column(String(64))                  # 帮扶人/帮教人
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    visit_interval_days: Mapped[int] = mapped_column(Integer, default=30)
    next_visit_date: Mapped[date | None] = mapped_column(Date, index=True)


class Visit(RecordMixin, Base):
    __tablename__ = "grid_visits"

    area_id: Mapped[int] = _area()
    special_id: Mapped[int] = mapped_column(ForeignKey("grid_special_persons.id", ondelete="CASCADE"), index=True)
    visit_date: Mapped[date] = mapped_column(Date)
    visitor_name: Mapped[str] = mapped_column(String(64))
    visitor_user_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))
    situation: Mapped[str] = mapped_column(Text, default="")
    next_visit_date: Mapped[date | None] = mapped_column(Date)


class VisitLog(RecordMixin, Base):
    """民情日志: date, worker, household/person, what was found."""

    __tablename__ = "grid_visit_logs"

    area_id: Mapped[int] = _area()
    log_date: Mapped[date] = mapped_column(Date)
    worker_name: Mapped[str] = mapped_column(String(64))
    worker_user_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("grid_households.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("grid_persons.id", ondelete="SET NULL"))
    content: Mapped[str] = mapped_column(Text, default="")
    finding: Mapped[str] = mapped_column(Text, default="")
    event_id: Mapped[int | None] = mapped_column(ForeignKey("grid_events.id", ondelete="SET NULL"))
