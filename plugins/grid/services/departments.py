"""部门与单位: the street's directory of 派遣对象 (street offices, community committees, units and
companies stationed in the street), the default deadline of a dispatch, and the per-department
statistics (cases received, 核查不通过, overdue, 督办, mean handling time)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from shell.core import calendar
from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.scope import get_in_scope
from shell.errors import NotFound, ValidationError

from ..labels import DEPARTMENT_KINDS
from ..models import Department, Event, EventStep
from .common import P_DEPARTMENT, P_DISPATCH, P_VIEW, _local_date, _phone, _required, _text

MAX_DEADLINE_DAYS = 365


@dataclass(frozen=True)
class DepartmentRow:
    """A directory entry as the pages keep it (the settings page edits from it, the 派遣 dialog lists it)."""
    id: int
    name: str
    kind: str
    contact: str
    phone: str
    deadline_days: int | None
    active: bool
    version_id: int

    @property
    def label(self) -> str:
        """What a chooser shows: the name, with the kind where it is not plain from the name."""
        return self.name if self.kind in ("职能部门", "社区") else f"{self.name}（{self.kind}）"


def _row(d: Department) -> DepartmentRow:
    return DepartmentRow(d.id, d.name, d.kind, d.contact or "", d.phone or "", d.deadline_days, bool(d.active),
                         d.version_id)


def department_rows(ctx: ServiceContext, include_inactive: bool = False) -> list[DepartmentRow]:
    """The directory by kind (in DEPARTMENT_KINDS order) then name; inactive entries only on request
    (the settings page shows them, the 派遣 dialog does not)."""
    ctx.actor.require(P_VIEW)
    q = select(Department)
    if not include_inactive:
        q = q.where(Department.active.is_(True))
    order = {k: i for i, k in enumerate(DEPARTMENT_KINDS)}
    rows = [_row(d) for d in ctx.session.scalars(q)]
    return sorted(rows, key=lambda r: (order.get(r.kind, len(order)), r.name))


def get_department(ctx: ServiceContext, department_id: int) -> Department:
    ctx.actor.require(P_VIEW)
    d = ctx.session.get(Department, department_id)
    if d is None:
        raise NotFound(f"部门与单位 {department_id} 不存在，可能已被他人删除。请刷新。")
    return d


def _deadline_days(value) -> int | None:
    if value in (None, "", 0):
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DEADLINE_DAYS:
        raise ValidationError(f"默认处置时限“{value}”无效：应为 1–{MAX_DEADLINE_DAYS} 个工作日，或不填（按事件类别）。",
                              "deadline_days", value)
    return value


def save_department(ctx: ServiceContext, name: str, kind: str = "职能部门", contact: str = "", phone: str | None = None,
                    deadline_days: int | None = None, active: bool = True, department_id: int | None = None,
                    expected_version: int | None = None) -> DepartmentRow:
    """新增 or 修改 a directory entry (``grid.department.manage``); with ``expected_version`` a change
    saved meanwhile on another desktop raises ConflictError. Renaming an entry does not rewrite the
    派遣对象 text of events already dispatched (their record shows the name they were sent to)."""
    ctx.actor.require(P_DEPARTMENT)
    name = _required(name, "name", "部门或单位名称")
    if len(name) > 100:
        raise ValidationError(f"名称“{name[:20]}…”太长：最多 100 个字。", "name", name)
    if kind not in DEPARTMENT_KINDS:
        raise ValidationError(f"类别“{kind}”无效，应为{'、'.join(DEPARTMENT_KINDS)}之一。", "kind", kind)
    contact = _text(contact)
    if len(contact) > 64:
        raise ValidationError(f"联系人“{contact[:20]}…”太长：最多 64 个字。", "contact", contact)
    phone = _phone(phone, "phone")
    days = _deadline_days(deadline_days)
    q = select(Department).where(Department.name == name)
    if department_id is not None:
        q = q.where(Department.id != department_id)
    if ctx.session.scalar(q) is not None:
        raise ValidationError(f"目录中已有“{name}”。", "name", name)
    d: Department | None
    if department_id is None:
        d = Department(name=name, kind=kind, contact=contact, phone=phone, deadline_days=days, active=bool(active),
                       created_by=ctx.actor.user_id)
        ctx.session.add(d)
    else:
        d = ctx.session.get(Department, department_id)
        if d is None:
            raise NotFound(f"部门与单位 {department_id} 不存在，可能已被他人删除。请刷新。")
        check_version(ctx.session, d, expected_version, "部门与单位")
        d.name, d.kind, d.contact, d.phone, d.deadline_days, d.active = name, kind, contact, phone, days, bool(active)
    flush_or_conflict(ctx.session, d, "部门与单位")
    return _row(d)


@dataclass(frozen=True)
class DispatchDefault:
    """The 派遣 dialog's deadline for a department: ``days`` working days from today (the department's
    default, else what is left of the 立案 deadline), the ``day`` they end on and the calendar's warning."""
    days: int | None
    day: date | None
    warning: str


