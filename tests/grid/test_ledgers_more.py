"""The grid ledgers of issue 18 §2 and §3 on a small fixture counted by hand: each as the street
(everything) and as a community worker (only 和平里社区), numbers from the spec and the printed PDF.

The fixture (all on 2025-06-16, FIXED_NOW; reports run today, so June's open events are overdue):
houses FW0001 出租 (王房东, g11, one tenant), FW0002 自住 (g11), FW0003 出租 (王房东 again, g21),
FW0004 空置 with a hazard (g12); households H1 (g11: 户主 赵大 registered after his son 赵小) and
H2 (g21: 钱一); an overseas resident past his expected departure (g11); three organisations (two in
g11, one with a Party organisation of 5); a 社区矫正 person in g11 visited twice in June and once in
May, and a 刑满释放 person in g21 visited once in June; disputes d1 (g11, closed, 成功), d2 (g11,
不予立案), d3 (g21, handled, 化解中), d4 (g21, closed with 化解中 noted: no final result); safety
events s1 (g11, sent back once, closed) and s2 (g21, registered, escalated once, open)."""
from __future__ import annotations

import dataclasses
import random
from datetime import date

import openpyxl
import pytest

from plugins.grid import ledgers, ledgers_more
from plugins.grid import services as svc
from plugins.grid.demo import _uscc
from reports import DocumentSpec
from shell.core.context import ServiceContext
from shell.errors import NotFound, ValidationError

from .conftest import ALL, actor, make_id
from .test_ledgers_demo_hooks import _generate, pdf_text

OWNER_ID = make_id(seq=601)


@pytest.fixture
def small(stree, grid_sqlite, ctx_for):
    return _fill(grid_sqlite, stree, ctx_for)


