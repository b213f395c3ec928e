"""Plans (file size limit, review due), drills (status flow, evaluation against plan steps, yearly
requirement), rescue teams (size norm) and shelters."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from plugins.emergency import services as sv
from shell.core.settings import set_value
from shell.errors import ValidationError

from .conftest import TODAY

STEPS = [("接警与信息报告", "值班室"), ("人员疏散", "社区"), "物资调配"]


def test_plans_file_limit_and_review_due(world):
    ctx = world.ctx()
    p = sv.create_plan(ctx, world.street, "防汛防台专项应急预案", "自然灾害", "专项预案", "2.0",
                       issued_on=date(2025, 1, 1), review_on=TODAY + timedelta(days=30), steps=STEPS,
                       file_name="防汛.pdf", file_data=b"%PDF-1.4 x")
    sv.create_plan(ctx, world.c1, "社区火灾应急预案", "事故灾难", "现场处置方案", review_on=TODAY + timedelta(days=31))
    old = sv.create_plan(ctx, world.c2, "公共卫生预案", "公共卫生", "专项预案", review_on=TODAY - timedelta(days=1))
    assert [s.action for s in sv.plan_steps(ctx, p.id)] == ["接警与信息报告", "人员疏散", "物资调配"]
    assert sv.plan_file(ctx, p.id) == ("防汛.pdf", b"%PDF-1.4 x")
    assert {x.id for x in sv.plans_review_due(ctx)} == {p.id, old.id}       # 30 days notice, boundary included
    assert {x.id for x in sv.plans_review_due(ctx, within_days=0)} == {old.id}
    with pytest.raises(ValidationError, match="预案类别“地震”无效"):
        sv.create_plan(ctx, world.street, "x", "地震", "专项预案")
    set_value(ctx, sv._SETTING["emergency.plan_file_max_kb"], 64)
    with pytest.raises(ValidationError, match="超过上限"):
        sv.create_plan(ctx, world.street, "大附件", "社会安全", "专项预案", file_name="a.pdf", file_data=b"x" * (64 * 1024 + 1))
    ok = sv.create_plan(ctx, world.street, "刚好", "社会安全", "专项预案", file_name="a.pdf", file_data=b"x" * (64 * 1024))
    assert ok.file_size == 64 * 1024
    sv.update_plan(ctx, old.id, expected_version=old.version_id, version="2.0", review_on=TODAY + timedelta(days=365))
    assert old.id not in {x.id for x in sv.plans_review_due(ctx)}


def test_drill_flow_and_evaluation(world):
    ctx = world.ctx()
    plan = sv.create_plan(ctx, world.street, "总体预案", "自然灾害", "总体预案", steps=STEPS)
    d = sv.plan_drill(ctx, world.c1, "东湖社区防汛转移演练", "live", "comprehensive", "inspection", TODAY,
                      plan_id=plan.id, place="东湖广场", aim="检验转移流程")
    assert d.status == "planned"
    with pytest.raises(ValidationError, match="实施后才能评估"):
        sv.evaluate_drill(ctx, d.id, [{"expected": "x", "score": 5}], "李明")
    with pytest.raises(ValidationError, match="不能晚于今天"):
        sv.record_drill_held(ctx, d.id, TODAY + timedelta(days=1), 80)
    sv.record_drill_held(ctx, d.id, TODAY, 80, units="东湖社区、物业、卫生站")
    assert d.status == "held"
    rows = sv.evaluation_template(ctx, d.id)
    assert [r["expected"] for r in rows] == ["接警与信息报告", "人员疏散", "物资调配"]
    with pytest.raises(ValidationError, match="还有 1 个步骤未评估：第 3 步"):
        sv.evaluate_drill(ctx, d.id, [dict(r, score=8) for r in rows[:2]], "李明")
    with pytest.raises(ValidationError, match="0–10"):
        sv.evaluate_drill(ctx, d.id, [dict(r, score=11) for r in rows], "李明")
    scores = [dict(rows[0], observed="3 分钟内上报", score=9), dict(rows[1], observed="疏散慢", score=6, problem="路线不清"),
              dict(rows[2], observed="到位", score=8)]
    sv.evaluate_drill(ctx, d.id, scores, "李明", problems="疏散路线不清", causes="标识不足", lessons="入户告知有效",
                      improvements="增设指示牌")
    assert d.status == "evaluated" and d.score == round(23 * 10 / 3)
    assert [(s.seq, s.score, s.problem) for s in sv.drill_scores(ctx, d.id)] == [(1, 9, None), (2, 6, "路线不清"), (3, 8, None)]
    with pytest.raises(ValidationError, match="步骤"):
        sv.set_plan_steps(ctx, plan.id, ["新步骤"])
    with pytest.raises(ValidationError, match="只有计划中的演练"):
        sv.cancel_drill(ctx, d.id)


def test_yearly_drill_requirement(world):
    ctx = world.ctx()
    year = TODAY.year
    d1 = sv.plan_drill(ctx, world.street, "街道综合演练", "live", "comprehensive", "demonstration", date(year, 3, 1))
    sv.record_drill_held(ctx, d1.id, date(year, 3, 1), 150, place="街道广场")
    d2 = sv.plan_drill(ctx, world.c1, "东湖单项演练", "tabletop", "single", "inspection", date(year, 4, 1))
    sv.record_drill_held(ctx, d2.id, date(year, 4, 1), 20, place="会议室")             # single: does not count
    old = sv.plan_drill(ctx, world.c2, "西关去年综合演练", "live", "comprehensive", "inspection", date(year - 1, 12, 31))
    sv.record_drill_held(ctx, old.id, date(year - 1, 12, 31), 60, place="西关小学")     # last year: does not count
    sv.plan_drill(ctx, world.c2, "西关综合演练", "live", "comprehensive", "inspection", date(year, 10, 1))  # only planned
    comp = {c.area_id: c for c in sv.drill_compliance(ctx, year)}
    assert (comp[world.street].held, comp[world.c1].held, comp[world.c2].held) == (1, 0, 0)
    assert comp[world.c2].planned == 1
    assert [c.area_id for c in sv.drills_behind(ctx, year)] == [world.c1, world.c2]
    assert [c.area_id for c in sv.drills_behind(ctx, year - 1)] == [world.street, world.c1]
    set_value(ctx, sv._SETTING["emergency.drills_per_year"], 2)
    assert [c.area_id for c in sv.drills_behind(ctx, year)] == [world.street, world.c1, world.c2]
    set_value(ctx, sv._SETTING["emergency.drills_per_year"], 0)
    assert sv.drills_behind(ctx, year) == []


def test_team_size_against_norm(world):
    ctx = world.ctx()
    team = sv.create_team(ctx, world.street, "和平街道综合应急救援队", "comprehensive", "王强", "13800001111")
    vol = sv.create_team(ctx, world.c1, "东湖志愿者队", "volunteer")
    for i in range(49):
        sv.add_member(ctx, team.id, f"队员{i}", f"139{i:08d}", "搜救", "红十字救护员证")
    for i in range(5):
        sv.add_member(ctx, vol.id, f"志愿者{i}")          # other kinds do not count
    check = sv.team_size_check(ctx)[0]
    assert (check.members, check.norm, check.ok, check.shortfall) == (49, 50, False, 1)
    last = sv.add_member(ctx, team.id, "队员49", "13900000049")
    assert sv.team_size_check(ctx)[0].ok
    sv.remove_member(ctx, last.id)
    assert sv.team_size_check(ctx)[0].members == 49
    set_value(ctx, sv._SETTING["emergency.team_size_norm"], 40)
    assert sv.team_size_check(ctx)[0].ok
    with pytest.raises(ValidationError, match="已有电话"):
        sv.add_member(ctx, team.id, "重复", "13900000001")
    with pytest.raises(ValidationError, match="格式不正确"):
        sv.add_member(ctx, team.id, "坏号码", "12345")


def test_shelters(world):
    ctx = world.ctx()
    a = sv.create_shelter(ctx, world.street, "中心公园避难场所", "和平路 1 号", 12000, 3000, "供水、厕所、照明", "赵敏",
                          "13700001111")
    b = sv.create_shelter(ctx, world.c1, "东湖小学操场", "东湖路 8 号", 5000, 1200)
    assert sv.shelter_capacity(ctx) == 4200
    sv.set_shelter_status(ctx, b.id, "maintenance", expected_version=b.version_id)
    assert sv.shelter_capacity(ctx) == 3000
    with pytest.raises(ValidationError, match="状态"):
        sv.set_shelter_status(ctx, a.id, "坏了")
    with pytest.raises(ValidationError, match="可容纳人数"):
        sv.create_shelter(ctx, world.street, "x", "y", 10, 0)


def test_duty_roster_and_gaps(world_both):
    from plugins.emergency.models import DutyShift
    from shell.errors import ConflictError

    world = world_both
    ctx = world.ctx()
    monday = TODAY - timedelta(days=TODAY.weekday())
    sv.set_duty(ctx, world.street, monday, "full", "王主任", "李明、张强", "13800001111")
    sv.set_duty(ctx, world.street, monday + timedelta(days=1), "day", "王主任", "赵亮")
    sv.set_duty(ctx, world.street, monday + timedelta(days=2), "day", "刘副主任", "钱进")
    sv.set_duty(ctx, world.street, monday + timedelta(days=2), "night", "刘副主任", "孙立")
    ctx.session.commit()
    roster = sv.duty_roster(ctx, world.street, monday, monday + timedelta(days=6))
    assert [(d.duty_date - monday).days for d in roster] == [0, 1, 2, 2]
    assert [d.shift for d in roster] == ["full", "day", "day", "night"]
    gaps = sv.duty_gaps(ctx, world.street, monday, monday + timedelta(days=3))
    assert gaps == [(monday + timedelta(days=1), "缺夜班"), (monday + timedelta(days=3), "无人值班")]
    with pytest.raises(ValidationError, match="已排“全天”，不能再排“夜班”"):
        sv.set_duty(ctx, world.street, monday, "night", "王主任", "x")
    with pytest.raises(ValidationError, match="请填写值班人员"):
        sv.set_duty(ctx, world.street, monday + timedelta(days=4), "full", "王主任", " ")
    with pytest.raises(ValidationError, match="值班电话“123”格式不正确"):
        sv.set_duty(ctx, world.street, monday + timedelta(days=4), "full", "王主任", "李明", "123")
    # changing a shift: guarded by version
    first = roster[0]
    sv.set_duty(ctx, world.street, monday, "full", "王主任", "李明", expected_version=first.version_id)
    ctx.session.commit()
    with pytest.raises(ConflictError):
        sv.set_duty(ctx, world.street, monday, "full", "王主任", "张强", expected_version=first.version_id - 1)
    ctx.session.rollback()
    sv.remove_duty(ctx, roster[1].id)
    ctx.session.commit()
    with world.db.session_factory() as s:
        assert s.query(DutyShift).count() == 3
        assert s.query(DutyShift).filter_by(duty_date=monday).one().staff == "李明"



@pytest.mark.pg
def test_a_duty_clash_takes_back_only_the_clashing_shift(em_pg):
    """Two desktops schedule the same shift at once: the loser's ConflictError undoes its own row
    only (a savepoint), not the other work of the caller's transaction. The caller's earlier work is
    still unflushed when the other desktop saves: once a transaction has written, it holds the write
    lock (SQLite) or the audit chain's lock (PostgreSQL, shell/core/chain.py) to its commit, so the
    other desktop cannot get in between. (PostgreSQL only: on SQLite the other desktop's SELECT runs
    outside any transaction, so the reads interleave differently.)"""
    from sqlalchemy import event

    from plugins.emergency.models import DutyShift, Team
    from shell.errors import ConflictError

    from .conftest import _SESSIONS, build_world

    world = build_world(em_pg)
    ctx = world.ctx()
    # The caller's earlier work, still pending (create_team would flush it): flushed with the savepoint.
    ctx.session.add(Team(area_id=world.street, name="防汛抢险队", kind="comprehensive"))
    day = TODAY + timedelta(days=10)
    done = []

    def other_desktop_first(_session, _flush_context, _instances):
        if done:
            return
        done.append(True)
        other = world.ctx()
        sv.set_duty(other, world.street, day, "day", "刘副主任", "钱进")
        other.session.commit()

    event.listen(ctx.session, "before_flush", other_desktop_first)
    try:
        with pytest.raises(ConflictError, match="刚被其他电脑排好"), ctx.session.no_autoflush:
            sv.set_duty(ctx, world.street, day, "day", "王主任", "赵亮")
        ctx.session.commit()
        with world.db.session_factory() as s:
            assert [t.name for t in s.query(Team)] == ["防汛抢险队"]
            assert [d.leader for d in s.query(DutyShift)] == ["刘副主任"]
    finally:
        while _SESSIONS:
            _SESSIONS.pop().close()


def test_a_choice_is_taken_as_the_message_offers_it(world):
    """“演练形式“x”无效，可选：桌面演练、实战演练”: the labels offered are accepted, as the keys are."""
    ctx = world.ctx()
    with pytest.raises(ValidationError, match="可选：综合应急救援队伍、专业救援队伍、志愿者队伍"):
        sv.create_team(ctx, world.street, "防汛队", "抢险队")
    team = sv.create_team(ctx, world.street, "防汛队", "志愿者队伍")
    assert team.kind == "volunteer"
    drill = sv.plan_drill(ctx, world.street, "防汛演练", "桌面演练", "单项演练", "检验性演练", TODAY + timedelta(days=9))
    assert (drill.form, drill.content, drill.purpose) == ("tabletop", "single", "inspection")
