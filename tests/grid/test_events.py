"""The event closed loop: transitions (allowed, refused, scope), timeline, working-day deadlines,
overdue list, inbox, indicators and optimistic locking on both engines."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from plugins.grid import services as svc
from plugins.grid.models import Event
from shell.core import calendar
from shell.errors import ConflictError, OutOfScope, PermissionDenied, ValidationError

from .conftest import ALL, FIXED_NOW, actor, make_id


# --- working days (the core calendar, seeded from chinese-calendar by the core migration) ------------
def test_working_days_across_national_day_with_tiaoxiu(grid_sqlite):
    # 2025: 10-01…10-08 off; Sunday 09-28 and Saturday 10-11 are make-up workdays (调休).
    with grid_sqlite.session_factory() as s:
        assert calendar.add_working_days(s, date(2025, 9, 26), 1).day == date(2025, 9, 28)    # Fri → the Sunday workday
        assert calendar.add_working_days(s, date(2025, 9, 28), 3).day == date(2025, 10, 9)    # 29, 30, then after the holiday
        assert calendar.add_working_days(s, date(2025, 10, 9), 2).day == date(2025, 10, 11)   # 10, then the Saturday workday
        assert calendar.add_working_days(s, date(2025, 9, 30), 1).warning == ""
        assert calendar.working_days_between(s, date(2025, 9, 30), date(2025, 10, 9)) == 1


def test_working_days_spring_festival_2025(grid_sqlite):
    # 2025-01-28…02-04 off; 01-26 (Sun) and 02-08 (Sat) are workdays
    with grid_sqlite.session_factory() as s:
        assert calendar.add_working_days(s, date(2025, 1, 24), 1).day == date(2025, 1, 26)
        assert calendar.add_working_days(s, date(2025, 1, 27), 1).day == date(2025, 2, 5)


def test_unknown_year_falls_back_to_weekdays_with_warning(grid_sqlite):
    with grid_sqlite.session_factory() as s:
        d = calendar.add_working_days(s, date(2040, 1, 6), 5)   # Friday
    assert d.day == date(2040, 1, 13)
    assert d.warning == "2040 年节假日安排尚未录入，期限按周末计算，请管理员录入"


# --- transitions ---------------------------------------------------------------------------------
ROLES = {
    "worker": {"grid.view", "grid.event.report", "grid.event.handle"},
    "community": {"grid.view", "grid.event.report", "grid.event.register", "grid.event.dispatch",
                  "grid.event.verify", "grid.event.close", "grid.event.handle"},
    "street": ALL,
}


def _cat(ctx, name="安全隐患"):
    return next(c for c in svc.list_categories(ctx) if c.name == name)


def test_default_categories_and_editing(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    assert [c.name for c in svc.list_categories(ctx)] == ["矛盾纠纷", "安全隐患", "民生诉求", "城市管理", "其他"]
    cat = svc.save_category(ctx, "环境卫生", 2)
    svc.save_category(ctx, "环境卫生", 4, category_id=cat.id)
    assert cat.deadline_days == 4
    with pytest.raises(ValidationError) as e:
        svc.save_category(ctx, "其他", 3)
    assert e.value.field == "name"
    with pytest.raises(ValidationError) as e:
        svc.save_category(ctx, "临时", 0)
    assert e.value.field == "deadline_days"
    worker = ctx_for(grid_sqlite, actor(stree.g11, codes=ROLES["worker"]))
    with pytest.raises(PermissionDenied):
        svc.save_category(worker, "临时", 3)


def test_full_loop_with_send_backs_and_timeline(gdb, tree, ctx_for):
    worker = ctx_for(gdb, actor(tree.g11, codes=ROLES["worker"], name="张网格"))
    cat = _cat(worker)
    ev = svc.report_event(worker, area_id=tree.g11.id, category_id=cat.id, title="楼道堆放杂物",
                          description="3号楼2单元楼道堆放纸箱，存在火灾隐患")
    worker.session.commit()
    assert ev.status == "reported" and ev.number == "SJ20250616-0001"
    comm = ctx_for(gdb, actor(tree.c1, codes=ROLES["community"], name="李社区"))
    ev = svc.transition(comm, ev.id, "register", "属实，立案")
    assert ev.status == "registered"
    assert ev.deadline == date(2025, 6, 19)               # 安全隐患: 3 working days from Monday
    svc.transition(comm, ev.id, "dispatch", assignee="社区物业办")
    svc.transition(comm, ev.id, "send_back", "不属于物业职责")  # handler-side send back → re-dispatch
    assert ev.status == "registered" and ev.assignee is None
    svc.transition(comm, ev.id, "dispatch", assignee="张网格")
    svc.transition(comm, ev.id, "handle", "已督促清理")
    svc.transition(comm, ev.id, "verify_fail", "现场仍有纸箱")   # 核查不通过: back to the handler
    assert ev.status == "dispatched" and ev.assignee == "张网格"
    svc.transition(comm, ev.id, "handle", "已全部清理")
    svc.transition(comm, ev.id, "verify", "现场核查通过")
    svc.transition(comm, ev.id, "close", "结案", satisfaction="满意")
    comm.session.commit()
    assert ev.status == "closed" and ev.closed_at == FIXED_NOW and ev.satisfaction == "满意"
    steps = svc.timeline(comm, ev.id)
    assert [s.action for s in steps] == ["report", "register", "dispatch", "send_back", "dispatch", "handle",
                                         "verify_fail", "handle", "verify", "close"]
    assert steps[3].comment == "不属于物业职责" and steps[3].actor_name == "李社区"
    assert steps[0].actor_name == "张网格"
    assert (steps[6].from_status, steps[6].to_status) == ("handled", "dispatched")


def test_reject_needs_reason(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=_cat(ctx).id, title="重复上报")
    with pytest.raises(ValidationError) as e:
        svc.transition(ctx, ev.id, "reject", "  ")
    assert e.value.field == "comment" and "不予立案的理由" in e.value.message
    svc.transition(ctx, ev.id, "reject", "与 SJ20250615-0003 重复")
    assert ev.status == "rejected" and ev.reject_reason.startswith("与 SJ")
    for action in ("register", "dispatch", "close", "escalate"):
        with pytest.raises(ValidationError, match="当前为“不予立案”"):
            svc.transition(ctx, ev.id, action, "x", assignee="y")


ILLEGAL = [("reported", "dispatch"), ("reported", "handle"), ("reported", "close"), ("reported", "verify"),
           ("reported", "send_back"), ("reported", "escalate"), ("registered", "register"),
           ("registered", "handle"), ("registered", "close"), ("registered", "reject"), ("dispatched", "verify"),
           ("dispatched", "close"), ("handled", "close"), ("handled", "dispatch"), ("verified", "handle"),
           ("closed", "close"), ("closed", "send_back"), ("closed", "escalate"), ("handled", "send_back"),
           ("reported", "verify_fail"), ("registered", "verify_fail"), ("dispatched", "verify_fail"),
           ("closed", "verify_fail")]
PATH = {"reported": [], "registered": ["register"], "dispatched": ["register", "dispatch"],
        "handled": ["register", "dispatch", "handle"], "verified": ["register", "dispatch", "handle", "verify"],
        "closed": ["register", "dispatch", "handle", "verify", "close"]}


@pytest.mark.parametrize("state, action", ILLEGAL)
def test_illegal_transitions_refused(stree, grid_sqlite, ctx_for, state, action):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=_cat(ctx).id, title="井盖缺失")
    for a in PATH[state]:
        svc.transition(ctx, ev.id, a, "意见", assignee="市政")
    assert ev.status == state
    with pytest.raises(ValidationError) as e:
        svc.transition(ctx, ev.id, action, "意见", assignee="市政")
    assert "不能" in e.value.message and ev.status == state


@pytest.mark.parametrize("action, needs", [("register", "grid.event.register"), ("reject", "grid.event.register"),
                                           ("dispatch", "grid.event.dispatch"), ("handle", "grid.event.handle"),
                                           ("verify", "grid.event.verify"), ("close", "grid.event.close"),
                                           ("verify_fail", "grid.event.verify"),
                                           ("escalate", "grid.event.escalate")])
def test_each_transition_needs_its_permission(stree, grid_sqlite, ctx_for, action, needs):
    boss = ctx_for(grid_sqlite, actor(stree.street))
    ev = svc.report_event(boss, area_id=stree.g11.id, category_id=_cat(boss).id, title="路灯不亮")
    state_before = {"register": "reported", "reject": "reported", "dispatch": "registered", "handle": "dispatched",
                    "verify": "handled", "close": "verified", "escalate": "dispatched",
                    "verify_fail": "handled"}[action]
    for a in PATH[state_before]:
        svc.transition(boss, ev.id, a, "意见", assignee="市政")
    boss.session.commit()
    lacking = ctx_for(grid_sqlite, actor(stree.street, codes=ALL - {needs}))
    with pytest.raises(PermissionDenied) as e:
        svc.transition(lacking, ev.id, action, "意见", assignee="市政")
    assert e.value.code == needs
    allowed = ctx_for(grid_sqlite, actor(stree.street, codes={"grid.view", needs}))
    assert action in svc.allowed_actions(allowed, allowed.session.get(Event, ev.id))
    svc.transition(allowed, ev.id, action, "意见", assignee="市政")


def test_send_back_of_handled_event_is_verify_fail_now(stree, grid_sqlite, ctx_for):
    """退回 is the department's (派遣 → 立案); a handled event goes back through 核查不通过, which needs
    the verifier's permission."""
    boss = ctx_for(grid_sqlite, actor(stree.street))
    ev = svc.report_event(boss, area_id=stree.g11.id, category_id=_cat(boss).id, title="违章搭建")
    for a in PATH["handled"]:
        svc.transition(boss, ev.id, a, "意见", assignee="城管")
    boss.session.commit()
    assert "send_back" not in svc.allowed_actions(boss, ev) and "verify_fail" in svc.allowed_actions(boss, ev)
    handler = ctx_for(grid_sqlite, actor(stree.street, codes={"grid.view", "grid.event.handle"}))
    with pytest.raises(PermissionDenied) as e:
        svc.transition(handler, ev.id, "verify_fail", "重新处置")
    assert e.value.code == "grid.event.verify"
    assert "verify_fail" not in svc.allowed_actions(handler, handler.session.get(Event, ev.id))


