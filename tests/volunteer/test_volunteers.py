"""Volunteers, teams, activities, attendance, approval, reversal, stars and points rules."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from plugins.volunteer import services as sv
from plugins.volunteer.models import HoursEntry, PointsEntry, Volunteer
from shell.core import settings
from shell.core.context import ServiceContext
from shell.errors import OutOfScope, PermissionDenied, ValidationError

from .conftest import T0, actor_for, id_number


def _vol(ctx, area_id, seq=123, name="张三", phone="13800001111", **kw):
    return sv.register_volunteer(ctx, name=name, id_number=id_number(seq=seq), area_id=area_id, phone=phone, **kw)


def _set(ctx, key, value):
    from plugins.volunteer.rules import SETTING_BY_KEY

    settings.set_value(ctx, SETTING_BY_KEY[key], value)
    ctx.session.flush()


# ---------------------------------------------------------------- 1. volunteers and teams

def test_register_validates_and_derives_from_id(sctx, areas):
    c1 = areas[1][0]
    v = _vol(sctx, c1, skills="助老，应急救护、助老")
    assert v.gender == "男" and v.birth_date == date(1990, 1, 1)
    assert v.number.startswith("ZY") and v.skills == "助老、应急救护" and v.initials == "zs"
    assert sv.account(sctx, v.id) == (0, 0)
    with pytest.raises(ValidationError, match="校验位"):
        sv.register_volunteer(sctx, name="李四", id_number=id_number(seq=124)[:-1] + "9", area_id=c1)
    with pytest.raises(ValidationError, match="不能重复登记"):
        _vol(sctx, c1, name="张三丰")
    with pytest.raises(ValidationError, match="与身份证号不符"):
        _vol(sctx, c1, seq=125, gender="男")  # 125 odd → male; 126 even → female
        _vol(sctx, c1, seq=126, gender="男")
    w = _vol(sctx, c1, seq=127, number="A-001")
    with pytest.raises(ValidationError, match="已被使用"):
        _vol(sctx, c1, seq=129, number="A-001")
    with pytest.raises(ValidationError, match="联系电话"):
        sv.register_volunteer(sctx, name="王五", id_number=id_number(seq=131), area_id=c1, phone="12345")
    assert w.number == "A-001"


def test_fifteen_digit_id_is_converted(sctx, areas):
    v = sv.register_volunteer(sctx, name="老李", id_number="330102500101123", area_id=areas[1][0])
    stored = sctx.session.get(Volunteer, v.id).id_number  # the service hands back a masked view
    assert len(stored) == 18 and stored.startswith("33010219500101123")
    assert v.birth_date == date(1950, 1, 1)


def test_female_gender_check(sctx, areas):
    with pytest.raises(ValidationError, match="应为女"):
        _vol(sctx, areas[1][0], seq=126, gender="男")


def test_search_list_and_scope(sctx, vdb, areas, clock):
    (_, _), (c1, p1), (c2, p2) = areas
    a = _vol(sctx, c1, name="张三")
    b = _vol(sctx, c2, seq=125, name="李四", phone="13912345678")
    sctx.session.commit()
    names = lambda q: [v.name for v in sv.search_volunteers(sctx, q)]  # noqa: E731
    assert names("张") == ["张三"] and names("zs") == ["张三"] and names("LS") == ["李四"]
    assert names(id_number(seq=125)[-6:]) == ["李四"] and names("1391234") == ["李四"] and names(a.number) == ["张三"]
    limited = ServiceContext(vdb.session_factory(), actor_for(p1, "volunteer.view"), clock)
    assert [v.name for v in sv.list_volunteers(limited)] == ["张三"]
    with pytest.raises(OutOfScope):
        sv.get_volunteer(limited, b.id)
    with pytest.raises(PermissionDenied):
        sv.register_volunteer(limited, name="赵六", id_number=id_number(seq=133), area_id=c1)
    assert sv.count_volunteers(sctx) == 2
    limited.session.close()


def test_update_and_deactivate(sctx, areas):
    v = _vol(sctx, areas[1][0])
    sv.update_volunteer(sctx, v.id, phone="0571-87654321", skills=["理发"])
    assert v.phone == "0571-87654321" and v.skills == "理发"
    with pytest.raises(ValidationError, match="原因"):
        sv.set_active(sctx, v.id, False)
    sv.set_active(sctx, v.id, False, "迁出")
    assert not v.active
    act = sv.create_activity(sctx, name="巡逻", area_id=areas[1][0], starts_at=T0, ends_at=T0 + timedelta(hours=2))
    with pytest.raises(ValidationError, match="已停用"):
        sv.enrol(sctx, act.id, v.id)


def test_teams_and_memberships(sctx, areas):
    c1 = areas[1][0]
    v = _vol(sctx, c1)
    team = sv.create_team(sctx, name="银龄互助队", area_id=c1, leader_name="张三")
    with pytest.raises(ValidationError, match="已有名为"):
        sv.create_team(sctx, name="银龄互助队", area_id=c1)
    sv.add_member(sctx, team.id, v.id, "队长")
    with pytest.raises(ValidationError, match="已是"):
        sv.add_member(sctx, team.id, v.id)
    assert [(x.name, m.role) for x, m in sv.team_members(sctx, team.id)] == [("张三", "队长")]
    sv.remove_member(sctx, team.id, v.id)
    assert sv.team_members(sctx, team.id) == []
    sv.add_member(sctx, team.id, v.id)  # rejoining opens a new stretch
    card = sv.volunteer_card(sctx, v.id)
    assert card.teams == [("银龄互助队", "队员")]


# ---------------------------------------------------------------- 2. activities, attendance, approval

def _activity(ctx, area_id, cap=120, pph=1, **kw):
    return sv.create_activity(ctx, name="敬老院陪伴", area_id=area_id, starts_at=T0, ends_at=T0 + timedelta(hours=3),
                              place="敬老院", content="陪伴聊天", leader_name="王队长", cap_minutes=cap,
                              points_per_hour=pph, **kw)


def test_minutes_arithmetic_and_cap():
    t = T0
    assert sv.compute_minutes(t, t + timedelta(minutes=95, seconds=59), 120) == (95, 95)
    assert sv.compute_minutes(t, t + timedelta(hours=3), 120) == (180, 120)
    assert sv.compute_minutes(t, t + timedelta(hours=3), 0) == (180, 180)
    assert sv.points_for(90, 1) == 1 and sv.points_for(120, 10) == 20 and sv.points_for(59, 1) == 0


def test_activity_defaults_come_from_rules(sctx, areas):
    _set(sctx, "volunteer.points_per_hour", 10)
    _set(sctx, "volunteer.cap_minutes", 240)
    a = sv.create_activity(sctx, name="义诊", area_id=areas[1][0], starts_at=T0, ends_at=T0 + timedelta(hours=1))
    assert (a.points_per_hour, a.cap_minutes) == (10, 240)
    with pytest.raises(ValidationError, match="晚于"):
        sv.create_activity(sctx, name="义诊", area_id=areas[1][0], starts_at=T0, ends_at=T0)


def test_a_closed_activity_says_so_once(sctx, areas):
    a = _activity(sctx, areas[1][0])
    sv.close_activity(sctx, a.id)
    with pytest.raises(ValidationError) as again:
        sv.close_activity(sctx, a.id)
    assert again.value.message == "活动“敬老院陪伴”已结束。"
    with pytest.raises(ValidationError) as edit:
        sv.update_activity(sctx, a.id, place="社区")
    assert edit.value.message == "活动“敬老院陪伴”已结束，不能再修改。"

def test_sign_in_out_approval_gates_hours(sctx, areas, clock):
    c1 = areas[1][0]
    v = _vol(sctx, c1)
    a = _activity(sctx, c1, cap=120, pph=10)
    sv.enrol(sctx, a.id, v.id)
    with pytest.raises(ValidationError, match="尚未签到"):
        sv.sign_out(sctx, a.id, v.id)
    sv.sign_in(sctx, a.id, v.id, T0)
    with pytest.raises(ValidationError, match="重复签到"):
        sv.sign_in(sctx, a.id, v.id, T0)
    with pytest.raises(ValidationError, match="晚于签到"):
        sv.sign_out(sctx, a.id, v.id, T0 - timedelta(minutes=1))
    clock.now = T0 + timedelta(hours=3)                               # signed out after the fact
    att = sv.sign_out(sctx, a.id, v.id, T0 + timedelta(hours=2, minutes=30))
    assert (att.raw_minutes, att.minutes) == (150, 120)
    assert sv.account(sctx, v.id) == (0, 0)  # not counted until approved
    assert [x.id for x, _, _ in sv.pending_approvals(sctx)] == [att.id]
    res = sv.approve(sctx, [att.id, att.id], quality="优秀")
    assert res.approved == [att.id] and att.status == "approved" and att.points == 20
    assert sv.account(sctx, v.id) == (20, 120)
    again = sv.approve(sctx, [att.id])
    assert again.approved == [] and "不能审核" in again.skipped[0][1]
    assert sv.check_consistency(sctx.session) == []


M = timedelta(minutes=1)
NOW = T0 + timedelta(hours=10, minutes=40)       # 19:40 Shanghai; the activity runs 09:00–12:00


@pytest.mark.parametrize("call,margin,message", [
    # the case: signed out at 23:40 while the clock said 19:40
    ("record", 60, None), ("sign_out", 60, None),
    ("record:in=T0+5m,out=T0+14h40m", 60, "张三的签退时间 23:40 晚于当前时间 19:40"),
    ("sign_out:in=T0+5m,out=T0+14h40m", 60, "张三的签退时间 23:40 晚于当前时间 19:40"),
    ("sign_in:in=T0+11h", 60, "张三的签到时间 20:00 晚于当前时间 19:40"),
    ("record:in=T0+5m,out=T0+5m", 60, "张三的签退时间 09:05 应晚于签到时间 09:05。"),
    ("record:in=T0+5m,out=T0+4h1m", 60, "张三的签退时间 13:01 晚于活动结束时间 12:00 超过 60 分钟"),
    ("sign_out:in=T0+5m,out=T0+4h1m", 60, "张三的签退时间 13:01 晚于活动结束时间 12:00 超过 60 分钟"),
    ("record:in=T0+5m,out=T0+4h", 60, None),                           # exactly at the margin
    ("record:in=T0+5m,out=T0+4h1m", 120, None),                        # the setting widens it
    ("record:in=T0+5m,out=T0+3h1m", 0, "张三的签退时间 12:01 晚于活动结束时间 12:00 超过 0 分钟"),
    ("record:in=T0-1h1m,out=T0+2h", 60, "张三的签到时间 07:59 早于活动开始时间 09:00 超过 60 分钟"),
    ("sign_in:in=T0-1h1m", 60, "张三的签到时间 07:59 早于活动开始时间 09:00 超过 60 分钟"),
    ("sign_in:in=T0-1h", 60, None),
    ("sign_in:in=T0+4h1m", 60, "张三的签到时间 13:01 晚于活动结束时间 12:00 超过 60 分钟"),
    ("record:in=T0+5m,out=T0+1d", 60, "张三的签退时间 2026-05-11 09:00 晚于当前时间 19:40"),
    # a reviewer's correction may go beyond the margin (that is what it is for), never past the clock
    ("correct:in=T0+5m,out=T0+6h", 60, None),
    ("correct:in=T0+5m,out=T0+14h40m", 60, "张三的签退时间 23:40 晚于当前时间 19:40"),
    ("correct:in=T0+2h,out=T0+1h", 60, "张三的签退时间 10:00 应晚于签到时间 11:00。"),
])
def test_sign_in_out_times_are_checked(sctx, areas, clock, call, margin, message):
    """Sign-in and sign-out times: not after the clock, sign-out after sign-in, within
    volunteer.signout_margin_minutes of the activity; refused with the volunteer's name and the
    time, nothing written."""
    def at(text):  # "T0+4h1m", "T0-1h", "T0+1d"
        sign = -1 if text[2] == "-" else 1
        units = {"d": "days", "h": "hours", "m": "minutes"}
        return T0 + sign * sum((timedelta(**{units[u]: int(n)}) for n, u in re.findall(r"(\d+)([dhm])", text[3:])),
                               timedelta())

    c1 = areas[1][0]
    _set(sctx, "volunteer.signout_margin_minutes", margin)
    v = _vol(sctx, c1)
    a = _activity(sctx, c1)
    clock.now = NOW
    kind, _, args = call.partition(":")
    times = dict(part.split("=") for part in args.split(",")) if args else {"in": "T0+5m", "out": "T0+2h"}
    t_in, t_out = at(times["in"]), at(times["out"]) if "out" in times else None
    if kind == "sign_out":
        sv.sign_in(sctx, a.id, v.id, t_in)
    if kind == "correct":
        att = sv.record_attendance(sctx, a.id, v.id, T0, T0 + timedelta(hours=2))
    sctx.session.commit()
    work = {"record": lambda: sv.record_attendance(sctx, a.id, v.id, t_in, t_out),
            "sign_in": lambda: sv.sign_in(sctx, a.id, v.id, t_in),
            "sign_out": lambda: sv.sign_out(sctx, a.id, v.id, t_out),
            "correct": lambda: sv.correct_times(sctx, att.id, t_in, t_out, "登记有误")}[kind]
    if message is None:
        work()
        return
    with pytest.raises(ValidationError) as exc:
        work()
    assert exc.value.message.startswith(message)
    sctx.session.rollback()
    from plugins.volunteer.models import Attendance

    rows = [(x.status, x.signed_in_at, x.signed_out_at) for x in sctx.session.scalars(select(Attendance))]
    before = {"record": [], "sign_in": [], "sign_out": [("signed_in", t_in, None)],
              "correct": [("signed_out", T0, T0 + timedelta(hours=2))]}[kind]
    assert rows == before


def test_walk_in_and_capacity(sctx, areas):
    c1 = areas[1][0]
    a = _activity(sctx, c1, capacity=1)
    v1, v2 = _vol(sctx, c1), _vol(sctx, c1, seq=125, name="李四")
    sv.sign_in(sctx, a.id, v1.id, T0)  # walk-in: enrolled at sign-in
    with pytest.raises(ValidationError, match="报满"):
        sv.enrol(sctx, a.id, v2.id)


def test_bulk_approval_and_permission(sctx, vdb, areas, clock):
    (_, _), (c1, p1), _ = areas
    a = _activity(sctx, c1)
    vols = [_vol(sctx, c1, seq=101 + 2 * i, name=f"志愿者{i}") for i in range(4)]
    clock.now = T0 + timedelta(hours=3)
    atts = [sv.record_attendance(sctx, a.id, v.id, T0, T0 + timedelta(minutes=60 + 15 * i)) for i, v in enumerate(vols)]
    sv.enrol(sctx, a.id, _vol(sctx, c1, seq=199, name="未到").id)
    sctx.session.commit()
    worker = ServiceContext(vdb.session_factory(), actor_for(p1, "volunteer.view", "volunteer.activity"), clock)
    with pytest.raises(PermissionDenied):
        sv.approve(worker, [atts[0].id])
    worker.session.close()
    res = sv.approve(sctx, [x.id for x in atts])
    assert len(res.approved) == 4
    assert [sv.account(sctx, v.id)[1] for v in vols] == [60, 75, 90, 105]
    assert [sv.account(sctx, v.id)[0] for v in vols] == [1, 1, 1, 1]


def test_reversal_and_correction_are_new_entries(sctx, areas, clock):
    c1 = areas[1][0]
    v = _vol(sctx, c1)
    a = _activity(sctx, c1, cap=0, pph=10)
    clock.now = T0 + timedelta(hours=4)
    att = sv.record_attendance(sctx, a.id, v.id, T0, T0 + timedelta(hours=3))
    sv.approve(sctx, [att.id])
    assert sv.account(sctx, v.id) == (30, 180)
    sv.correct_times(sctx, att.id, T0, T0 + timedelta(hours=2), "签退时间登记错误")
    assert att.status == "signed_out" and att.minutes == 120
    assert sv.account(sctx, v.id) == (0, 0)  # reversed, waiting for approval again
    sv.approve(sctx, [att.id])
    assert sv.account(sctx, v.id) == (20, 120)
    hours = [(h.kind, h.minutes, h.balance_after) for h in sctx.session.scalars(select(HoursEntry).order_by(HoursEntry.id))]
    assert hours == [("approve", 180, 180), ("reverse", -180, 0), ("approve", 120, 120)]
    points = [(p.kind, p.points, p.balance_after) for p in sctx.session.scalars(select(PointsEntry).order_by(PointsEntry.id))]
    assert points == [("earn", 30, 30), ("reverse", -30, 0), ("earn", 20, 20)]
    # A reversal whose points were already spent is refused, nothing changes.
    sv.adjust_points(sctx, v.id, -15, "测试扣减")
    with pytest.raises(ValidationError, match="积分余额不足"):
        sv.reverse_attendance(sctx, att.id, "误审")
    sctx.session.rollback()


def test_ledgers_are_append_only_in_the_database(vdb, areas, clock):
    with vdb.session_factory() as s:
        ctx = ServiceContext(s, __import__("shell.core.context", fromlist=["Actor"]).Actor.system(), clock)
        v = _vol(ctx, areas[1][0])
        sv.adjust_points(ctx, v.id, 5, "初始")
        s.commit()
    for stmt in ("UPDATE volunteer_points_ledger SET points = 500", "DELETE FROM volunteer_points_ledger"):
        with vdb.engine.connect() as conn:
            with pytest.raises(Exception, match="append-only"):
                conn.execute(text(stmt))
            conn.rollback()


@pytest.mark.parametrize("hours,star", [(0, 0), (99.98, 0), (100, 1), (299, 1), (300, 2), (600, 3), (999, 3),
                                        (1000, 4), (1499, 4), (1500, 5), (5000, 5)])
def test_star_thresholds(hours, star):
    assert sv.star_level(round(hours * 60)) == star


def test_star_from_approved_hours_only(sctx, areas, clock):
    c1 = areas[1][0]
    v = _vol(sctx, c1)
    a = sv.create_activity(sctx, name="长期结对", area_id=c1, starts_at=T0, ends_at=T0 + timedelta(days=5),
                           cap_minutes=0, points_per_hour=1)
    clock.now = T0 + timedelta(days=5)
    att = sv.record_attendance(sctx, a.id, v.id, T0, T0 + timedelta(hours=100))
    assert sv.volunteer_card(sctx, v.id).star == 0
    sv.approve(sctx, [att.id])
    card = sv.volunteer_card(sctx, v.id)
    assert card.star == 1 and card.star_label == "一星" and card.hours == "100" and card.points == 100
    # Spending points never changes hours or stars.
    sv.adjust_points(sctx, v.id, -100, "兑换测试")
    card = sv.volunteer_card(sctx, v.id)
    assert (card.points, card.minutes, card.star) == (0, 6000, 1)


def test_star_distribution_and_month_statistics(sctx, areas, clock):
    """The dashboard's figures, computed in SQL on both engines: stars at the exact thresholds, hours
    per service month net of reversals, points earned vs redeemed per month."""
    c1 = areas[1][0]
    a = sv.create_activity(sctx, name="长期结对", area_id=c1, starts_at=T0, ends_at=T0 + timedelta(days=90),
                           cap_minutes=0, points_per_hour=1)
    minutes = {"甲": 100 * 60 - 1, "乙": 100 * 60, "丙": 300 * 60, "丁": 1500 * 60}
    atts = {}
    for i, (name, m) in enumerate(minutes.items()):
        v = _vol(sctx, c1, seq=130 + i, name=name, phone="")
        clock.now = T0 + timedelta(minutes=m)                         # recorded at the sign-out
        atts[name] = sv.record_attendance(sctx, a.id, v.id, T0, T0 + timedelta(minutes=m))
    clock.now = T0
    _vol(sctx, c1, seq=140, name="戊", phone="")                       # no service yet
    sv.approve(sctx, [x.id for x in atts.values()])
    assert sv.star_distribution(sctx) == [("未评星", 2), ("一星", 1), ("二星", 1), ("三星", 0), ("四星", 0), ("五星", 1)]
    sv.reverse_attendance(sctx, atts["乙"].id, "登记错误")
    assert sv.star_distribution(sctx)[:2] == [("未评星", 3), ("一星", 0)]
    clock.now = T0 + timedelta(days=40)                               # June: May is the month before
    hours = dict(sv.hours_by_month(sctx, 3))
    assert list(hours) == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
    assert hours[date(2026, 5, 1)] == sum(minutes.values()) - minutes["乙"] and hours[date(2026, 6, 1)] == 0
    item = sv.create_item(sctx, name="毛巾", area_id=c1, points_price=5, stock=10)
    order = sv.redeem(sctx, atts["甲"].volunteer_id, {item.id: 3})
    sv.redeem(sctx, atts["丙"].volunteer_id, {item.id: 1})
    sv.cancel_redemption(sctx, order.id, "拿错了")
    points = {m: (e, r) for m, e, r in sv.points_by_month(sctx, 2)}
    assert points == {date(2026, 5, 1): (sum(minutes.values()) // 60, 0), date(2026, 6, 1): (0, 5)}


# ---------------------------------------------------------------- 3. points rules

def test_balance_cap_limits_earning_not_hours(sctx, areas, clock):
    c1 = areas[1][0]
    _set(sctx, "volunteer.balance_cap", 25)
    v = _vol(sctx, c1)
    a = _activity(sctx, c1, cap=0, pph=10)
    clock.now = T0 + timedelta(hours=3)
    att = sv.record_attendance(sctx, a.id, v.id, T0, T0 + timedelta(hours=3))
    sv.approve(sctx, [att.id])
    assert sv.account(sctx, v.id) == (25, 180)
    entry = sctx.session.scalar(select(PointsEntry))
    assert entry.points == 25 and "上限" in entry.reason
    assert sv.check_consistency(sctx.session) == []


def test_adjust_requires_reason_and_never_goes_negative(sctx, areas):
    v = _vol(sctx, areas[1][0])
    with pytest.raises(ValidationError, match="原因"):
        sv.adjust_points(sctx, v.id, 5, "")
    sv.adjust_points(sctx, v.id, 5, "补录")
    with pytest.raises(ValidationError, match="余额不足"):
        sv.adjust_points(sctx, v.id, -6, "扣减")
    assert sv.account(sctx, v.id)[0] == 5


def test_expiry_first_in_first_out(sctx, areas, clock):
    _set(sctx, "volunteer.expiry_months", 12)
    v = _vol(sctx, areas[1][0])
    clock.now = datetime(2025, 1, 10, tzinfo=UTC)
    sv.adjust_points(sctx, v.id, 30, "旧积分")
    clock.now = datetime(2025, 6, 10, tzinfo=UTC)
    sv.adjust_points(sctx, v.id, -10, "兑换")
    clock.now = datetime(2026, 1, 5, tzinfo=UTC)
    sv.adjust_points(sctx, v.id, 8, "新积分")
    clock.now = datetime(2026, 3, 1, tzinfo=UTC)
    assert sv.expire_points(sctx) == {v.id: 20}
    assert sv.account(sctx, v.id)[0] == 8
    assert sv.expire_points(sctx) == {}  # idempotent
    assert sv.check_consistency(sctx.session) == []
