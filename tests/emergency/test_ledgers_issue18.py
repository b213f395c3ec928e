"""Issue 18 §3, emergency: the 演练总结报告 (apart from the evaluation), the 临期物资预警清单 and the
物资领用（出库）登记簿 — figures against a hand count, and a community keeper's scope."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from plugins.emergency import ledgers
from plugins.emergency import services as sv
from reports import render_document, render_pdf
from shell.core.models import Area
from shell.errors import ValidationError

from .conftest import TODAY, scoped_actor


def _stock(world):
    ctx = world.ctx(day=date(2026, 5, 1))           # received before the first batch expired
    main = sv.create_warehouse(ctx, world.street, "街道应急物资储备库")
    east = sv.create_warehouse(ctx, world.c1, "东湖社区储备点")
    water = sv.create_item(ctx, "1010101", "饮用水", "箱", "550ml×24")
    drugs = sv.create_item(ctx, "1040201", "急救药箱", "个")
    pump = sv.create_item(ctx, "2010101", "潜水泵", "台", "QDX-1.5kW")
    # TODAY = 2026-06-15: expired, 20 days, 50 days, 80 days, 200 days, no expiry
    sv.receive(ctx, main.id, water.id, 30, "W-OLD", date(2025, 6, 1), TODAY - timedelta(days=3))
    sv.receive(ctx, main.id, water.id, 40, "W-20", date(2025, 7, 1), TODAY + timedelta(days=20))
    sv.receive(ctx, east.id, drugs.id, 5, "D-50", date(2025, 7, 1), TODAY + timedelta(days=50))
    sv.receive(ctx, east.id, water.id, 12, "W-80", date(2025, 8, 1), TODAY + timedelta(days=80))
    sv.receive(ctx, main.id, water.id, 60, "W-200", date(2026, 1, 1), TODAY + timedelta(days=200))
    sv.receive(ctx, east.id, pump.id, 4, "P-1", date(2026, 1, 1), None)
    ctx.session.commit()
    return world.ctx(), main, east, water, drugs, pump


def test_expiry_list_by_band_with_quantities(world):
    ctx, main, east, *_ = _stock(world)
    spec = ledgers.build_expiry(ctx, {})
    rows = list(spec.rows)
    assert [(r[3], r[5], r[6], r[-1]) for r in rows] == [
        ("W-OLD", -3, 30, "已过期"), ("W-20", 20, 40, "30天内到期"), ("D-50", 50, 5, "60天内到期"),
        ("W-80", 80, 12, "90天内到期")]
    assert rows[0][8].startswith("已过期：停止发放")
    assert spec.totals[0] == "合计：4 批" and spec.totals[6] == 87 and spec.period == "截至2026年6月15日"
    with world.db.session_factory() as s:
        c1_path = s.get(Area, world.c1).path
    keeper = world.ctx(scoped_actor(c1_path, "emergency.view"))
    assert [r[3] for r in ledgers.build_expiry(keeper, {}).rows] == ["D-50", "W-80"]


def test_issue_register_lists_stock_outs_by_item(world, tmp_path):
    ctx, main, east, water, drugs, pump = _stock(world)
    b20 = sv.batches(ctx, main.id, water.id)
    w20 = next(b for b in b20 if b.batch_no == "W-20")
    sv.issue(ctx, w20.id, 10, party="东湖社区居委会", note="防汛值守")
    sv.issue(ctx, w20.id, 5, party="志愿者服务队")
    p1 = sv.batches(ctx, east.id, pump.id)[0]
    sv.issue(ctx, p1.id, 2, party="物业公司", note="地下车库排水")
    sv.adjust(ctx, p1.id, -1, "损坏")                                    # not a 领用
    sv.transfer(ctx, next(b for b in b20 if b.batch_no == "W-200").id, east.id, 6)   # not a 领用 either
    with pytest.raises(ValidationError):
        sv.issue(ctx, next(b for b in b20 if b.batch_no == "W-OLD").id, 1)  # expired: refused
    ctx.session.commit()
    spec = ledgers.build_issues(ctx, {})
    rows = list(spec.rows)
    assert [(r[-1], r[4], r[6], r[7]) for r in rows] == [
        ("1010101 饮用水（550ml×24）", 10, "东湖社区居委会", "防汛值守"),
        ("1010101 饮用水（550ml×24）", 5, "志愿者服务队", ""),
        ("2010101 潜水泵（QDX-1.5kW）", 2, "物业公司", "地下车库排水")]
    assert spec.totals[0] == "合计：3 笔" and spec.totals[4] == 17 and spec.subtotals == [4]
    assert spec.period == "2026年1月1日至6月15日" and spec.columns[-1].title == "领用人签字"
    with world.db.session_factory() as s:
        c1_path = s.get(Area, world.c1).path
    keeper = world.ctx(scoped_actor(c1_path, "emergency.view"))
    assert [r[4] for r in ledgers.build_issues(keeper, {}).rows] == [2]
    assert render_pdf(ledgers.build_issues(ctx, {}), tmp_path / "issues.pdf").pages == 1


def test_drill_summary_is_its_own_report(world, tmp_path):
    ctx = world.ctx()
    d = sv.plan_drill(ctx, world.c1, "东湖社区防汛转移演练", "live", "comprehensive", "inspection", TODAY,
                      aim="检验防汛转移预案")
    with pytest.raises(ValidationError, match="还没有实施"):
        ledgers.build_drill_summary(ctx, {"drill_id": d.id})
    sv.record_drill_held(ctx, d.id, TODAY, 80, place="东湖社区广场", units="东湖社区、物业、卫生站",
                         scenario="暴雨导致低洼地带积水")
    held = ledgers.build_drill_summary(ctx, {"drill_id": d.id})
    assert "本次演练尚未评估" in held.body[-1]
    sv.evaluate_drill(ctx, d.id, [{"expected": "发布预警", "score": 8}, {"expected": "组织转移", "score": 6}], "李明",
                      problems="部分居民不熟悉疏散路线", causes="宣传不到位", lessons="提前入户告知",
                      improvements="增设疏散指示标识")
    ctx.session.commit()
    doc = ledgers.build_drill_summary(ctx, {"drill_id": d.id})
    fields = dict(doc.fields)
    assert fields["参演人数"] == "80 人" and fields["演练地点"] == "东湖社区广场"
    assert doc.title == "应急演练总结报告" and doc.items is None                 # no score table: that is the evaluation
    assert doc.body[3] == "四、发现的问题及原因：部分居民不熟悉疏散路线；原因：宣传不到位"
    assert "综合得分 70 分" in doc.body[-1] and doc.signature == ("起草人", "审核人")
    assert "2026年6月15日在东湖社区广场组织实战演练、综合演练、检验性演练" in doc.body[1]
    assert render_document(doc, tmp_path / "summary.pdf").pages == 1