@pytest.mark.parametrize("at", ["handled", "verified"])
def test_verify_fail_sends_the_case_back_to_the_handler(gdb, tree, ctx_for, at):
    """核查不通过 (at 处置 awaiting 核查, or after 核查 until 结案): the opinion is required, the case goes
    back to 派遣 with the same department, the timeline keeps the whole opinion, the change is audited
    and the handler finds it in 待我处理 again."""
    from sqlalchemy import select

    from shell.core.models import AuditLog

    comm = ctx_for(gdb, actor(tree.c1, codes=ROLES["community"], name="李社区"))
    ev = svc.report_event(comm, area_id=tree.g11.id, category_id=_cat(comm).id, title="井盖破损")
    for a in PATH[at]:
        svc.transition(comm, ev.id, a, "已更换井盖", assignee="市政养护所")
    comm.session.commit()
    handler = ctx_for(gdb, actor(tree.g11, codes=ROLES["worker"], name="张网格"))
    assert ev.id not in [e.id for e in svc.inbox(handler)]
    version = ev.version_id
    with pytest.raises(ValidationError) as e:
        svc.transition(comm, ev.id, "verify_fail", "   ", expected_version=version)
    assert e.value.field == "comment" and "核查不通过的意见" in e.value.message
    assert ev.status == at
    opinion = "现场核查：井盖仍松动，周边警示标志未撤除，请重新处置并拍照反馈。" * 5     # long: kept whole
    svc.transition(comm, ev.id, "verify_fail", opinion, expected_version=version)
    comm.session.commit()
    assert ev.status == "dispatched" and ev.assignee == "市政养护所"
    last = svc.timeline(comm, ev.id)[-1]
    assert (last.action, last.from_status, last.to_status, last.comment, last.actor_name) == (
        "verify_fail", at, "dispatched", opinion, "李社区")
    assert svc.STEP_LABELS["verify_fail"] == "核查不通过"
    audited = comm.session.scalars(select(AuditLog).where(AuditLog.entity == "grid_events",
                                                          AuditLog.entity_id == str(ev.id),
                                                          AuditLog.action == "update")).all()
    assert any(a.before.get("status") == at and a.after.get("status") == "dispatched" for a in audited)
    assert comm.session.scalar(select(AuditLog).where(AuditLog.entity == "grid_event_steps",
                                                      AuditLog.entity_id == str(last.id))) is not None
    handler.session.expire_all()
    assert ev.id in [e.id for e in svc.inbox(handler)]
    assert "handle" in svc.allowed_actions(handler, handler.session.get(Event, ev.id))
    # a screen showing the old version is refused, not applied twice
    with pytest.raises(ConflictError):
        svc.transition(comm, ev.id, "handle", "再次处置", expected_version=version)