def _fill(db, stree, ctx_for):
    ctx = ctx_for(db, actor(stree.street))
    g11, g12, g21 = stree.g11.id, stree.g12.id, stree.g21.id
    h1 = svc.create_house(ctx, area_id=g11, code="FW0001", address="和平里3幢101室", house_use="出租", floor_area=60.5,
                          owner_name="王房东", owner_id_number=OWNER_ID, owner_phone="13700001111",
                          rental_pledge_on=date(2025, 3, 1))
    svc.create_house(ctx, area_id=g11, code="FW0002", address="和平里3幢102室", floor_area=80, owner_name="李业主")
    svc.create_house(ctx, area_id=g21, code="FW0003", address="幸福苑1幢201室", house_use="出租", floor_area=45.25,
                     owner_name="王房东", owner_id_number=OWNER_ID)
    svc.create_house(ctx, area_id=g12, code="FW0004", address="和平里5幢301室", house_use="空置",
                     hazard="电线老化", floor_area=70)
    tenant = svc.register_person(ctx, area_id=g11, name="张三", id_number=make_id(seq=603), kind="floating")
    svc.move_in(ctx, tenant.id, h1.id, date(2025, 1, 1), "租客", is_tenant=True)
    hh1 = svc.create_household(ctx, g11, "H1", "和平里3幢102室")
    son = svc.register_person(ctx, area_id=g11, name="赵小", id_number=make_id(seq=605))
    head = svc.register_person(ctx, area_id=g11, name="赵大", id_number=make_id(seq=607))
    svc.add_to_household(ctx, hh1.id, son.id, "子")
    svc.add_to_household(ctx, hh1.id, head.id, "户主")
    hh2 = svc.create_household(ctx, g21, "H2", "幸福苑2幢")
    qian = svc.register_person(ctx, area_id=g21, name="钱一", id_number=make_id(seq=609))
    svc.add_to_household(ctx, hh2.id, qian.id, "户主")
    svc.register_person(ctx, area_id=g11, name="约翰", id_number=make_id(seq=611), kind="overseas",
                        foreign_surname="SMITH", foreign_given_name="JOHN", nationality="826", visit_purpose="工作",
                        arrival_date=date(2025, 1, 5), expected_departure=date(2025, 6, 1))
    rng = random.Random(7)
    svc.register_organisation(ctx, area_id=g11, kind="非公有制经济组织", name="和平里超市", credit_code=_uscc(rng),
                              has_party_org=True, party_members=5, hazard="消防通道堵塞")
    svc.register_organisation(ctx, area_id=g11, kind="社会组织", name="和平里书画社", credit_code=_uscc(rng))
    svc.register_organisation(ctx, area_id=g21, kind="非公有制经济组织", name="幸福苑药店", credit_code=_uscc(rng))
    sp = svc.add_special(ctx, head.id, "correction", {"correction_type": "宣告缓刑", "correction_start": "2025-01-01",
                                                      "correction_end": "2026-01-01"}, helper="司法所刘", start=date(2025, 1, 1))
    svc.record_visit(ctx, sp.id, date(2025, 5, 20), "五月走访", visitor_name="吴网格员")
    svc.record_visit(ctx, sp.id, date(2025, 6, 2), "六月第一次", visitor_name="吴网格员")
    svc.record_visit(ctx, sp.id, date(2025, 6, 12), "六月第二次", visitor_name="吴网格员")
    sp2 = svc.add_special(ctx, qian.id, "released", {"release_date": "2024-12-01"}, start=date(2025, 1, 1))
    svc.record_visit(ctx, sp2.id, date(2025, 6, 10), "帮教谈话", visitor_name="孙网格员")
    cats = {c.name: c.id for c in svc.list_categories(ctx)}

    def event(area_id, cat, title, steps, **kw):
        ev = svc.report_event(ctx, area_id=area_id, category_id=cats[cat], title=title, **(
            dict(party_count=2, main_parties="甲、乙") if cat == "矛盾纠纷" else {}))
        for a in steps:
            svc.transition(ctx, ev.id, a, "意见", assignee="人民调解委员会", **kw)
        return ev

    event(g11, "矛盾纠纷", "d1漏水纠纷", ("register", "dispatch", "handle", "verify", "close"),
          mediation_method="人民调解", mediation_result="成功", satisfaction="满意")
    event(g11, "矛盾纠纷", "d2不予受理", ("reject",))
    event(g21, "矛盾纠纷", "d3噪音纠纷", ("register", "dispatch", "handle"), mediation_result="化解中")
    event(g21, "矛盾纠纷", "d4停车纠纷", ("register", "dispatch", "handle", "verify", "close"), mediation_result="化解中")
    event(g11, "安全隐患", "s1楼道堆物", ("register", "dispatch", "send_back", "dispatch", "handle", "verify", "close"))
    event(g21, "安全隐患", "s2燃气老化", ("register", "escalate"))
    ctx.session.commit()
    return db


STREET, COMMUNITY = "street", "community"


def _spec(db, stree, who, builder, **params):
    a = actor(stree.street) if who == STREET else actor(stree.c1)
    with db.session_factory() as s:
        spec = builder(ServiceContext(s, a), params)
        rows = list(spec.items.rows) if isinstance(spec, DocumentSpec) else list(spec.rows)
        return spec, rows


JUNE = dict(start=date(2025, 6, 1), end=date(2025, 6, 30))


def test_houses_ledger(small, stree):
    spec, rows = _spec(small, stree, STREET, ledgers_more.houses_ledger)
    assert [r[0] for r in rows] == ["FW0001", "FW0002", "FW0004", "FW0003"]   # by grid, then code
    assert spec.totals[1] == "4 处" and spec.totals[3] == 255.75 and spec.totals[8] == 1
    assert "自住 1 处，出租 2 处，空置 1 处" in spec.notes[0] and "现住 1 人" in spec.notes[0]
    assert spec.unit_name == "青石街道办事处" and spec.period.startswith("截至")
    spec, rows = _spec(small, stree, COMMUNITY, ledgers_more.houses_ledger)
    assert [r[0] for r in rows] == ["FW0001", "FW0002", "FW0004"] and spec.totals[1] == "3 处"
    assert spec.scope == "和平里社区" and "和平里社区" in spec.unit_name
    spec, rows = _spec(small, stree, STREET, ledgers_more.houses_ledger, use="出租")
    assert [r[0] for r in rows] == ["FW0001", "FW0003"] and spec.title == "实有房屋台账（出租）"


