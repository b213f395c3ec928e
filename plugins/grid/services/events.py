"""Events, the closed loop: categories, deadlines in working days, the steps, the queues."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select

from shell.clock import LOCAL_TZ
from shell.core import calendar
from shell.core import personal as _personal
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area
from shell.db.retry import guard_busy
from shell.errors import NotFound, ValidationError

from ..models import Department, Event, EventCategory, EventStep
from .common import (
    P_CATEGORY,
    P_CLOSE,
    P_DISPATCH,
    P_ESCALATE,
    P_HANDLE,
    P_REGISTER,
    P_REPORT,
    P_VERIFY,
    P_VIEW,
    Listing,
    _area_of,
    _get,
    _local_date,
    _phone,
    _required,
    _text,
)

# =============================================================================================
# Events: the closed loop
# =============================================================================================
STEP_LABELS = {"report": "上报", "register": "立案", "reject": "不予立案", "dispatch": "派遣", "handle": "处置",
               "send_back": "退回", "verify": "核查", "verify_fail": "核查不通过", "close": "结案",
               "escalate": "督办", "callback": "回访", "recount": "重算时限"}
STATUS_LABELS = {"reported": "上报", "registered": "立案", "dispatched": "派遣", "handled": "处置",
                 "verified": "核查", "closed": "结案", "rejected": "不予立案"}
OPEN_STATUSES = ("registered", "dispatched", "handled", "verified")
DEFAULT_CATEGORIES = (("矛盾纠纷", 10, True), ("安全隐患", 3, False), ("民生诉求", 5, False),
                      ("城市管理", 3, False), ("其他", 5, False))


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    permission: str
    sources: tuple[str, ...]
    target: str | None           # None: depends on the source (退回) or unchanged (督办)
    needs_comment: bool = False


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("register", "立案", P_REGISTER, ("reported",), "registered"),
    Transition("reject", "不予立案", P_REGISTER, ("reported",), "rejected", needs_comment=True),
    Transition("dispatch", "派遣", P_DISPATCH, ("registered",), "dispatched"),
    Transition("handle", "处置", P_HANDLE, ("dispatched",), "handled", needs_comment=True),
    Transition("send_back", "退回", P_HANDLE, ("dispatched",), "registered", needs_comment=True),
    Transition("verify", "核查", P_VERIFY, ("handled",), "verified"),
    Transition("verify_fail", "核查不通过", P_VERIFY, ("handled", "verified"), "dispatched", needs_comment=True),
    Transition("close", "结案", P_CLOSE, ("verified",), "closed"),
    Transition("escalate", "督办", P_ESCALATE, OPEN_STATUSES, None, needs_comment=True),
)}
# 退回: the handler sends a dispatched event back to be re-dispatched (not its department's work).
# 核查不通过: the verifier finds the work not done — before or after recording 核查 (until 结案) — and
# sends the case back to the same handler (status 派遣) with the opinion; it shows in their 待我处理
# again and counts as a return of that department. Timelines written before 核查不通过 existed keep
# their 退回 steps from 处置 (handled → dispatched) and read as they were.
SEND_BACK_TARGET = {"dispatched": "registered"}
SEND_BACK_PERMISSION = {"dispatched": P_HANDLE}


def list_categories(ctx: ServiceContext, include_inactive: bool = False) -> list[EventCategory]:
    """The categories (the defaults come with the g0001 migration and are editable)."""
    ctx.actor.require(P_VIEW)
    q = select(EventCategory).order_by(EventCategory.sort_order, EventCategory.id)
    if not include_inactive:
        q = q.where(EventCategory.active.is_(True))
    return list(ctx.session.scalars(q))


@dataclass(frozen=True)
class CategoryRow:
    """An event category as a page keeps it (the configuration dialog edits from it)."""
    id: int
    name: str
    deadline_days: int
    is_dispute: bool
    active: bool
    version_id: int


def category_rows(ctx: ServiceContext, include_inactive: bool = False) -> list[CategoryRow]:
    """``list_categories`` as plain rows."""
    return [CategoryRow(c.id, c.name, c.deadline_days, bool(c.is_dispute), bool(c.active), c.version_id)
            for c in list_categories(ctx, include_inactive)]


def get_category(ctx: ServiceContext, category_id: int) -> EventCategory:
    ctx.actor.require(P_VIEW)
    cat = ctx.session.get(EventCategory, category_id)
    if cat is None:
        raise NotFound(f"事件类别 {category_id} 不存在，可能已被他人删除。请刷新。")
    return cat


def save_category(ctx: ServiceContext, name: str, deadline_days: int, category_id: int | None = None,
                  is_dispute: bool = False, active: bool = True, expected_version: int | None = None) -> EventCategory:
    ctx.actor.require(P_CATEGORY)
    name = _required(name, "name", "类别名称")
    if not isinstance(deadline_days, int) or isinstance(deadline_days, bool) or not 1 <= deadline_days <= 365:
        raise ValidationError(f"处置时限“{deadline_days}”无效：应为 1–365 个工作日。", "deadline_days", deadline_days)
    q = select(EventCategory).where(EventCategory.name == name)
    if category_id is not None:
        q = q.where(EventCategory.id != category_id)
    if ctx.session.scalar(q) is not None:
        raise ValidationError(f"已有名为“{name}”的事件类别。", "name", name)
    cat: EventCategory | None
    if category_id is None:
        cat = EventCategory(name=name, deadline_days=deadline_days, is_dispute=is_dispute, active=active,
                            sort_order=100, created_by=ctx.actor.user_id)
        ctx.session.add(cat)
    else:
        cat = ctx.session.get(EventCategory, category_id)
        if cat is None:
            raise NotFound(f"事件类别 {category_id} 不存在。")
        check_version(ctx.session, cat, expected_version, "事件类别")
        cat.name, cat.deadline_days, cat.is_dispute, cat.active = name, deadline_days, is_dispute, active
    flush_or_conflict(ctx.session, cat, "事件类别")
    return cat


# --- working days ------------------------------------------------------------------------------
# The holiday calendar is the core's (shell.core.calendar, table core_holidays): every deadline here
# is computed from it, and a year it does not know is counted Monday–Friday with a warning.
def deadline_warning(ctx: ServiceContext, event_id: int) -> str:
    """The calendar warning for an event's deadline: the years between 立案 and the deadline that have
    no holiday calendar; or, when such a year was entered only after 立案 and counting again gives
    another day, that the deadline was counted by the weekend rule and what it would be now. Empty
    when the deadline stands."""
    ctx.actor.require(P_VIEW)
    ev = _get(ctx, Event, event_id, "事件")
    if not ev.deadline or not ev.registered_at:
        return ""
    start, counted_at, when = _local_date(ev.registered_at), ev.registered_at, "立案"
    if ev.dispatched_on is not None and ev.dispatch_days:         # the deadline was set at 派遣
        start, when = ev.dispatched_on, "派遣"
        counted_at = ctx.session.scalar(select(func.max(EventStep.at)).where(
            EventStep.event_id == ev.id, EventStep.action == "dispatch")) or ev.registered_at
    missing = calendar.span_warning(ctx.session, start, ev.deadline)
    if missing:
        return missing
    late = [y for y in range((start + timedelta(days=1)).year, ev.deadline.year + 1)
            if (at := calendar.entered_at(ctx.session, y)) is not None and at > counted_at]
    if not late:
        return ""
    days = ev.dispatch_days if when == "派遣" else ctx.session.get_one(EventCategory, ev.category_id).deadline_days
    now_due = calendar.add_working_days(ctx.session, start, days or 1).day
    if now_due == ev.deadline:
        return ""
    return (f"处置时限{when}时按周末计算（{'、'.join(map(str, late))} 年节假日安排当时尚未录入），"
            f"按现行节假日安排应为 {now_due}")


def recount_deadlines(ctx: ServiceContext, days) -> int:
    """The holiday calendar changed on ``days``: open events (立案 to 核查) whose working-day count ran
    over one of them get their 处置时限 counted again from 立案; a changed deadline is saved (audited)
    and noted on the event's timeline. Street-wide: the calendar is, and so is whoever may change it
    (``core.settings.manage``). Returns how many deadlines changed."""
    ctx.actor.require("core.settings.manage")
    days = sorted({d for d in (days if isinstance(days, (list, tuple, set, frozenset)) else [days])
                   if isinstance(d, date)})
    if not days:
        return 0
    first, last = days[0], days[-1]
    after_last = datetime.combine(last, datetime.min.time(), tzinfo=LOCAL_TZ)
    q = (select(Event).where(Event.status.in_(("registered", "dispatched", "handled", "verified")),
                             Event.deadline.is_not(None), Event.deadline >= first,
                             Event.registered_at.is_not(None), Event.registered_at < after_last)
         .order_by(Event.id))
    categories = {c.id: c for c in ctx.session.scalars(select(EventCategory))}
    changed = 0
    for ev in ctx.session.scalars(q):
        assert ev.registered_at is not None  # the query reads registered_at IS NOT NULL
        old = ev.deadline
        if ev.dispatched_on is not None and ev.dispatch_days:     # set at 派遣: counted from that day
            new = calendar.add_working_days(ctx.session, ev.dispatched_on, ev.dispatch_days).day
        else:
            new = calendar.add_working_days(ctx.session, _local_date(ev.registered_at),
                                            categories[ev.category_id].deadline_days).day
        if new != old:
            ev.deadline = new
            _step(ctx, ev, "recount", ev.status, ev.status, f"节假日安排变更，处置时限由 {old} 重算为 {new}")
            changed += 1
    ctx.session.flush()
    return changed


def _next_number(ctx: ServiceContext) -> str:
    today = ctx.today()
    prefix = f"SJ{today:%Y%m%d}-"
    last = ctx.session.scalar(select(func.max(Event.number)).where(Event.number.startswith(prefix)))
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


# Contended: two desktops reporting at once race for the day's next number (the savepoint retries a
# taken one; a lock timeout becomes the retryable BusyError).
@guard_busy
def report_event(ctx: ServiceContext, *, area_id: int, category_id: int, title: str, description: str = "",
                 source: str = "网格员上报", reporter_name: str | None = None, reporter_phone: str | None = None,
                 address: str | None = None, occurred_on: date | None = None, party_count: int | None = None,
                 main_parties: str | None = None) -> Event:
    """信息采集/上报: a new event in state 上报."""
    ctx.actor.require(P_REPORT)
    area = _area_of(ctx, area_id)
    cat = ctx.session.get(EventCategory, category_id)
    if cat is None or not cat.active:
        raise ValidationError(f"事件类别“{category_id}”不存在或已停用。", "category_id", category_id)
    title = _required(title, "title", "事件名称")
    if occurred_on and occurred_on > ctx.today():
        raise ValidationError(f"发生日期 {occurred_on} 晚于今天。", "occurred_on", occurred_on)
    if party_count is not None and party_count < 0:
        raise ValidationError(f"当事人数量“{party_count}”不能为负。", "party_count", party_count)
    now = ctx.now()
    ev = Event(area_id=area.id, number="", category_id=cat.id, title=title,
               description=_text(description), source=_text(source) or "网格员上报",
               reporter_name=_text(reporter_name) or ctx.actor.display_name,
               reporter_phone=_phone(reporter_phone, "reporter_phone"), address=_text(address) or None,
               occurred_on=occurred_on or ctx.today(), status="reported", reported_at=now,
               party_count=party_count, main_parties=_text(main_parties) or None, created_by=ctx.actor.user_id)
    _insert_numbered(ctx, ev)
    _step(ctx, ev, "report", None, "reported", _text(description) or title)   # the whole description
    return ev


def _insert_numbered(ctx: ServiceContext, ev: Event, attempts: int = 5) -> None:
    """Two desktops reporting at the same moment may compute the same next number: the loser's
    insert hits the unique index inside a savepoint and retries with the number after the winner's."""
    from sqlalchemy.exc import IntegrityError

    for attempt in range(attempts):
        ev.number = _next_number(ctx)
        try:
            with ctx.session.begin_nested():
                ctx.session.add(ev)
                ctx.session.flush()
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise


