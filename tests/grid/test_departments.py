"""部门与单位: the directory (validation, permission, optimistic locking, audit), 派遣 to an entry with
its default deadline in working days, the department's worklist, the statistics by department, and
g0006 turning an existing database's free-text 派遣对象 into directory entries — on both engines."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from plugins.grid import services as svc
from plugins.grid.models import Department, Event, EventStep
from shell.core import calendar
from shell.core.models import AuditLog
from shell.errors import ConflictError, OutOfScope, PermissionDenied, ValidationError

from .conftest import ALL, FIXED_NOW, actor

COMMUNITY = {"grid.view", "grid.event.report", "grid.event.register", "grid.event.dispatch", "grid.event.verify",
             "grid.event.close", "grid.event.handle"}


def _cat(ctx, name="安全隐患"):
    return next(c for c in svc.list_categories(ctx) if c.name == name)


def test_directory_entries_validated_and_audited(gdb, tree, ctx_for):
    boss = ctx_for(gdb, actor(tree.street, name="王街道"))
    row = svc.save_department(boss, " 城管执法中队 ", "职能部门", "刘队长", "010-64123456", 3)
    boss.session.commit()
    assert (row.name, row.kind, row.contact, row.phone, row.deadline_days, row.active) == (
        "城管执法中队", "职能部门", "刘队长", "010-64123456", 3, True)
    for kwargs, field in ((dict(name=""), "name"), (dict(name="城管执法中队"), "name"),
                          (dict(name="供电所", kind="机关"), "kind"), (dict(name="供电所", phone="12ab"), "phone"),
                          (dict(name="供电所", deadline_days=400), "deadline_days"),
                          (dict(name="供电所", deadline_days=-1), "deadline_days")):
        with pytest.raises(ValidationError) as e:
            svc.save_department(boss, **kwargs)
        assert e.value.field == field, kwargs
        boss.session.rollback()
    with pytest.raises(ValidationError, match="目录中已有“城管执法中队”"):
        svc.save_department(boss, "城管执法中队")
    boss.session.rollback()
    entry = boss.session.scalar(select(AuditLog).where(AuditLog.entity == "grid_departments",
                                                       AuditLog.action == "insert"))
    assert entry is not None and entry.after["name"] == "城管执法中队" and entry.actor_name == "王街道"
    # a community worker may read the directory but not change it
    comm = ctx_for(gdb, actor(tree.c1, codes=COMMUNITY))
    assert [r.name for r in svc.department_rows(comm)] == ["城管执法中队"]
    with pytest.raises(PermissionDenied) as e:
        svc.save_department(comm, "供电所")
    assert e.value.code == "grid.department.manage"
    # 停用: kept for old events, not offered any more; a stale screen is refused
    svc.save_department(boss, "城管执法中队", "职能部门", "刘队长", None, 3, active=False, department_id=row.id,
                        expected_version=row.version_id)
    boss.session.commit()
    assert svc.department_rows(comm) == [] and len(svc.department_rows(comm, include_inactive=True)) == 1
    with pytest.raises(ConflictError):
        svc.save_department(boss, "城管中队", department_id=row.id, expected_version=row.version_id)


def test_dispatch_to_a_department_with_its_deadline(gdb, tree, ctx_for):
    boss = ctx_for(gdb, actor(tree.street))
    police = svc.save_department(boss, "派出所", "驻区单位", "赵警官", "010-64012345", 2)
    housing = svc.save_department(boss, "房管所", "职能部门")
    gone = svc.save_department(boss, "旧单位", "其他", active=False)
    boss.session.commit()
    comm = ctx_for(gdb, actor(tree.c1, codes=COMMUNITY, name="李社区"))
    ev = svc.report_event(comm, area_id=tree.g11.id, category_id=_cat(comm, "民生诉求").id, title="夜间噪音扰民")
    svc.transition(comm, ev.id, "register", "立案")
    assert ev.deadline == date(2025, 6, 23)                                 # 民生诉求: 5 working days from Monday
    # the dialog's default: the department's 2 working days from today (Monday 2025-06-16)
    default = svc.dispatch_deadline(comm, ev.id, police.id)
    assert (default.days, default.day) == (2, date(2025, 6, 18))
    assert svc.dispatch_deadline(comm, ev.id, housing.id).day == date(2025, 6, 23)   # no default: 立案's stands
    comm.session.commit()
    other_community = ctx_for(gdb, actor(tree.c2, codes=COMMUNITY))
    with pytest.raises(OutOfScope):
        svc.dispatch_deadline(other_community, ev.id, police.id)
    with pytest.raises(ValidationError) as e:
        svc.transition(comm, ev.id, "dispatch", department_id=gone.id)
    assert e.value.field == "department_id" and "已停用" in e.value.message
    with pytest.raises(ValidationError) as e:
        svc.transition(comm, ev.id, "dispatch")
    assert e.value.field == "department_id"
    svc.transition(comm, ev.id, "dispatch", department_id=police.id)
    comm.session.commit()
    assert (ev.assignee, ev.department_id, ev.deadline, ev.dispatched_on, ev.dispatch_days) == (
        "派出所", police.id, date(2025, 6, 18), date(2025, 6, 16), 2)
    step = svc.timeline(comm, ev.id)[-1]
    assert (step.action, step.department_id, step.comment) == ("dispatch", police.id, "派遣至派出所")
    # 退回 by the department: the case leaves it; re-dispatched with a count of the dispatcher's own
    svc.transition(comm, ev.id, "send_back", "不属于派出所职责")
    assert ev.department_id is None and ev.assignee is None
    assert svc.timeline(comm, ev.id)[-1].department_id == police.id
    svc.transition(comm, ev.id, "dispatch", department_id=housing.id, deadline_days=4)
    assert (ev.assignee, ev.deadline) == ("房管所", date(2025, 6, 20))
    # the worklist of a department: only its cases
    other = svc.report_event(comm, area_id=tree.g11.id, category_id=_cat(comm).id, title="别的事件")
    comm.session.commit()
    listing = svc.events_listing(comm, "", department_id=housing.id)
    assert [e.id for e in comm.session.scalars(listing.query)] == [ev.id]
    assert other.id in [e.id for e in comm.session.scalars(svc.events_listing(comm, "").query)]
    with pytest.raises(ValidationError):
        svc.events_listing(comm, "", department_id=99999)
    # the old way, a bare name, lands on the directory entry when there is one
    third = svc.report_event(comm, area_id=tree.g11.id, category_id=_cat(comm).id, title="第三件")
    svc.transition(comm, third.id, "register", "立案")
    svc.transition(comm, third.id, "dispatch", assignee="房管所")
    assert third.department_id == housing.id


def test_a_dispatch_deadline_is_recounted_from_the_dispatch(grid_sqlite, stree, ctx_for):
    """The holiday calendar changes: a deadline set at 派遣 is counted again from that day with the
    department's working days, not from 立案 with the category's."""
    boss = ctx_for(grid_sqlite, actor(stree.street, codes=ALL | {"core.settings.manage"}))
    dep = svc.save_department(boss, "环卫所", "职能部门", deadline_days=2)
    ev = svc.report_event(boss, area_id=stree.g11.id, category_id=_cat(boss, "民生诉求").id, title="垃圾未清运")
    svc.transition(boss, ev.id, "register", "立案")
    svc.transition(boss, ev.id, "dispatch", department_id=dep.id)
    assert ev.deadline == date(2025, 6, 18)
    calendar.set_day(boss, date(2025, 6, 17), "off", "临时休假")
    assert svc.recount_deadlines(boss, [date(2025, 6, 17)]) == 1
    assert ev.deadline == date(2025, 6, 19)
    assert svc.deadline_warning(boss, ev.id) == ""


def test_statistics_by_department(gdb, tree, ctx_for):
    boss = ctx_for(gdb, actor(tree.street))
    city = svc.save_department(boss, "城管执法中队", "职能部门", deadline_days=3)
    water = svc.save_department(boss, "水务公司", "企业", deadline_days=2)
    boss.session.commit()
    monday = FIXED_NOW
    clock = {"now": monday}
    ctx = ctx_for(gdb, actor(tree.street), now=lambda: clock["now"])
    cat = _cat(ctx)

    def event(title, dep, steps):
        ev = svc.report_event(ctx, area_id=tree.g11.id, category_id=cat.id, title=title)
        for action, hours in steps:
            clock["now"] += timedelta(hours=hours)
            svc.transition(ctx, ev.id, action, "意见", department_id=dep.id if action == "dispatch" else None)
        clock["now"] = monday
        return ev

    # 城管: one handled in a day, failed at 核查 and handled again; one 督办 and still open past its deadline
    event("占道经营", city, [("register", 1), ("dispatch", 1), ("handle", 24), ("verify_fail", 2), ("handle", 5)])
    event("违章搭建", city, [("register", 1), ("dispatch", 1), ("escalate", 2)])
    # 水务: handled in two days, on time
    event("水管漏水", water, [("register", 1), ("dispatch", 1), ("handle", 48), ("verify", 1), ("close", 1)])
    ctx.session.commit()
    later = ctx_for(gdb, actor(tree.street), now=monday + timedelta(days=10))
    stats = {s.name: s for s in svc.department_stats(later, date(2025, 6, 1), date(2025, 6, 30))}
    assert set(stats) == {"城管执法中队", "水务公司"}
    c, w = stats["城管执法中队"], stats["水务公司"]
    assert (c.received, c.handled, c.returned, c.overdue, c.escalated) == (2, 1, 1, 1, 1)
    assert c.mean_days == pytest.approx(1.0) and c.mean_text == "1.0"
    assert (w.received, w.handled, w.returned, w.overdue, w.escalated) == (1, 1, 0, 0, 0)
    assert w.mean_days == pytest.approx(2.0)
    assert svc.department_stats(later, date(2025, 7, 1), date(2025, 7, 31)) == []
    # the scope: a grid worker of another community sees none of it
    outsider = ctx_for(gdb, actor(tree.g21, codes={"grid.view"}))
    assert svc.department_stats(outsider, date(2025, 6, 1), date(2025, 6, 30)) == []
    with pytest.raises(ValidationError) as e:
        svc.department_stats(later, date(2025, 6, 30), date(2025, 6, 1))
    assert e.value.field == "end"


# --- g0006 on an existing database --------------------------------------------------------------
@pytest.mark.parametrize("engine_kind", ["sqlite", "pg"])
def test_g0006_makes_a_directory_of_the_old_targets(engine_kind, tmp_path, request):
    from alembic import command

    import plugins.grid as grid_plugin
    from shell.db.engine import make_engine
    from shell.db.migrate import alembic_config, upgrade

    url = tmp_path / "old.sqlite" if engine_kind == "sqlite" else request.getfixturevalue("pg_empty_url")
    engine = make_engine(url)
    branches = [grid_plugin.register_migrations()]
    try:
        with engine.begin() as conn:          # a database of the previous release
            cfg = alembic_config(branches)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "g0005")
        t = "2025-03-05 02:00:00"
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO core_areas (id, name, level, path, sort_order, created_at, updated_at, "
                              "version_id) VALUES (1, '网格', 'grid', '/1/', 0, :t, :t, 1)"), {"t": t})
            cat = conn.execute(text("SELECT id FROM grid_event_categories ORDER BY id LIMIT 1")).scalar()

            def event(eid, status, assignee):
                conn.execute(text("INSERT INTO grid_events (id, area_id, number, category_id, title, description, "
                                  "source, reporter_name, status, reported_at, assignee, escalations, created_at, "
                                  "updated_at, version_id) VALUES (:i, 1, :n, :c, '事件', '', '网格员上报', '', :s, :t, "
                                  ":a, 0, :t, :t, 1)"), {"i": eid, "n": f"SJ-{eid}", "c": cat, "s": status, "t": t,
                                                         "a": assignee})

            def step(sid, eid, action, src, dst, comment, hour):
                conn.execute(text("INSERT INTO grid_event_steps (id, area_id, event_id, action, from_status, "
                                  "to_status, comment, actor_name, at, created_at, updated_at, version_id) VALUES "
                                  "(:i, 1, :e, :a, :f, :d, :c, '', :at, :t, :t, 1)"),
                             {"i": sid, "e": eid, "a": action, "f": src, "d": dst, "c": comment, "t": t,
                              "at": f"2025-03-05 {hour:02d}:00:00"})
            # re-dispatched: 物业 sent it back, 城管中队 handled it
            event(1, "handled", "城管中队")
            for sid, action, src, dst, comment in (
                    (1, "register", "reported", "registered", "立案"), (2, "dispatch", "registered", "dispatched", "派遣至物业"),
                    (3, "send_back", "dispatched", "registered", "不属物业"),
                    (4, "escalate", "registered", "registered", "催办"),
                    (5, "dispatch", "registered", "dispatched", "请尽快处理"),      # a comment naming nobody
                    (6, "handle", "dispatched", "handled", "已处置")):
                step(sid, 1, action, src, dst, comment, sid + 2)
            event(2, "reported", None)
            step(7, 2, "report", None, "reported", "上报", 3)
        result = upgrade(engine, branches, backup=False)
        assert result.after == {"c0005", "g0006"}
        with Session(engine) as s:
            deps = {d.name: d for d in s.scalars(select(Department))}
            assert set(deps) == {"城管中队", "物业"}
            assert all(d.active and d.kind == "职能部门" and d.deadline_days is None for d in deps.values())
            ev = s.get_one(Event, 1)
            assert (ev.assignee, ev.department_id) == ("城管中队", deps["城管中队"].id)
            assert s.get_one(Event, 2).department_id is None
            steps = {st.id: st.department_id for st in s.scalars(select(EventStep))}
        assert steps == {1: None, 2: deps["物业"].id, 3: deps["物业"].id, 4: None, 5: deps["城管中队"].id,
                         6: deps["城管中队"].id, 7: None}
        with engine.begin() as conn:          # and back
            cfg = alembic_config(branches)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "g0005")
        assert "grid_departments" not in inspect(engine).get_table_names()
        with engine.connect() as conn:         # the timelines survive the rebuild of grid_events
            assert conn.execute(text("SELECT count(*) FROM grid_event_steps")).scalar() == 7
        assert "department_id" not in {c["name"] for c in inspect(engine).get_columns("grid_events")}
    finally:
        engine.dispose()