def test_organisations_and_overseas_ledgers(small, stree):
    spec, rows = _spec(small, stree, STREET, ledgers_more.organisations_ledger)
    assert sorted(r[0] for r in rows) == ["和平里书画社", "和平里超市", "幸福苑药店"]
    assert spec.totals[1] == "3 个" and spec.totals[9] == 5 and "建有党组织的 1 个，党员 5 名" in spec.notes[0]
    assert "非公有制经济组织 2 个，社会组织 1 个" in spec.notes[0]
    spec, rows = _spec(small, stree, COMMUNITY, ledgers_more.organisations_ledger)
    assert sorted(r[0] for r in rows) == ["和平里书画社", "和平里超市"]
    spec, rows = _spec(small, stree, STREET, ledgers_more.overseas_ledger)
    assert [(r[0], r[1], r[9]) for r in rows] == [("约翰", "SMITH JOHN", "逾期未离开")]
    assert "在册境外人员 1 人，其中超过预计离开日期仍在册的 1 人" in spec.notes[0]
    assert _spec(small, stree, COMMUNITY, ledgers_more.overseas_ledger)[1] == rows
    assert _spec_c2(small, stree, ledgers_more.overseas_ledger) == []   # 幸福苑 has none


def _spec_c2(db, stree, builder, **params):
    with db.session_factory() as s:
        return list(builder(ServiceContext(s, actor(stree.c2)), params).rows)


def test_households_ledger_puts_the_head_first(small, stree):
    spec, rows = _spec(small, stree, STREET, ledgers_more.households_ledger)
    # 赵小 was registered (and added) before his father; the 户主 still leads the household
    assert [(r[-1].split("　")[0], r[0], r[1]) for r in rows] == [
        ("户号 H1", "户主", "赵大"), ("户号 H1", "子", "赵小"), ("户号 H2", "户主", "钱一")]
    assert spec.totals[:3] == ("合计", "2 户", "3 人") and spec.group_by is not None
    spec, rows = _spec(small, stree, COMMUNITY, ledgers_more.households_ledger)
    assert [r[1] for r in rows] == ["赵大", "赵小"] and spec.totals[1] == "1 户"


def test_visits_ledger(small, stree):
    spec, rows = _spec(small, stree, STREET, ledgers_more.visits_ledger, **JUNE)
    assert [(r[0], r[1], r[-1]) for r in rows] == [
        (date(2025, 6, 10), "钱一", "刑满释放人员"), (date(2025, 6, 2), "赵大", "社区矫正人员"),
        (date(2025, 6, 12), "赵大", "社区矫正人员")]
    assert "本期走访（帮教）3 人次，涉及 2 人" in spec.notes[0] and spec.count_unit == "次"
    spec, rows = _spec(small, stree, COMMUNITY, ledgers_more.visits_ledger, **JUNE)
    assert [r[7] for r in rows] == ["六月第一次", "六月第二次"]
    spec, rows = _spec(small, stree, STREET, ledgers_more.visits_ledger, group="released", **JUNE)
    assert [r[1] for r in rows] == ["钱一"] and spec.title == "刑满释放人员走访（帮教）记录"