def test_grid_worker_cannot_touch_another_grids_event(gdb, tree, ctx_for):
    boss = ctx_for(gdb, actor(tree.street))
    ev = svc.report_event(boss, area_id=tree.g21.id, category_id=_cat(boss).id, title="占道经营")
    svc.transition(boss, ev.id, "register", "立案")
    svc.transition(boss, ev.id, "dispatch", assignee="城管中队")
    boss.session.commit()
    worker = ctx_for(gdb, actor(tree.g11, codes=ROLES["worker"]))
    with pytest.raises(OutOfScope):
        svc.transition(worker, ev.id, "handle", "已处理")
    with pytest.raises(OutOfScope):
        svc.report_event(worker, area_id=tree.g21.id, category_id=_cat(worker).id, title="x")
    with pytest.raises(OutOfScope):
        svc.timeline(worker, ev.id)
    assert svc.list_events(worker) == []


def test_dispatch_needs_assignee_and_dispute_fields(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=_cat(ctx, "矛盾纠纷").id, title="邻里漏水纠纷",
                          party_count=2, main_parties="王某、刘某")
    svc.transition(ctx, ev.id, "register", "立案")
    assert ev.deadline == calendar.add_working_days(ctx.session, date(2025, 6, 16), 10).day
    with pytest.raises(ValidationError) as e:
        svc.transition(ctx, ev.id, "dispatch", "派遣")
    assert e.value.field == "department_id" and "请选择派遣对象" in e.value.message
    svc.transition(ctx, ev.id, "dispatch", assignee="人民调解委员会")
    with pytest.raises(ValidationError) as e:
        svc.transition(ctx, ev.id, "handle", "调解", mediation_result="搁置")
    assert e.value.field == "mediation_result"
    svc.transition(ctx, ev.id, "handle", "双方达成协议", mediation_method="人民调解", mediation_result="成功")
    assert (ev.mediation_method, ev.mediation_result) == ("人民调解", "成功")


