"""Issue 18 §3, volunteer service: the 志愿服务活动记录台账 and the 星级评定台账 — figures against a hand
count, and the scope of a community worker."""
from __future__ import annotations

from datetime import date, timedelta

from plugins.volunteer import ledgers
from plugins.volunteer import services as sv
from plugins.volunteer.rules import P_VIEW
from reports import render_pdf, render_xlsx
from shell.core.context import ServiceContext

from .conftest import T0, actor_for, id_number


def _vol(ctx, area_id, seq, name):
    return sv.register_volunteer(ctx, name=name, id_number=id_number(seq=seq), area_id=area_id, phone="13800001111")


def _activity(ctx, area_id, name, start, hours=3, **kw):
    return sv.create_activity(ctx, name=name, area_id=area_id, starts_at=start, ends_at=start + timedelta(hours=hours),
                              place="敬老院", target="独居老人", content="陪伴聊天", leader_name="王队长",
                              recorder_name="李记录", cap_minutes=0, points_per_hour=1, organiser="青石街道志愿服务站", **kw)


def test_activity_ledger_counts_approved_service_per_community(sctx, areas, clock, tmp_path):
    (street, spath), (c1, c1path), (c2, _p2) = areas
    a, b, c = _vol(sctx, c1, 11, "甲"), _vol(sctx, c1, 13, "乙"), _vol(sctx, c2, 15, "丙")
    act1 = _activity(sctx, c1, "敬老院陪伴", T0)
    act2 = _activity(sctx, c2, "河道清理", T0 + timedelta(days=2), hours=2)
    _activity(sctx, c1, "下月活动", T0 + timedelta(days=40))          # June: outside the May ledger
    d = _vol(sctx, c2, 17, "丁")
    clock.now = T0 + timedelta(days=3)
    ids = [sv.record_attendance(sctx, act1.id, v.id, T0, T0 + timedelta(minutes=m)).id for v, m in ((a, 150), (b, 90))]
    sv.approve(sctx, ids)
    pending = sv.record_attendance(sctx, act2.id, c.id, T0 + timedelta(days=2), T0 + timedelta(days=2, hours=2))
    assert pending.status == "signed_out"                               # not approved: not counted
    # 100 minutes print as 1.67 hours, and the total adds what is printed
    sv.approve(sctx, [sv.record_attendance(sctx, act2.id, d.id, T0 + timedelta(days=2),
                                           T0 + timedelta(days=2, minutes=100)).id])
    sctx.session.flush()
    spec = ledgers.build_activities(sctx, {"month_from": date(2026, 5, 1)})
    rows = list(spec.rows)
    got = [(r[0], r[2], r[3], r[7], r[8], r[9], r[10], r[-1]) for r in rows]
    assert got == [(date(2026, 5, 10), "敬老院陪伴", "青石街道志愿服务站", 2, 4.0, "王队长", "李记录", "和平里社区"),
                   (date(2026, 5, 12), "河道清理", "青石街道志愿服务站", 1, 1.67, "王队长", "李记录", "幸福苑社区")]
    assert rows[0][1] == "09:00—12:00"
    assert spec.totals[0] == "合计：2 次" and spec.totals[7:9] == (3, 5.67)
    assert spec.period == "2026年5月1日至5月31日"
    worker = ServiceContext(sctx.session, actor_for(c1path, P_VIEW), clock)
    mine = ledgers.build_activities(worker, {"month_from": date(2026, 5, 1)})
    assert [r[2] for r in mine.rows] == ["敬老院陪伴"] and "和平里社区" in mine.unit_name + mine.scope
    spec = ledgers.build_activities(sctx, {"month_from": date(2026, 5, 1)})
    assert render_pdf(spec, tmp_path / "a.pdf").pages == 1
    spec = ledgers.build_activities(sctx, {"month_from": date(2026, 5, 1)})
    render_xlsx(spec, tmp_path / "a.xlsx")
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "a.xlsx").active
    values = [c.value for row in ws.iter_rows() for c in row]
    assert 4 in values or 4.0 in values                                  # 240 minutes as the number 4 (hours)


def test_star_ledger_groups_by_level_with_the_day_reached(sctx, areas, clock):
    (street, spath), (c1, c1path), (c2, _p2) = areas
    a, b, c = _vol(sctx, c1, 21, "一星甲"), _vol(sctx, c1, 23, "未评乙"), _vol(sctx, c2, 25, "二星丙")
    clock.now = T0 + timedelta(days=30)
    sv._post_hours(sctx, a.id, 90 * 60, "approve", date(2026, 3, 1), None)
    sv._post_hours(sctx, a.id, 20 * 60, "approve", date(2026, 4, 2), None)      # 110 h: 一星 on 4 月 2 日
    sv._post_hours(sctx, b.id, 30 * 60, "approve", date(2026, 4, 3), None)
    sv._post_hours(sctx, c.id, 310 * 60, "approve", date(2026, 2, 1), None)     # 310 h: 二星
    spec = ledgers.build_stars(sctx, {})
    rows = list(spec.rows)
    got = [(r[1], r[4], r[5], r[6], r[7], r[-1]) for r in rows]
    assert got == [("二星丙", 310.0, date(2026, 2, 1), "三星", 290.0, "二星"),
                   ("一星甲", 110.0, date(2026, 4, 2), "二星", 190.0, "一星"),
                   ("未评乙", 30.0, None, "一星", 70.0, "未评星")]
    assert spec.totals[0] == "合计：3 人" and spec.totals[4] == 450.0
    assert "二星 1 人；一星 1 人；未评星 1 人" in spec.notes[0]
    worker = ServiceContext(sctx.session, actor_for(c1path, P_VIEW), clock)
    assert [r[1] for r in ledgers.build_stars(worker, {}).rows] == ["一星甲", "未评乙"]
