"""Tables of the party-building plugin (prefix ``partybuilding_``).

The organisation tree keeps a materialized ``path`` ("/<id>/<id>/…/") like the area tree, so a
subtree is one ``LIKE`` query. Memberships are periods (``start_on`` … ``end_on``): a member's
history is never overwritten, only closed. Money is integer fen; months are "YYYY-MM" strings.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shell.db.base import Base, IdMixin, RecordMixin, TimestampMixin

# The choices and their Chinese labels live in labels.py (plain data the views may import);
# re-exported here for the code that reads them next to the tables.
from .labels import CATEGORY_LABELS as CATEGORY_LABELS
from .labels import LEVEL_LABELS as LEVEL_LABELS
from .labels import ORG_KINDS as ORG_KINDS
from .labels import STAGE_LABELS as STAGE_LABELS
from .labels import STAGES as STAGES
from .labels import STATUS_LABELS as STATUS_LABELS


class PartyOrg(RecordMixin, Base):
    """One node of 街道党工委 → 社区党委/党总支 → 党支部 → 党小组 → 党员中心户."""

    __tablename__ = "partybuilding_orgs"
    __table_args__ = (Index("ix_partybuilding_orgs_path", "path"),)

    parent_id: Mapped[int | None] = mapped_column(ForeignKey("partybuilding_orgs.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    level: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    founded_on: Mapped[date | None] = mapped_column(Date)
    dissolved_on: Mapped[date | None] = mapped_column(Date)
    dissolved_reason: Mapped[str | None] = mapped_column(String(200))
    secretary: Mapped[str | None] = mapped_column(String(64))
    has_committee: Mapped[bool] = mapped_column(Boolean, default=False)
    committee_size: Mapped[int | None] = mapped_column(Integer)
    committee_elected_on: Mapped[date | None] = mapped_column(Date)
    households: Mapped[str | None] = mapped_column(Text)  # 党员中心户: the households it contacts, one per line

    @property
    def kind_label(self) -> str:
        return ORG_KINDS.get(self.kind, (0, self.kind))[1]

    @property
    def is_open(self) -> bool:
        return self.dissolved_on is None

    def __repr__(self) -> str:
        return f"<PartyOrg {self.id} {self.kind} {self.name}>"


class OrgEvent(IdMixin, TimestampMixin, Base):
    """The life of an organisation: founded, renamed, moved, dissolved (with the business date)."""

    __tablename__ = "partybuilding_org_events"

    org_id: Mapped[int] = mapped_column(ForeignKey("partybuilding_orgs.id", ondelete="CASCADE"), index=True)
    on: Mapped[date] = mapped_column(Date)
    event: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(400), default="")


class Member(RecordMixin, Base):
    """A person in the pipeline or a Party member: the national 16-item form plus stage dates."""

    __tablename__ = "partybuilding_members"
    __table_args__ = (
        Index("ix_partybuilding_members_phone", "phone"),   # search by phone (p0003)
        # PostgreSQL only (p0003): LIKE 'x%' needs pattern_ops in a non-C collation; SQLite's GLOB
        # prefix search uses the plain indexes.
        *(Index(f"ix_partybuilding_members_{column}_pattern", column, postgresql_ops={column: "varchar_pattern_ops"},
                info={"dialect": "postgresql"}).ddl_if(dialect="postgresql")
          for column in ("id_number", "phone", "initials", "name_pinyin")),
    )

    name: Mapped[str] = mapped_column(String(64))
    initials: Mapped[str] = mapped_column(String(64), default="", index=True)  # pinyin initials for search
    name_pinyin: Mapped[str] = mapped_column(String(255), default="", index=True,  # full pinyin (p0004)
                                             info={"audit": False})
    sex: Mapped[str] = mapped_column(String(2))
    ethnicity: Mapped[str] = mapped_column(String(16), default="汉族")
    id_number: Mapped[str] = mapped_column(String(18), unique=True, info={"personal": "id"})
    birth_date: Mapped[date] = mapped_column(Date)
    education: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16), default="employed")
    org_id: Mapped[int | None] = mapped_column(ForeignKey("partybuilding_orgs.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16), default="applicant")
    applied_on: Mapped[date | None] = mapped_column(Date)
    activist_on: Mapped[date | None] = mapped_column(Date)
    candidate_on: Mapped[date | None] = mapped_column(Date)
    admitted_on: Mapped[date | None] = mapped_column(Date)        # 加入党组织日期 (branch meeting vote)
    extension_months: Mapped[int | None] = mapped_column(Integer)  # probation extended once, 6–12 months
    extended_on: Mapped[date | None] = mapped_column(Date)
    full_on: Mapped[date | None] = mapped_column(Date)             # 转为正式党员日期
    job: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="normal")
    lost_contact_on: Mapped[date | None] = mapped_column(Date)
    mobile_destination: Mapped[str | None] = mapped_column(String(200))
    mobile_since: Mapped[date | None] = mapped_column(Date)
    income_fen: Mapped[int | None] = mapped_column(Integer)        # monthly after-tax pay / pension
    fixed_dues_fen: Mapped[int | None] = mapped_column(Integer)    # farmers: 20–100 fen, agreed per member

    org: Mapped[PartyOrg | None] = relationship()

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)

    @property
    def is_party_member(self) -> bool:
        return self.stage in ("probationary", "full")


class Membership(IdMixin, TimestampMixin, Base):
    """A period during which a member belonged to an organisation; ``end_on`` None = current."""

    __tablename__ = "partybuilding_memberships"

    member_id: Mapped[int] = mapped_column(ForeignKey("partybuilding_members.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("partybuilding_orgs.id"), index=True)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(100), default="")


class Counter(Base):
    """Guarded counters (e.g. transfer letter numbers per year): a value is handed out once."""

    __tablename__ = "partybuilding_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Transfer(RecordMixin, Base):
    """组织关系转接: an outgoing letter (numbered, with receipt) or an incoming registration."""

    __tablename__ = "partybuilding_transfers"

    direction: Mapped[str] = mapped_column(String(8))      # out | in
    member_id: Mapped[int] = mapped_column(ForeignKey("partybuilding_members.id"), index=True)
    from_org_id: Mapped[int | None] = mapped_column(ForeignKey("partybuilding_orgs.id"))
    to_org_id: Mapped[int | None] = mapped_column(ForeignKey("partybuilding_orgs.id"))
    letter_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    other_party: Mapped[str] = mapped_column(String(200))  # destination (out) or origin (in) organisation name
    other_letter_number: Mapped[str | None] = mapped_column(String(60))
    issued_on: Mapped[date] = mapped_column(Date)
    valid_days: Mapped[int | None] = mapped_column(Integer)
    dues_paid_to: Mapped[str | None] = mapped_column(String(7))
    receipt_due_on: Mapped[date | None] = mapped_column(Date)
    receipt_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="issued")  # issued | received | cancelled | registered
    reason: Mapped[str | None] = mapped_column(String(200))

    member: Mapped[Member] = relationship()


class MeetingRule(IdMixin, TimestampMixin, Base):
    """A frequency rule that overrides the built-in default for one meeting kind."""

    __tablename__ = "partybuilding_meeting_rules"

    kind: Mapped[str] = mapped_column(String(24), unique=True)
    period: Mapped[str] = mapped_column(String(8))          # month | quarter | year
    min_count: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Meeting(RecordMixin, Base):
    __tablename__ = "partybuilding_meetings"
    __table_args__ = (Index("ix_partybuilding_meetings_held_on_id", "held_on", "id"),)   # newest first (p0003)

    org_id: Mapped[int] = mapped_column(ForeignKey("partybuilding_orgs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    topic: Mapped[str] = mapped_column(String(200))
    host: Mapped[str | None] = mapped_column(String(64))
    recorder: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(200))
    minutes: Mapped[str | None] = mapped_column(Text)

    org: Mapped[PartyOrg] = relationship()


class Attendance(IdMixin, Base):
    __tablename__ = "partybuilding_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("partybuilding_meetings.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("partybuilding_members.id"), index=True)
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    absence_reason: Mapped[str | None] = mapped_column(String(200))


class DuesPayment(IdMixin, TimestampMixin, Base):
    """党费 paid for one month (append-only: a wrong entry is corrected by an administrator's note)."""

    __tablename__ = "partybuilding_dues_payments"
    __table_args__ = (UniqueConstraint("member_id", "month"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("partybuilding_members.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(Integer)
    base_fen: Mapped[int | None] = mapped_column(Integer)
    paid_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))


class CommunityReport(RecordMixin, Base):
    """在职党员“双报到”: a member working elsewhere reports to the community where they live. The
    person is usually on a workplace organisation's rolls, not this street's, so the record keeps
    their own name and workplace; ``member_id`` links one who is also on the street's rolls."""

    __tablename__ = "partybuilding_community_reports"

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id"), index=True)   # the residential community
    member_id: Mapped[int | None] = mapped_column(ForeignKey("partybuilding_members.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    workplace: Mapped[str] = mapped_column(String(200))            # 工作单位
    workplace_org: Mapped[str | None] = mapped_column(String(200))  # 所在党组织
    address: Mapped[str | None] = mapped_column(String(200))       # 居住地址
    reported_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)            # moved away / stopped


class CommunityService(IdMixin, TimestampMixin, Base):
    """One piece of service a reported member did in the community (date, what, how long)."""

    __tablename__ = "partybuilding_community_services"

    report_id: Mapped[int] = mapped_column(ForeignKey("partybuilding_community_reports.id", ondelete="CASCADE"),
                                           index=True)
    served_on: Mapped[date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id", ondelete="SET NULL"))


class HouseholdLink(IdMixin, TimestampMixin, Base):
    """A household a 党员中心户 contacts, as a record of another plugin (e.g. ``grid.household``),
    reached through the ``open_record`` hook; ``label`` keeps what the search showed."""

    __tablename__ = "partybuilding_household_links"
    __table_args__ = (UniqueConstraint("org_id", "record_kind", "record_id"),)

    org_id: Mapped[int] = mapped_column(ForeignKey("partybuilding_orgs.id", ondelete="CASCADE"), index=True)
    record_kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