def test_escalate_overdue_and_inbox(stree, grid_sqlite, ctx_for):
    boss = ctx_for(grid_sqlite, actor(stree.street))
    ev = svc.report_event(boss, area_id=stree.g11.id, category_id=_cat(boss).id, title="高空坠物隐患")
    svc.transition(boss, ev.id, "register", "立案")
    svc.transition(boss, ev.id, "dispatch", assignee="物业")
    boss.session.commit()
    assert ev.deadline == date(2025, 6, 19)
    assert svc.overdue_events(boss, on=date(2025, 6, 19)) == []
    assert [e.id for e in svc.overdue_events(boss, on=date(2025, 6, 20))] == [ev.id]
    svc.transition(boss, ev.id, "escalate", "逾期未处置，请于明日前完成")
    assert ev.escalations == 1 and ev.status == "dispatched"
    later = ctx_for(grid_sqlite, actor(stree.street), now=FIXED_NOW + timedelta(days=5))
    assert [e.id for e in svc.overdue_events(later)] == [ev.id]
    handler = ctx_for(grid_sqlite, actor(stree.g11, codes=ROLES["worker"]))
    assert [e.id for e in svc.inbox(handler)] == [ev.id]
    reporter = ctx_for(grid_sqlite, actor(stree.g11, codes={"grid.view", "grid.event.report"}))
    assert svc.inbox(reporter) == []


def test_second_desktop_gets_conflict(gdb, tree, ctx_for):
    boss = ctx_for(gdb, actor(tree.street))
    ev = svc.report_event(boss, area_id=tree.g11.id, category_id=_cat(boss).id, title="窨井盖破损")
    boss.session.commit()
    seen = ev.version_id
    a = ctx_for(gdb, actor(tree.street, name="甲"))
    b = ctx_for(gdb, actor(tree.street, name="乙"))
    svc.transition(a, ev.id, "register", "甲立案", expected_version=seen)
    a.session.commit()
    with pytest.raises(ConflictError) as e:
        svc.transition(b, ev.id, "reject", "乙认为不属实", expected_version=seen)
    assert "甲" in e.value.message
    b.session.rollback()
    assert b.session.get(Event, ev.id).status == "registered"


