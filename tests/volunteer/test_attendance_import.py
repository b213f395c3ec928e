"""The 志愿活动签到表 importer (bulk attendance sheet), through shell.core.transfer.run_import on both
engines: every row validated first with Chinese row-level errors, nothing written when any row is bad,
the valid subset only when accepted, walk-ins enrolled, hours capped and waiting for approval."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from plugins.volunteer import services as sv
from plugins.volunteer.models import Attendance, HoursEntry
from shell.core.context import Actor, ServiceContext
from shell.core.transfer import run_import
from shell.errors import PermissionDenied
from shell.plugins import call_each

from .conftest import T0, actor_for, id_number, make_pm


def _definition():
    (_n, d), = [x for x in call_each(make_pm(), "register_importers") if x[1].kind == "volunteer-attendance"]
    return d


def _sheet(path, rows, header=("活动编号", "志愿者编号", "姓名", "签到时间", "签退时间")):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture
def setup(vdb, areas, clock):
    (_, _), (c1, p1), (c2, _p2) = areas
    with vdb.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), clock)
        vols = [sv.register_volunteer(ctx, name=n, id_number=id_number(seq=150 + i), area_id=c1)
                for i, n in enumerate(("赵敏", "钱多多", "孙立"))]
        stopped = sv.register_volunteer(ctx, name="周停", id_number=id_number(seq=160), area_id=c1)
        sv.set_active(ctx, stopped.id, False, "迁出")
        other = sv.register_volunteer(ctx, name="吴外", id_number=id_number(seq=161), area_id=c2)
        a = sv.create_activity(ctx, name="敬老院陪伴", area_id=c1, starts_at=T0, ends_at=T0 + timedelta(hours=3),
                               cap_minutes=120, points_per_hour=1, capacity=10)
        closed = sv.create_activity(ctx, name="往期活动", area_id=c1, starts_at=T0 - timedelta(days=7),
                                    ends_at=T0 - timedelta(days=7) + timedelta(hours=2))
        sv.close_activity(ctx, closed.id)
        sv.enrol(ctx, a.id, vols[0].id)
        sv.enrol(ctx, a.id, vols[2].id)
        sv.sign_in(ctx, a.id, vols[2].id, T0)               # already signed in at the desk
        s.commit()
        return dict(db=vdb, p1=p1, c1=c1, activity=a.id, closed=closed.id,
                    numbers={v.name: v.number for v in (*vols, stopped, other)},
                    ids={v.name: v.id for v in (*vols, stopped, other)})


def test_clean_sheet_is_recorded_with_caps_and_walk_ins(setup, tmp_path):
    db, n, aid = setup["db"], setup["numbers"], setup["activity"]
    path = _sheet(tmp_path / "sheet.xlsx", [
        [aid, n["赵敏"], "赵敏", datetime(2026, 5, 10, 8, 55), "2026-05-10 12:05"],   # capped at 2 h
        [aid, n["钱多多"].lower(), "", "09:10", "10:40"],           # walk-in, times on the activity's day
        [None, None, None, None, None],                           # blank rows are skipped
    ])
    result = run_import(db.session_factory, Actor.system(), _definition(), path)
    assert result.ok and (result.total_rows, result.valid_rows, result.written) == (2, 2, 2)
    with db.session_factory() as s:
        zm = s.scalar(select(Attendance).where(Attendance.activity_id == aid,
                                               Attendance.volunteer_id == setup["ids"]["赵敏"]))
        qd = s.scalar(select(Attendance).where(Attendance.activity_id == aid,
                                               Attendance.volunteer_id == setup["ids"]["钱多多"]))
        assert (zm.status, zm.raw_minutes, zm.minutes) == ("signed_out", 190, 120)
        assert (qd.status, qd.minutes) == ("signed_out", 90)
        assert qd.signed_in_at == T0 + timedelta(minutes=10)            # 09:10 Shanghai = 01:10 UTC
        assert s.scalar(select(func.count()).select_from(HoursEntry)) == 0   # waits for approval
        ctx = ServiceContext(s, Actor.system())
        assert {a.id for a, _v, _x in sv.pending_approvals(ctx, aid)} == {zm.id, qd.id}


def test_any_bad_row_writes_nothing_and_names_every_problem(setup, tmp_path):
    db, n, aid = setup["db"], setup["numbers"], setup["activity"]
    rows = [
        [aid, n["赵敏"], "赵敏", "2026-05-10 09:00", "2026-05-10 11:00"],    # 2: good
        ["abc", n["钱多多"], "", "09:00", "10:00"],                           # 3: activity id not a number
        [9999, n["钱多多"], "", "09:00", "10:00"],                            # 4: no such activity
        [setup["closed"], n["钱多多"], "", "09:00", "10:00"],                 # 5: closed
        [aid, "ZY9999999", "", "09:00", "10:00"],                           # 6: no such volunteer
        [aid, n["周停"], "", "09:00", "10:00"],                              # 7: inactive
        [aid, n["钱多多"], "李四", "09:00", "10:00"],                         # 8: name does not match
        [aid, n["孙立"], "", "09:00", "10:00"],                              # 9: already signed in
        [aid, n["赵敏"], "", "09:00", "10:00"],                              # 10: duplicate of row 2
        [aid, n["钱多多"], "", "10:00", "09:30"],                             # 11: out before in
        [aid, n["钱多多"], "", "九点", "10:00"],                               # 12: bad time
        [aid, n["吴外"], "", "09:00", "10:00"],                              # 13: out of scope for the limited user
    ]
    path = _sheet(tmp_path / "bad.xlsx", rows)
    limited = actor_for(setup["p1"], "volunteer.view", "volunteer.activity")
    result = run_import(db.session_factory, limited, _definition(), path)
    got = {(e.row, e.column): e.reason for e in result.errors}
    assert (result.total_rows, result.valid_rows, result.written) == (12, 1, 0)
    assert got[(3, "活动编号")].startswith("应为活动编号")
    assert got[(4, "活动编号")].startswith("没有这个活动")
    assert got[(5, "活动编号")] == "活动“往期活动”已结束，不能再签到。"
    assert got[(6, "志愿者编号")].startswith("没有这个志愿者")
    assert got[(7, "志愿者编号")] == "志愿者“周停”已停用，不能签到。"
    assert got[(8, "姓名")] == f"与志愿者编号不符（{n['钱多多']} 是“钱多多”）"
    assert got[(9, "志愿者编号")] == "“孙立”在该活动已签到，不能重复签到。"
    assert got[(10, "志愿者编号")] == "与第 2 行重复（同一活动同一志愿者）"
    assert got[(11, "签退时间")] == "钱多多的签退时间 09:30 应晚于签到时间 10:00。"
    assert got[(12, "签到时间")] == "签到时间“九点”不是时间，请写成 2026-05-10 09:00 或 09:00。"
    assert got[(13, "志愿者编号")].startswith("没有这个志愿者（或不在您的管辖范围内）")
    with db.session_factory() as s:
        zm = s.scalar(select(Attendance).where(Attendance.activity_id == aid,
                                               Attendance.volunteer_id == setup["ids"]["赵敏"]))
        assert zm.status == "enrolled"                                   # all or nothing

    # The user accepts the valid subset: only row 2 is written.
    result = run_import(db.session_factory, limited, _definition(), path, valid_only=True)
    assert result.written == 1
    with db.session_factory() as s:
        statuses = dict(s.execute(select(Attendance.volunteer_id, Attendance.status)
                                  .where(Attendance.activity_id == aid)).all())
        assert statuses == {setup["ids"]["赵敏"]: "signed_out", setup["ids"]["孙立"]: "signed_in"}


def test_capacity_header_and_permission(setup, tmp_path):
    db, n, aid = setup["db"], setup["numbers"], setup["activity"]
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        sv.update_activity(ctx, aid, capacity=2)
        s.commit()
    path = _sheet(tmp_path / "full.xlsx", [[aid, n["钱多多"], "", "09:00", "10:00"]])
    result = run_import(db.session_factory, Actor.system(), _definition(), path)
    assert [e.reason for e in result.errors] == ["活动“敬老院陪伴”已报满（2 人）。"]
    no_times = run_import(db.session_factory, Actor.system(), _definition(),
                          _sheet(tmp_path / "h.xlsx", [], header=("活动编号", "志愿者编号")))
    assert [(e.row, e.column, e.reason) for e in no_times.errors] == [
        (1, "签到时间", "缺少必填列“签到时间”"), (1, "签退时间", "缺少必填列“签退时间”")]
    with pytest.raises(PermissionDenied):
        run_import(db.session_factory, actor_for(setup["p1"], "volunteer.view"), _definition(), path)
    template = tmp_path / "t.xlsx"
    _definition().template_fn(template)
    from openpyxl import load_workbook

    # required columns marked with *, which the importer reads past
    assert [c.value for c in load_workbook(template).active[1]] == ["活动编号*", "志愿者编号*", "姓名", "签到时间*", "签退时间*"]


def test_sheet_times_follow_the_counter_rules(setup, tmp_path):
    """The sheet is held to the sign-out rules of the counter (services.time_problems): not after the
    clock, out after in, within volunteer.signout_margin_minutes (60) of 09:00–12:00; each error names
    the row, the column, the value and the volunteer."""
    db, n, aid = setup["db"], setup["numbers"], setup["activity"]
    path = _sheet(tmp_path / "times.xlsx", [
        [aid, n["赵敏"], "", "09:00", "2099-05-10 11:00"],     # 2: in the future
        [aid, n["钱多多"], "", "09:00", "13:01"],              # 3: 61 minutes after the end
        [None] * 5,                                             # 4: blank
        [aid, n["钱多多"], "", "07:59", "10:00"],              # 5: 61 minutes before the start
    ])
    result = run_import(db.session_factory, Actor.system(), _definition(), path)
    got = {(e.row, e.column): (e.value, e.reason) for e in result.errors}
    assert (result.total_rows, result.valid_rows, result.written) == (3, 0, 0)
    assert got[(2, "签退时间")][0] == "2099-05-10 11:00"
    assert got[(2, "签退时间")][1].startswith("赵敏的签退时间 2099-05-10 11:00 晚于当前时间")
    assert got[(3, "签退时间")] == ("13:01", "钱多多的签退时间 13:01 晚于活动结束时间 12:00 超过 60 分钟："
                                           "请核对签退时间；确实延长了服务的，请先修改活动的结束时间。")
    assert got[(5, "签到时间")][1].startswith("钱多多的签到时间 07:59 早于活动开始时间 09:00 超过 60 分钟")
    # exactly at the margin is accepted
    ok = _sheet(tmp_path / "ok.xlsx", [[aid, n["钱多多"], "", "08:00", "13:00"]])
    assert run_import(db.session_factory, Actor.system(), _definition(), ok).written == 1