# The states in which a case is with a department: its steps then count for that department.
WITH_DEPARTMENT = ("dispatched", "handled", "verified")


def _step(ctx: ServiceContext, ev: Event, action: str, from_status: str | None, to_status: str, comment: str,
          department_id: int | None = None) -> None:
    if department_id is None and from_status in WITH_DEPARTMENT:
        department_id = ev.department_id
    ctx.session.add(EventStep(area_id=ev.area_id, event_id=ev.id, action=action, from_status=from_status,
                              to_status=to_status, comment=comment, actor_id=ctx.actor.user_id,
                              actor_name=ctx.actor.display_name or ctx.actor.username, at=ctx.now(),
                              created_by=ctx.actor.user_id, department_id=department_id))


def get_event(ctx: ServiceContext, event_id: int) -> Event:
    ctx.actor.require(P_VIEW)
    return _get(ctx, Event, event_id, "事件")


def allowed_actions(ctx: ServiceContext, ev: Event) -> list[str]:
    """The actions this actor may take on ``ev`` now (for buttons; the services check again)."""
    out = []
    for t in TRANSITIONS.values():
        if ev.status not in t.sources:
            continue
        perm = SEND_BACK_PERMISSION[ev.status] if t.action == "send_back" else t.permission
        if ctx.actor.can(perm):
            out.append(t.action)
    return out