def test_hazards_ledger_comes_from_safety_events(small, stree):
    spec, rows = _spec(small, stree, STREET, ledgers_more.hazards_ledger, **JUNE)
    assert [(r[3], r[9], r[11]) for r in rows] == [("s1楼道堆物", "已整治销号", "按期"), ("s2燃气老化", "待整治", "超期")]
    assert ("本期排查发现安全隐患 2 处，已整治销号 1 处（其中按期 1 处），整治中 1 处（其中超期 1 处），不予立案 0 处；"
            "整治率 50.00%") in spec.notes[0]
    assert "“安全隐患”类事件生成" in spec.notes[1] and "房屋 1 处、单位 1 个" in spec.notes[1]
    spec, rows = _spec(small, stree, COMMUNITY, ledgers_more.hazards_ledger, **JUNE)
    assert [r[3] for r in rows] == ["s1楼道堆物"] and "房屋 1 处、单位 1 个" in spec.notes[1]


def test_disputes_ledger_status_summary_and_zero_report(small, stree):
    spec, rows = _spec(small, stree, STREET, ledgers.disputes_ledger, **JUNE)
    shown = {r[1]: (r[8], r[10] is not None, r[11], r[12]) for r in rows}
    assert shown == {"d1漏水纠纷": ("成功", True, "满意", "已办结"), "d2不予受理": ("不予受理", False, "", "不予受理"),
                     "d3噪音纠纷": ("化解中", False, "", "处置"),
                     "d4停车纠纷": ("已办结（未登记结果）", True, "", "已办结")}
    assert spec.totals[1] == "排查 4 件" and spec.totals[3] == 8 and spec.totals[6] == "调处 3 件"
    assert spec.totals[8] == "成功 1 件"
    assert "调处数 3 件，化解成功数 1 件，调处成功率 33.33%" in spec.notes[0] and "零报告" not in spec.notes[0]
    assert "化解中 1 件，化解失败 0 件，已办结但未登记化解结果 1 件" in spec.notes[0]
    spec, rows = _spec(small, stree, COMMUNITY, ledgers.disputes_ledger, **JUNE)
    assert sorted(r[1] for r in rows) == ["d1漏水纠纷", "d2不予受理"] and "调处成功率 100.00%" in spec.notes[0]
    spec, rows = _spec(small, stree, STREET, ledgers.disputes_ledger, start=date(2025, 5, 1), end=date(2025, 5, 31))
    assert rows == [] and "零报告" in spec.empty_text and "零报告" in spec.notes[0] and spec.totals is None


def test_events_ledger_note_agrees_with_its_rows(small, stree):
    spec, rows = _spec(small, stree, STREET, ledgers.events_ledger, **JUNE)
    titles = [c.title for c in spec.columns]
    assert {"派遣对象", "督办", "退回"} <= set(titles)
    by = {r[2]: dict(zip(titles, r, strict=True)) for r in rows}
    assert by["s1楼道堆物"]["退回"] == 1 and by["s2燃气老化"]["督办"] == 1 and by["d1漏水纠纷"]["派遣对象"] == "人民调解委员会"
    assert len(rows) == 6 and sum(1 for r in rows if r[12] == "结案") == 3
    assert ("本期上报的事件 6 件：已立案 5 件，不予立案 1 件，待立案 0 件。已立案事件中结案 3 件，结案率 60.00%；"
            "按期结案 3 件，按期结案率 60.00%；在办超期 2 件；被督办 1 件；退回 1 次。") in spec.notes[0]


def test_dispute_check_monthly_zero_report(small, stree):
    spec, rows = _spec(small, stree, STREET, ledgers_more.dispute_check_ledger, month=date(2025, 6, 1))
    assert [(r[0], r[1], r[2], r[4], r[5], r[9]) for r in rows] == [
        ("和平里社区", "第一网格", 2, 1, 1, ""), ("和平里社区", "第二网格", 0, 0, 0, "零报告"),
        ("幸福苑社区", "第一网格", 2, 2, 0, ""), ("幸福苑社区", "第二网格", 0, 0, 0, "零报告")]
    assert spec.totals == ("合计", "4 个网格", 4, 1, 3, 1, 1, 0, "33.33%", "2 个")
    assert "（另有已办结未登记化解结果 1 件）" in spec.notes[0]
    assert spec.period == "2025年6月1日至6月30日" and spec.title == "月度矛盾纠纷排查表"
    spec, rows = _spec(small, stree, COMMUNITY, ledgers_more.dispute_check_ledger, month=date(2025, 5, 1))
    assert [r[9] for r in rows] == ["零报告", "零报告"] and spec.title == "月度矛盾纠纷排查表（零报告）"
    assert spec.notes[0] == "经排查，本月辖区内未发现矛盾纠纷，特此零报告。"