def test_concurrent_flush_race_is_a_conflict(gdb, tree, ctx_for):
    """Both desktops loaded the event before either saved (no expected_version passed): the
    version-guarded UPDATE of the second matches no row."""
    boss = ctx_for(gdb, actor(tree.street))
    ev = svc.report_event(boss, area_id=tree.g11.id, category_id=_cat(boss).id, title="违停")
    boss.session.commit()
    a = ctx_for(gdb, actor(tree.street, name="甲"))
    b = ctx_for(gdb, actor(tree.street, name="乙"))
    loaded_a = a.session.get(Event, ev.id)   # keep references: the identity map is weak
    loaded_b = b.session.get(Event, ev.id)
    svc.transition(a, ev.id, "register", "甲立案")
    a.session.commit()
    with pytest.raises(ConflictError):
        svc.transition(b, ev.id, "register", "乙立案")
    assert loaded_a.status == "registered" and loaded_b is not None


# --- indicators ----------------------------------------------------------------------------------
def _bulk_events(db, area_id, cat_id, n, start, closed=0, on_time=0, prefix="B"):
    """Insert ``n`` events registered at ``start``: ``closed`` of them closed, ``on_time`` within deadline."""
    rows = []
    for i in range(n):
        is_closed = i < closed
        late = is_closed and i >= on_time
        rows.append(dict(area_id=area_id, number=f"{prefix}{i:05d}", category_id=cat_id, title="测试", description="",
                         source="测试", reporter_name="", status="closed" if is_closed else "dispatched",
                         reported_at=start, registered_at=start, deadline=(start + timedelta(days=3)).date(),
                         closed_at=(start + timedelta(days=10 if late else 1)) if is_closed else None,
                         escalations=0, version_id=1, created_at=start, updated_at=start))
    with db.session_factory() as s:
        s.execute(insert(Event), rows)
        s.commit()


def test_indicators_city_example(gdb, tree, ctx_for):
    """DOMAIN.md: 911 / 972 closed = 93.72 %, 737 / 972 on time = 75.82 %."""
    ctx = ctx_for(gdb, actor(tree.street))
    cat = _cat(ctx)
    ctx.session.commit()
    start = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
    _bulk_events(gdb, tree.g11.id, cat.id, 500, start, closed=470, on_time=380, prefix="A")
    _bulk_events(gdb, tree.g22.id, cat.id, 472, start, closed=441, on_time=357, prefix="B")
    # outside the period / area: must not count
    _bulk_events(gdb, tree.g11.id, cat.id, 7, start + timedelta(days=40), closed=1, on_time=0, prefix="C")
    ind = svc.indicators(ctx, date(2025, 3, 1), date(2025, 3, 31))
    assert (ind.due, ind.closed, ind.on_time) == (972, 911, 737)
    assert svc.Indicators.percent(ind.closure_rate) == "93.72%"
    assert svc.Indicators.percent(ind.on_time_rate) == "75.82%"
    only_c1 = svc.indicators(ctx, date(2025, 3, 1), date(2025, 3, 31), area_id=tree.c1.id)
    assert (only_c1.due, only_c1.closed, only_c1.on_time) == (500, 470, 380)
    worker = ctx_for(gdb, actor(tree.g22))
    assert svc.indicators(worker, date(2025, 3, 1), date(2025, 3, 31)).due == 472


def test_indicators_hand_computed_times(stree, grid_sqlite, ctx_for):
    t0 = datetime(2025, 6, 16, 1, 0, tzinfo=UTC)
    clock = {"now": t0}
    ctx = ctx_for(grid_sqlite, actor(stree.street), now=lambda: clock["now"])
    cat = _cat(ctx)
    durations = [2, 4, 9]   # hours from report to close
    for h in durations:
        clock["now"] = t0
        ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title=f"{h}小时事件")
        for a in ("register", "dispatch", "handle", "verify"):
            svc.transition(ctx, ev.id, a, "意见", assignee="物业")
        clock["now"] = t0 + timedelta(hours=h)
        svc.transition(ctx, ev.id, "close", "结案")
    clock["now"] = t0
    open_ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title="未结")
    svc.transition(ctx, open_ev.id, "register", "立案")
    rej = svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title="不予立案")
    svc.transition(ctx, rej.id, "reject", "不属实")
    ind = svc.indicators(ctx, date(2025, 6, 1), date(2025, 6, 30))
    assert (ind.due, ind.closed, ind.on_time) == (4, 3, 3)
    assert ind.mean_hours == pytest.approx(5.0) and ind.median_hours == pytest.approx(4.0)
    assert svc.Indicators.percent(ind.closure_rate) == "75.00%"
    assert svc.indicators(ctx, date(2025, 7, 1), date(2025, 7, 31)).closure_rate is None
    with pytest.raises(ValidationError):
        svc.indicators(ctx, date(2025, 7, 1), date(2025, 6, 1))