@guard_busy
def transition(ctx: ServiceContext, event_id: int, action: str, comment: str = "",
               expected_version: int | None = None, *, assignee: str | None = None,
               assignee_user_id: int | None = None, department_id: int | None = None,
               deadline_days: int | None = None, mediation_method: str | None = None,
               mediation_result: str | None = None, satisfaction: str | None = None) -> Event:
    """Carry an event one step along the closed loop; refuses illegal steps, checks the permission of
    the step and the actor's scope, records the step with its comment in the timeline. With
    ``expected_version`` (the version the user's screen showed), a change made meanwhile by another
    desktop raises ConflictError.

    派遣 goes to an active entry of the directory (``department_id``, 部门与单位) or to a user
    (``assignee_user_id``); ``deadline_days`` — by default the department's own — sets the 处置时限 to
    that many working days from today; 0 or no default keeps the deadline as it is. A bare ``assignee`` text is taken
    when it names an active entry (and kept as typed otherwise, the way events were dispatched before
    the directory)."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise ValidationError(f"未知的事件操作“{action}”。", "action", action)
    ctx.actor.require(t.permission)
    ev = _get(ctx, Event, event_id, "事件")
    check_version(ctx.session, ev, expected_version, "事件")
    src = ev.status
    if src not in t.sources:
        raise ValidationError(f"事件 {ev.number} 当前为“{STATUS_LABELS[src]}”，不能“{t.label}”。", "action", action)
    if action == "send_back":
        ctx.actor.require(SEND_BACK_PERMISSION[src])
    comment = _text(comment)
    if t.needs_comment and not comment:
        what = {"reject": "不予立案的理由", "handle": "处置情况", "send_back": "退回原因", "escalate": "督办意见",
                "verify_fail": "核查不通过的意见（哪里没有处置到位）"}[action]
        raise ValidationError(f"请填写{what}。", "comment", comment)
    now = ctx.now()
    target = t.target or (SEND_BACK_TARGET[src] if action == "send_back" else src)
    cat = ctx.session.get_one(EventCategory, ev.category_id)
    if action == "register":
        ev.registered_at = now
        due = calendar.add_working_days(ctx.session, _local_date(now), cat.deadline_days)
        ev.deadline = due.day
        ev.deadline_warning = due.warning     # the caller shows it: a year without calendar is never silent
    elif action == "reject":
        ev.reject_reason = comment[:200]
    elif action == "dispatch":
        _dispatch(ctx, ev, _text(assignee), assignee_user_id, department_id, deadline_days)
    elif action == "handle" and cat.is_dispute:
        if mediation_method:
            ev.mediation_method = _text(mediation_method)
        if mediation_result:
            if mediation_result not in ("化解中", "成功", "失败"):
                raise ValidationError(f"化解情况“{mediation_result}”无效，应为化解中、成功或失败。",
                                      "mediation_result", mediation_result)
            ev.mediation_result = mediation_result
    elif action == "close":
        ev.closed_at = now
        if satisfaction:
            if satisfaction not in SATISFACTION:
                raise ValidationError(f"满意度“{satisfaction}”无效。", "satisfaction", satisfaction)
            ev.satisfaction = satisfaction
    elif action == "escalate":
        ev.escalations = (ev.escalations or 0) + 1
    returning = ev.department_id
    if action == "send_back" and src == "dispatched":
        ev.assignee, ev.assignee_user_id, ev.department_id = None, None, None
    ev.status = target
    flush_or_conflict(ctx.session, ev, "事件")
    label_comment = comment or (f"派遣至{ev.assignee or ''}" if action == "dispatch" else t.label)
    _step(ctx, ev, action, src, target, label_comment, ev.department_id if action == "dispatch" else returning)
    ctx.session.flush()
    return ev


def _dispatch(ctx: ServiceContext, ev: Event, who: str, user_id: int | None, department_id: int | None,
              deadline_days: int | None) -> None:
    dep: Department | None = None
    if department_id is not None:
        dep = ctx.session.get(Department, department_id)
        if dep is None or not dep.active:
            raise ValidationError(f"派遣对象（部门与单位 {department_id}）不存在或已停用，请重新选择。",
                                  "department_id", department_id)
    elif who:
        dep = ctx.session.scalar(select(Department).where(Department.name == who, Department.active.is_(True)))
    if dep is None and not who and user_id is None:
        raise ValidationError("请选择派遣对象（部门或单位）。", "department_id", department_id)
    ev.assignee = dep.name if dep is not None else who or None
    ev.assignee_user_id, ev.department_id = user_id, dep.id if dep is not None else None
    # None: the department's default; 0: keep the deadline counted at 立案 (the dialog's 按立案时限)
    days = deadline_days if deadline_days is not None else (dep.deadline_days if dep is not None else None)
    if days != 0 and days is not None:
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
            raise ValidationError(f"处置时限“{days}”无效：应为 1–365 个工作日。", "deadline_days", days)
        due = calendar.add_working_days(ctx.session, ctx.today(), days)
        ev.deadline, ev.dispatched_on, ev.dispatch_days = due.day, ctx.today(), days
        ev.deadline_warning = due.warning
    # without a count the deadline stands as it was set (at 立案, or by an earlier 派遣)


SATISFACTION = ("满意", "基本满意", "不满意")


def record_callback(ctx: ServiceContext, event_id: int, satisfaction: str, comment: str = "") -> Event:
    """回访: after 结案 the reporter is called back and the satisfaction recorded (kept in the timeline)."""
    ctx.actor.require(P_CLOSE)
    ev = _get(ctx, Event, event_id, "事件")
    if ev.status != "closed":
        raise ValidationError(f"事件 {ev.number} 尚未结案，结案后才能回访。", "status", ev.status)
    if satisfaction not in SATISFACTION:
        raise ValidationError(f"满意度“{satisfaction}”无效，应为{'、'.join(SATISFACTION)}之一。", "satisfaction",
                              satisfaction)
    ev.satisfaction = satisfaction
    flush_or_conflict(ctx.session, ev, "事件")
    _step(ctx, ev, "callback", "closed", "closed", f"回访：{satisfaction}" + (f"。{_text(comment)}" if _text(comment) else ""))
    ctx.session.flush()
    return ev


def timeline(ctx: ServiceContext, event_id: int) -> list[EventStep]:
    ctx.actor.require(P_VIEW)
    _get(ctx, Event, event_id, "事件")
    return list(ctx.session.scalars(select(EventStep).where(EventStep.event_id == event_id)
                                    .order_by(EventStep.at, EventStep.id)))


def events_query(actor, area: Area | None = None, status: str | None = None):
    q = select(Event).where(scope_filter(Event.area_id, actor))
    if area is not None:
        q = q.where(subtree_filter(Event.area_id, area))
    if status:
        q = q.where(Event.status == status)
    return q


# The event list's filters beside the states: 待我处理, 已超期, 即将到期 (today or the next working day).
EVENT_FILTERS = {"": "全部", "inbox": "待我处理", "overdue": "已超期", "due_soon": "即将到期", **STATUS_LABELS}


def events_listing(ctx: ServiceContext, code: str = "", department_id: int | None = None) -> Listing:
    """The event list for one of EVENT_FILTERS, newest first; with ``department_id`` only the cases
    dispatched to that department (部门与单位) — its worklist."""
    ctx.actor.require(P_VIEW)
    if code not in EVENT_FILTERS:
        raise ValidationError(f"筛选条件“{code}”无效。", "code", code)
    if department_id is not None and ctx.session.get(Department, department_id) is None:
        raise ValidationError(f"部门与单位 {department_id} 不存在，请刷新后重新选择。", "department_id", department_id)
    actor, today = ctx.actor, ctx.today()
    if code == "inbox":
        ids = [e.id for e in inbox(ctx)]
        q = events_query(actor).where(Event.id.in_(ids or [-1]))
    elif code == "overdue":
        q = events_query(actor).where(Event.status.in_(OPEN_STATUSES), Event.deadline < today)
    elif code == "due_soon":
        q = events_query(actor).where(Event.status.in_(OPEN_STATUSES), Event.deadline >= today,
                                      Event.deadline <= due_soon_limit(ctx, 1))
    else:
        q = events_query(actor, status=code or None)
    if department_id is not None:
        q = q.where(Event.department_id == department_id)
    return Listing(q, Event.id, descending=True)


def list_events(ctx: ServiceContext, area_id: int | None = None, status: str | None = None,
                after_id: int | None = None, limit: int = 100) -> list[Event]:
    ctx.actor.require(P_VIEW)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    q = events_query(ctx.actor, area, status)
    if after_id is not None:
        q = q.where(Event.id < after_id)
    return list(ctx.session.scalars(q.order_by(Event.id.desc()).limit(limit)))


def overdue_events(ctx: ServiceContext, area_id: int | None = None, on: date | None = None) -> list[Event]:
    """Open events whose deadline (last working day) has passed."""
    ctx.actor.require(P_VIEW)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    on = on or ctx.today()
    q = events_query(ctx.actor, area).where(Event.status.in_(OPEN_STATUSES), Event.deadline < on)
    return list(ctx.session.scalars(q.order_by(Event.deadline, Event.id)))


def due_soon_limit(ctx: ServiceContext, within_working_days: int = 1) -> date:
    """The last deadline that counts as 即将到期 today: the ``within_working_days``-th working day."""
    ctx.actor.require(P_VIEW)
    return calendar.add_working_days(ctx.session, ctx.today(), within_working_days).day


def due_soon_events(ctx: ServiceContext, within_working_days: int = 1, area_id: int | None = None) -> list[Event]:
    """Open events whose deadline is today or within the next ``within_working_days`` working days."""
    ctx.actor.require(P_VIEW)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    today = ctx.today()
    limit = due_soon_limit(ctx, within_working_days)
    q = events_query(ctx.actor, area).where(Event.status.in_(OPEN_STATUSES), Event.deadline >= today,
                                            Event.deadline <= limit)
    return list(ctx.session.scalars(q.order_by(Event.deadline, Event.id)))


def inbox(ctx: ServiceContext) -> list[Event]:
    """待我处理: events in scope waiting for a step this actor may take."""
    ctx.actor.require(P_VIEW)
    statuses = []
    for st in ("reported", "registered", "dispatched", "handled", "verified"):
        for t in TRANSITIONS.values():
            if st in t.sources and t.action != "escalate" and ctx.actor.can(
                    SEND_BACK_PERMISSION[st] if t.action == "send_back" else t.permission):
                statuses.append(st)
                break
    if not statuses:
        return []
    q = events_query(ctx.actor).where(Event.status.in_(statuses))
    if not ctx.actor.can(P_DISPATCH) and ctx.actor.user_id is not None:
        # a handler without dispatch rights sees dispatched events assigned to them
        q = q.where(or_(Event.status != "dispatched", Event.assignee_user_id == ctx.actor.user_id,
                        Event.assignee_user_id.is_(None)))
    return list(ctx.session.scalars(q.order_by(Event.deadline.is_(None), Event.deadline, Event.id)))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