def test_overdue_ledger(small, stree):
    spec, rows = _spec(small, stree, STREET, ledgers_more.overdue_ledger, **JUNE)
    assert [(r[2], r[6], r[9]) for r in rows] == [("d3噪音纠纷", "在办", None), ("s2燃气老化", "在办", 1)]
    assert all(r[8] and r[8] > 300 for r in rows)  # open since June 2025, counted to today
    assert spec.totals[1] == "2 件" and spec.totals[9] == 1
    assert "超期在办 2 件、超期结案 0 件，被督办 1 件（1 次）" in spec.notes[0]
    spec, rows = _spec(small, stree, COMMUNITY, ledgers_more.overdue_ledger, **JUNE)
    assert rows == []


def test_monthly_stats_agree_with_the_indicator_service(small, stree):
    spec, rows = _spec(small, stree, STREET, ledgers_more.monthly_stats_ledger, month=date(2025, 6, 1))
    assert [r[:7] for r in rows] == [("和平里社区", 2, 2, "100.00%", 2, "100.00%", 0),
                                     ("幸福苑社区", 3, 1, "33.33%", 1, "33.33%", 2)]
    assert spec.totals[:7] == ("合计", 5, 3, "60.00%", 3, "60.00%", 2)
    with small.session_factory() as s:
        table, total = svc.indicator_breakdown(ServiceContext(s, actor(stree.street)), date(2025, 6, 1),
                                               date(2025, 6, 30), "community")
    assert [(label, i.due, i.closed, i.on_time) for label, i in table] == [(r[0], r[1], r[2], r[4]) for r in rows]
    assert (total.due, total.closed, total.on_time) == (5, 3, 3)
    spec, rows = _spec(small, stree, COMMUNITY, ledgers_more.monthly_stats_ledger, month=date(2025, 6, 1))
    assert [r[0] for r in rows] == ["和平里社区"] and spec.totals[1] == 2
    spec, rows = _spec(small, stree, STREET, ledgers_more.monthly_stats_ledger, month=date(2025, 5, 1))
    assert [r[1] for r in rows] == [0, 0] and rows[0][3] == "—"   # every community has its line


def test_rental_pledge_one_per_landlord(small, stree, tmp_path):
    spec, rows = _spec(small, stree, STREET, ledgers_more.pledge_document, house="FW0001")
    assert [r[0] for r in rows] == ["FW0001", "FW0003"] and rows[0][3] == 1
    fields = dict(spec.fields)
    assert fields["出租人"] == "王房东" and fields["出租房屋"] == "2 处" and fields["上次签订"] == "2025年3月1日"
    assert fields["身份证号"] != OWNER_ID and fields["身份证号"].endswith(OWNER_ID[-4:])  # no full_view: masked
    assert spec.signature == ("出租人", "网格员") and spec.date is None
    spec, rows = _spec(small, stree, COMMUNITY, ledgers_more.pledge_document, house="FW0001")
    assert [r[0] for r in rows] == ["FW0001"] and "和平里社区" in spec.unit_name
    with pytest.raises(ValidationError, match="不是出租房屋"):
        _spec(small, stree, STREET, ledgers_more.pledge_document, house="FW0002")
    with pytest.raises(NotFound):
        _spec(small, stree, COMMUNITY, ledgers_more.pledge_document, house="FW0003")
    full = actor(stree.street, codes=ALL | {"core.personal.full_view"})
    text = pdf_text(_generate(small, full, "grid.rental_pledge", tmp_path, house="FW0001"))
    assert OWNER_ID in text and "出租房屋治安责任书" in text.replace(" ", "") and "盖章" in text