def test_event_number_race_retries(gdb, tree, ctx_for, monkeypatch):
    ctx = ctx_for(gdb, actor(tree.street))
    first = svc.report_event(ctx, area_id=tree.g11.id, category_id=_cat(ctx).id, title="一")
    ctx.session.commit()
    real = svc.events._next_number
    calls = []

    def stale(c):          # the first call answers as if the other desktop's row were not there yet
        calls.append(1)
        return first.number if len(calls) == 1 else real(c)

    monkeypatch.setattr(svc.events, "_next_number", stale)
    second = svc.report_event(ctx, area_id=tree.g11.id, category_id=_cat(ctx).id, title="二")
    ctx.session.commit()
    assert (first.number, second.number) == ("SJ20250616-0001", "SJ20250616-0002") and len(calls) == 2
    assert [s.action for s in svc.timeline(ctx, second.id)] == ["report"]


def test_callback_after_close(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=_cat(ctx).id, title="路面坑洼")
    with pytest.raises(ValidationError, match="结案后才能回访"):
        svc.record_callback(ctx, ev.id, "满意")
    for a in PATH["closed"]:
        svc.transition(ctx, ev.id, a, "意见", assignee="市政")
    with pytest.raises(ValidationError) as e:
        svc.record_callback(ctx, ev.id, "还行")
    assert e.value.field == "satisfaction"
    svc.record_callback(ctx, ev.id, "基本满意", "修补及时，但施工噪音较大")
    assert ev.satisfaction == "基本满意" and ev.status == "closed"
    last = svc.timeline(ctx, ev.id)[-1]
    assert (last.action, last.comment) == ("callback", "回访：基本满意。修补及时，但施工噪音较大")
    assert svc.STEP_LABELS[last.action] == "回访"
    worker = ctx_for(grid_sqlite, actor(stree.g11, codes=ROLES["worker"]))
    with pytest.raises(PermissionDenied):
        svc.record_callback(worker, ev.id, "满意")


def test_indicator_table_by_community_grid_category_month(stree, grid_sqlite, ctx_for):
    t0 = datetime(2025, 5, 30, 2, 0, tzinfo=UTC)
    clock = {"now": t0}
    ctx = ctx_for(grid_sqlite, actor(stree.street), now=lambda: clock["now"])
    cats = {c.name: c for c in svc.list_categories(ctx)}

    def event(area, cat, when, close_after_days=None):
        clock["now"] = when
        ev = svc.report_event(ctx, area_id=area.id, category_id=cats[cat].id, title="x")
        svc.transition(ctx, ev.id, "register", "立案")
        if close_after_days is not None:
            for a in ("dispatch", "handle", "verify"):
                svc.transition(ctx, ev.id, a, "意见", assignee="物业")
            clock["now"] = when + timedelta(days=close_after_days)
            svc.transition(ctx, ev.id, "close", "结案")

    may, june = t0, t0 + timedelta(days=10)
    event(stree.g11, "安全隐患", may, 1)       # on time (3 working days)
    event(stree.g11, "安全隐患", june, 30)     # late
    event(stree.g12, "民生诉求", june)          # open
    event(stree.g21, "民生诉求", june, 1)      # on time
    start, end = date(2025, 5, 1), date(2025, 6, 30)
    by_comm = {k: (i.due, i.closed, i.on_time) for k, i in svc.indicator_table(ctx, start, end, "community")}
    assert by_comm == {"和平里社区": (3, 2, 1), "幸福苑社区": (1, 1, 1)}
    by_grid = {k: (i.due, i.closed) for k, i in svc.indicator_table(ctx, start, end, "grid")}
    assert by_grid == {"和平里社区第一网格": (2, 2), "和平里社区第二网格": (1, 0), "幸福苑社区第一网格": (1, 1)}
    by_cat = {k: i.percent(i.closure_rate) for k, i in svc.indicator_table(ctx, start, end, "category")}
    assert by_cat == {"安全隐患": "100.00%", "民生诉求": "50.00%"}
    by_month = {k: i.due for k, i in svc.indicator_table(ctx, start, end, "month")}
    assert by_month == {"2025年5月": 1, "2025年6月": 3}
    assert [k for k, _ in svc.indicator_table(ctx, start, end, "grid", area_id=stree.c2.id)] == ["幸福苑社区第一网格"]
    with pytest.raises(ValidationError):
        svc.indicator_table(ctx, start, end, "weekday")