def dispatch_deadline(ctx: ServiceContext, event_id: int, department_id: int | None,
                      days: int | None = None) -> DispatchDefault:
    """The deadline a dispatch to ``department_id`` would set: ``days`` (or the department's default)
    working days from today by the holiday calendar; without either, the deadline counted at 立案 stays."""
    ctx.actor.require(P_DISPATCH)
    ev = get_in_scope(ctx, Event, event_id, "事件")
    if days is None and department_id is not None:
        days = get_department(ctx, department_id).deadline_days
    if not days:
        return DispatchDefault(None, ev.deadline, "")
    due = calendar.add_working_days(ctx.session, ctx.today(), _deadline_days(days) or 1)
    return DispatchDefault(days, due.day, due.warning)


# --- statistics by department ---------------------------------------------------------------------
@dataclass(frozen=True)
class DepartmentStats:
    department_id: int
    name: str
    received: int             # 派遣 to it in the period (a case re-dispatched to it counts again)
    handled: int              # of those, 处置 by it
    returned: int             # 核查不通过 of its work in the period
    overdue: int              # of those received, handled after the deadline or still unhandled past it
    escalated: int            # 督办 while the case was with it, in the period
    mean_days: float | None   # mean time from 派遣 to its 处置, in days

    @property
    def mean_text(self) -> str:
        return "—" if self.mean_days is None else f"{self.mean_days:.1f}"


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    from shell.clock import LOCAL_TZ

    if end < start:
        raise ValidationError(f"截止日期 {end} 早于起始日期 {start}。", "end", end)
    return (datetime.combine(start, datetime.min.time(), LOCAL_TZ),
            datetime.combine(end + timedelta(days=1), datetime.min.time(), LOCAL_TZ))


def department_stats(ctx: ServiceContext, start: date, end: date) -> list[DepartmentStats]:
    """Per department, for the cases dispatched to it between ``start`` and ``end`` (Shanghai dates,
    inclusive) in the actor's scope: received, handled, overdue (处置 after the deadline's day, or not
    handled and the deadline passed) and the mean days from 派遣 to 处置; and the 核查不通过 and 督办
    steps of its cases in the period. Departments with nothing in the period are left out; sorted by
    cases received. Three reads (the period's 派遣, the 处置 after them, the returns and 督办)."""
    ctx.actor.require(P_VIEW)
    lo, hi = _bounds(start, end)
    today = ctx.today()
    in_scope = scope_filter(EventStep.area_id, ctx.actor)
    names = {d.id: d.name for d in ctx.session.scalars(select(Department))}
    dispatches = ctx.session.execute(
        select(EventStep.event_id, EventStep.department_id, EventStep.at, EventStep.id, Event.deadline, Event.status)
        .join(Event, Event.id == EventStep.event_id)
        .where(in_scope, EventStep.action == "dispatch", EventStep.department_id.is_not(None),
               EventStep.at >= lo, EventStep.at < hi)
        .order_by(EventStep.event_id, EventStep.id)).all()
    # the first 处置 of a department after each of its 派遣 (a case failed at 核查 is handled again:
    # the handling time runs to the first 处置)
    # (the queries read department_id IS NOT NULL: the keys are ints)
    handles: dict[tuple[int, int | None], list[tuple[int, datetime]]] = {}
    for event_id, dep, at, step_id in ctx.session.execute(
            select(EventStep.event_id, EventStep.department_id, EventStep.at, EventStep.id)
            .where(in_scope, EventStep.action == "handle", EventStep.department_id.is_not(None), EventStep.at >= lo)
            .order_by(EventStep.event_id, EventStep.id)):
        handles.setdefault((event_id, dep), []).append((step_id, at))
    counts: dict[int, dict] = {}

    def bucket(dep: int | None) -> dict:
        assert dep is not None
        return counts.setdefault(dep, {"received": 0, "handled": 0, "returned": 0, "overdue": 0, "escalated": 0,
                                       "days": []})

    for event_id, dep, at, step_id, deadline, status in dispatches:
        b = bucket(dep)
        b["received"] += 1
        done = next((h_at for h_id, h_at in handles.get((event_id, dep), ()) if h_id > step_id), None)
        if done is not None:
            b["handled"] += 1
            b["days"].append((done - at).total_seconds() / 86400)
            if deadline is not None and _local_date(done) > deadline:
                b["overdue"] += 1
        elif deadline is not None and deadline < today and status not in ("closed", "rejected"):
            b["overdue"] += 1
    for dep, action in ctx.session.execute(
            select(EventStep.department_id, EventStep.action)
            .where(in_scope, EventStep.action.in_(("verify_fail", "escalate")), EventStep.department_id.is_not(None),
                   EventStep.at >= lo, EventStep.at < hi)):
        bucket(dep)["returned" if action == "verify_fail" else "escalated"] += 1
    out = [DepartmentStats(dep, names.get(dep, f"（已删除 {dep}）"), b["received"], b["handled"], b["returned"],
                           b["overdue"], b["escalated"], sum(b["days"]) / len(b["days"]) if b["days"] else None)
           for dep, b in counts.items()]
    return sorted(out, key=lambda s: (-s.received, s.name))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