NEW = ("grid.houses", "grid.organisations", "grid.overseas", "grid.households", "grid.visits", "grid.hazards",
       "grid.dispute_check", "grid.overdue", "grid.monthly_stats")


@pytest.mark.parametrize("report_id", NEW)
def test_new_ledgers_print_pdf_and_xlsx_in_scope(small, stree, tmp_path, report_id):
    params = {"start": "2025-06-01", "end": "2025-06-30"} if report_id in ("grid.visits", "grid.hazards", "grid.overdue") \
        else {"month": "2025-06"} if report_id in ("grid.dispute_check", "grid.monthly_stats") else {}
    for who in (actor(stree.street), actor(stree.c1)):
        exporter = dataclasses.replace(who, permissions=who.permissions | {"core.data.export"})
        text = pdf_text(_generate(small, exporter, report_id, tmp_path, **params))
        assert "第 1 页 共" in text and "填表人" in text
        if who.scope_paths == (stree.c1.path,):
            assert "幸福苑" not in text and "钱一" not in text and "FW0003" not in text, report_id
        xlsx = _generate(small, exporter, report_id, tmp_path, suffix=".xlsx", **params)
        ws = openpyxl.load_workbook(xlsx, read_only=True).worksheets[0]
        typed = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, (int, float, date))]
        assert typed or who.scope_paths == (stree.c1.path,), report_id  # numbers and dates written as such


def test_registered_with_chinese_titles():
    defs = {d.id: d for d in ledgers.definitions() + ledgers_more.definitions()}
    assert set(NEW) | {"grid.rental_pledge"} <= set(defs)
    assert all(d.category == "网格化管理" for d in defs.values())
    assert defs["grid.households"].title == "户籍人口台账（按户）"
    assert defs["grid.dispute_check"].title == "月度矛盾纠纷排查（零报告）表"


def test_the_counts_hold_on_postgresql(grid_pg, ctx_for):
    """The queries with CASE, boolean sums, NULLS ordering and DISTINCT counts, on PostgreSQL."""
    from .conftest import build_tree

    tree = build_tree(grid_pg)
    db = _fill(grid_pg, tree, ctx_for)
    spec, rows = _spec(db, tree, STREET, ledgers_more.households_ledger)
    assert [r[1] for r in rows] == ["赵大", "赵小", "钱一"] and spec.totals[1:3] == ("2 户", "3 人")
    spec, rows = _spec(db, tree, COMMUNITY, ledgers_more.houses_ledger)
    assert [r[0] for r in rows] == ["FW0001", "FW0002", "FW0004"] and spec.totals[3] == 210.5
    spec, _ = _spec(db, tree, STREET, ledgers_more.organisations_ledger)
    assert "建有党组织的 1 个，党员 5 名" in spec.notes[0]
    spec, rows = _spec(db, tree, STREET, ledgers_more.visits_ledger, **JUNE)
    assert [r[-1] for r in rows] == ["刑满释放人员", "社区矫正人员", "社区矫正人员"]
    spec, _ = _spec(db, tree, STREET, ledgers_more.dispute_check_ledger, month=date(2025, 6, 1))
    assert spec.totals[2:6] == (4, 1, 3, 1)
    spec, _ = _spec(db, tree, STREET, ledgers_more.monthly_stats_ledger, month=date(2025, 6, 1))
    assert spec.totals[:7] == ("合计", 5, 3, "60.00%", 3, "60.00%", 2)
    spec, _ = _spec(db, tree, STREET, ledgers.events_ledger, **JUNE)
    assert "已立案 5 件，不予立案 1 件" in spec.notes[0] and "退回 1 次" in spec.notes[0]
    spec, rows = _spec(db, tree, STREET, ledgers_more.overseas_ledger)
    assert len(rows) == 1 and "其中超过预计离开日期仍在册的 1 人" in spec.notes[0]