def test_due_soon(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))     # Monday 2025-06-16
    ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=_cat(ctx).id, title="积水")
    svc.transition(ctx, ev.id, "register", "立案")     # deadline Thursday 06-19
    assert svc.due_soon_events(ctx, 2) == []
    assert [e.id for e in svc.due_soon_events(ctx, 3)] == [ev.id]
    thursday = ctx_for(grid_sqlite, actor(stree.street), now=FIXED_NOW + timedelta(days=3))
    ctx.session.commit()
    assert [e.id for e in svc.due_soon_events(thursday, 1)] == [ev.id]


def test_search_text_is_not_a_pattern(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    svc.register_person(ctx, area_id=stree.g11.id, name="张三", id_number=make_id(seq=601))
    assert svc.list_persons(ctx, "%") == [] and svc.list_persons(ctx, "_") == []
    assert [p.name for p in svc.list_persons(ctx, "张")] == ["张三"]


def test_monthly_counts_by_shanghai_month_and_scope(stree, grid_sqlite, ctx_for):
    """The dashboard chart's figures: reported and closed per month, months in Shanghai time."""
    clock = {"now": datetime(2025, 1, 31, 17, 0, tzinfo=UTC)}   # 2025-02-01 01:00 in Shanghai
    ctx = ctx_for(grid_sqlite, actor(stree.street), now=lambda: clock["now"])
    cat = _cat(ctx)
    ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title="二月初上报")
    for a in ("register", "dispatch", "handle", "verify"):
        svc.transition(ctx, ev.id, a, "意见", assignee="物业")
    clock["now"] = datetime(2025, 3, 31, 15, 59, tzinfo=UTC)    # 2025-03-31 23:59 in Shanghai
    svc.transition(ctx, ev.id, "close", "结案")
    clock["now"] = datetime(2024, 12, 30, 2, 0, tzinfo=UTC)     # the year before: not counted
    svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title="去年")
    clock["now"] = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    svc.report_event(ctx, area_id=stree.g21.id, category_id=cat.id, title="别的社区")
    ctx.session.commit()
    rows = svc.monthly_counts(ctx, 2025)
    assert len(rows) == 12
    assert [(m, r, c) for m, r, c in rows if r or c] == [(2, 1, 0), (3, 1, 1)]
    worker = ctx_for(grid_sqlite, actor(stree.g11))
    assert [(m, r, c) for m, r, c in svc.monthly_counts(worker, 2025) if r or c] == [(2, 1, 0), (3, 0, 1)]
    assert [(m, r, c) for m, r, c in svc.monthly_counts(ctx, 2024) if r or c] == [(12, 1, 0)]


# --- deadlines into a year without holiday calendar (issue 14.3) -------------------------------------
WARNING_2027 = "2027 年节假日安排尚未录入，期限按周末计算，请管理员录入"


def test_deadline_into_a_year_without_calendar_warns_then_skips_new_year(gdb, tree, ctx_for):
    wednesday = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)      # 10:00 in Shanghai
    ctx = ctx_for(gdb, actor(tree.street), now=wednesday)
    cat = _cat(ctx)                                                      # 安全隐患: 3 working days
    ev = svc.report_event(ctx, area_id=tree.g11.id, category_id=cat.id, title="燃气管道老化")
    ev = svc.transition(ctx, ev.id, "register", "立案")
    # 31 Dec, 1 Jan (a Friday, counted by the weekend rule), Monday 4 Jan — and the result says so
    assert ev.deadline == date(2027, 1, 4) and ev.deadline_warning == WARNING_2027
    assert svc.deadline_warning(ctx, ev.id) == WARNING_2027
    ctx.session.commit()
    admin = ctx_for(gdb, actor(superuser=True, name="管理员"), now=wednesday + timedelta(hours=3))
    calendar.set_day(admin, date(2027, 1, 1), "休", "元旦")
    admin.session.commit()
    # the first event's deadline was counted before 2027 was entered: it says so, and what it is now
    look = ctx_for(gdb, actor(tree.street), now=wednesday)
    assert svc.deadline_warning(look, ev.id) == ("处置时限立案时按周末计算（2027 年节假日安排当时尚未录入），"
                                                 "按现行节假日安排应为 2027-01-05")
    ctx = ctx_for(gdb, actor(tree.street), now=wednesday)
    later = svc.transition(ctx, svc.report_event(ctx, area_id=tree.g11.id, category_id=cat.id, title="楼道堆物").id,
                           "register", "立案")
    assert later.deadline == date(2027, 1, 5) and later.deadline_warning == ""     # 1 January skipped
    assert svc.deadline_warning(ctx, later.id) == ""
    ctx.session.commit()
    assert [e.id for e in svc.due_soon_events(ctx_for(gdb, actor(tree.street), now=wednesday), 3)] == [ev.id, later.id]


def test_hook_calendar_changed(gdb, tree, ctx_for, tmp_path):
    """Entering 1 January 2027 as a holiday, with the plugin manager (the 节假日安排 page, the CLI),
    counts the open events' deadlines over it again: saved, audited, on the timeline, and said; a
    closed event and one registered after the day keep theirs."""
    from openpyxl import Workbook
    from sqlalchemy import select

    from plugins.grid.models import EventStep
    from shell.core.models import AuditLog
    from shell.plugins import make_plugin_manager

    pm = make_plugin_manager(builtins=["plugins.grid"], entry_points=False)
    wednesday = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
    ctx = ctx_for(gdb, actor(tree.street), now=wednesday)
    cat = _cat(ctx)                                                      # 3 working days
    open_ev = svc.transition(ctx, svc.report_event(ctx, area_id=tree.g11.id, category_id=cat.id, title="在办").id,
                             "register", "立案")
    done = svc.transition(ctx, svc.report_event(ctx, area_id=tree.g12.id, category_id=cat.id, title="已结").id,
                          "register", "立案")
    for a in ("dispatch", "handle", "verify", "close"):
        done = svc.transition(ctx, done.id, a, "意见", assignee="物业")
    ctx.session.commit()
    assert open_ev.deadline == done.deadline == date(2027, 1, 4)
    after = ctx_for(gdb, actor(tree.street), now=datetime(2027, 1, 2, 2, 0, tzinfo=UTC))
    late = svc.transition(after, svc.report_event(after, area_id=tree.g11.id, category_id=cat.id, title="节后").id,
                          "register", "立案")
    after.session.commit()
    late_deadline = late.deadline

    wb = Workbook()
    ws = wb.active
    ws.append(["日期", "休/班", "名称"])
    ws.append([date(2027, 1, 1), "休", "元旦"])
    wb.save(tmp_path / "2027.xlsx")
    admin = ctx_for(gdb, actor(superuser=True, name="管理员"), now=wednesday + timedelta(hours=3))
    result = calendar.import_year(admin, tmp_path / "2027.xlsx", pm=pm)
    admin.session.commit()
    assert result.ok and result.recounted == ["已按新的节假日安排重算 1 件在办事件的处置时限（见各事件的办理过程）。"]

    look = ctx_for(gdb, actor(tree.street), now=wednesday)
    assert look.session.get(Event, open_ev.id).deadline == date(2027, 1, 5)
    assert look.session.get(Event, done.id).deadline == date(2027, 1, 4)         # closed: judged on its day
    assert look.session.get(Event, late.id).deadline == late_deadline            # counted after the day
    step = look.session.scalar(select(EventStep).where(EventStep.event_id == open_ev.id, EventStep.action == "recount"))
    assert step.comment == "节假日安排变更，处置时限由 2027-01-04 重算为 2027-01-05"
    assert svc.deadline_warning(look, open_ev.id) == ""                          # the deadline stands now
    audited = look.session.scalars(select(AuditLog).where(AuditLog.entity == "grid_events",
                                                          AuditLog.entity_id == str(open_ev.id),
                                                          AuditLog.action == "update")).all()
    assert any(a.after.get("deadline") == "2027-01-05" for a in audited)
    # Taking the holiday out again counts back; without the plugin manager nothing is recounted.
    assert calendar.clear_day(admin, date(2027, 1, 1), pm=pm) == [
        "已按新的节假日安排重算 1 件在办事件的处置时限（见各事件的办理过程）。"]
    admin.session.commit()
    assert calendar.set_day(admin, date(2027, 1, 1), "休", "元旦").recounted == ()
    admin.session.commit()
    assert ctx_for(gdb, actor(tree.street)).session.get(Event, open_ev.id).deadline == date(2027, 1, 4)
