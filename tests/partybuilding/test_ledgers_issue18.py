"""Issue 18 §2/§3, party building: the 介绍信's issuer and three parts, the 党费收缴台账 as member ×
month, and the new ledgers (采集表, 流动, 失联, 双报到, 三会一课汇总, 组织生活会/民主评议) — figures
against a hand count on a small street, and on the demo street as admin and as a community worker."""
from __future__ import annotations

from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from plugins.partybuilding import ledgers
from plugins.partybuilding import services as svc
from plugins.partybuilding.models import CommunityReport, Member, PartyOrg
from reports import render_document, render_pdf
from shell.core import auth
from shell.core.areas import scope_filter
from shell.core.context import Actor, ServiceContext
from shell.core.models import Area
from shell.errors import ValidationError

from .conftest import clock
from .test_plugin import demo, demo_template  # noqa: F401 - the demo street fixtures


def _rows(spec):
    return list(spec.rows)


# ----------------------------------------------------------------------------- the letter

def test_letter_is_issued_by_the_members_committee_and_never_by_a_branch(world, tree, tmp_path):
    c = world.ctx
    m = world.member(tree.g1, name="转出人", income_fen=500000)
    with pytest.raises(ValidationError, match="党支部，不能开具党员组织关系介绍信"):
        svc.issue_transfer_letter(c, m.id, "中共某某社区委员会", on=date(2026, 11, 2), issuer_org_id=tree.b1.id)
    with pytest.raises(ValidationError, match="党小组，不能开具"):
        svc.issue_transfer_letter(c, m.id, "中共某某社区委员会", on=date(2026, 11, 2), issuer_org_id=tree.g1.id)
    with pytest.raises(ValidationError, match="介绍信应由“中共东风社区委员会”开具"):
        svc.issue_transfer_letter(c, m.id, "中共某某社区委员会", on=date(2026, 11, 2), issuer_org_id=tree.top.id)
    assert svc.letter_issuer(world.session, tree.b3) == tree.top        # a 党总支 may not: the 党工委 issues
    t = svc.issue_transfer_letter(c, m.id, "中共某某社区委员会", on=date(2026, 11, 2), issuer_org_id=tree.dfc.id)
    doc = ledgers.transfer_letter(c, {"transfer": t.id})
    assert [p.title for p in doc.parts] == ["中国共产党党员组织关系介绍信（存根）", "中国共产党党员组织关系介绍信",
                                            "中国共产党党员组织关系介绍信回执"]
    assert doc.parts[1].closing[0] == "中共东风社区委员会" and doc.parts[2].salutation == "中共东风社区委员会："
    assert "由中共东风社区委员会东风一网格党支部1号楼党小组去中共某某社区委员会，请转接组织关系" in doc.parts[1].body[0]
    out = tmp_path / "letter.pdf"
    assert render_document(doc, out).pages == 1
    text = PdfReader(str(out)).pages[0].extract_text().replace(" ", "")
    assert text.count(t.letter_number) == 5        # each part's number and one on each 骑缝 line
    assert text.count("骑缝") == 2 and "盖章" in text and "特此回复" in text


def test_letter_without_a_committee_above_is_refused(world, tree):
    # the service never builds a branch without a parent; an imported or detached one still cannot issue
    lone = PartyOrg(id=999, name="独立党支部", kind="branch", level=3, path="/999/", area_id=world.g21.id)
    with pytest.raises(ValidationError, match="没有基层党委"):
        svc.letter_issuer(world.session, lone)


# ----------------------------------------------------------------------------- dues

def test_dues_ledger_is_member_by_month_with_arrears_and_branch_sums(world, tree):
    c = world.ctx
    a = world.member(tree.b1, name="全交", income_fen=600000, admitted=date(2010, 7, 1))      # 1.5 % → 90.00
    b = world.member(tree.b1, name="欠半年", income_fen=200000, admitted=date(2010, 7, 1))    # 0.5 % → 10.00
    s = world.member(tree.b2, name="学生党员", category="student", admitted=date(2010, 7, 1))  # 0.20
    for k in range(1, 11):   # to October (the clock is 2026-11-20: owed up to October)
        svc.record_payment(c, a.id, f"2026-{k:02d}", paid_on=date(2026, k, 15))
        svc.record_payment(c, s.id, f"2026-{k:02d}", paid_on=date(2026, k, 15))
    for k in range(1, 5):
        svc.record_payment(c, b.id, f"2026-{k:02d}", paid_on=date(2026, k, 15))
    spec = ledgers.dues_ledger(c, {"year": 2026})
    rows = {r[0]: r for r in _rows(spec)}
    titles = [col.title for col in spec.columns]
    months = titles.index("1月")
    assert rows["全交"][months:months + 12] == (9000,) * 10 + ("", "")
    assert rows["欠半年"][months:months + 12] == (1000,) * 4 + ("欠",) * 6 + ("", "")
    due, paid, owed, note = (titles.index(t) for t in ("应缴", "实缴", "欠缴月数", "备注"))
    assert (rows["欠半年"][due], rows["欠半年"][paid], rows["欠半年"][owed]) == (10000, 4000, 6)
    assert rows["欠半年"][note] == "连续6个月未交" and rows["全交"][note] == ""
    assert rows["全交"][titles.index("比例")] == "1.5%" and rows["学生党员"][titles.index("比例")] == "定额"
    assert rows["全交"][-1] == "中共东风社区委员会 / 东风一网格党支部"        # the group header, unambiguous
    assert spec.totals[titles.index("实缴")] == 90000 + 4000 + 200 and spec.totals[titles.index("欠缴月数")] == 6
    assert spec.subtotals and titles.index("实缴") in spec.subtotals
    assert "2026年1月1日至12月31日" in spec.period


# ----------------------------------------------------------------------------- the new ledgers, by hand

def test_new_party_ledgers_count_what_was_recorded(world, tree, tmp_path):
    c = world.ctx
    away = world.member(tree.b1, name="外出者")
    gone = world.member(tree.b3, name="失联者")
    near = world.member(tree.b3, name="刚失联")
    world.member(tree.b2, name="在家者")
    svc.set_mobile(c, away.id, "广东省深圳市", since=date(2026, 2, 10))
    svc.set_lost_contact(c, gone.id, date(2025, 12, 1))
    svc.set_lost_contact(c, near.id, date(2026, 9, 1))      # under six months: not yet 失联
    mob = ledgers.mobile_ledger(c, {})
    assert [(r[1], r[5], r[7]) for r in _rows(mob)] == [("外出者", "广东省深圳市", 9)]
    lost = ledgers.lost_ledger(c, {})
    rows = _rows(lost)
    assert [(r[1], r[8]) for r in rows] == [("失联者", 11)] and rows[0][-1] == "中共红旗社区总支部委员会 / 红旗一网格党支部"
    assert mob.period == "截至2026年11月20日" and lost.totals[1] == "1 人"
    # 双报到
    r1 = svc.register_report(c, area_id=world.c1.id, name="报到甲", workplace="区教育局", reported_on=date(2026, 3, 1))
    svc.register_report(c, area_id=world.c2.id, name="报到乙", workplace="区卫健委", reported_on=date(2026, 4, 1))
    svc.record_community_service(c, r1.id, date(2026, 5, 1), "垃圾分类宣传", 90)
    svc.record_community_service(c, r1.id, date(2026, 6, 1), "关爱老人", 120)
    rep = ledgers.community_report_ledger(c, {"year": 2026})
    got = [(r[0], r[6], r[7], r[-1]) for r in _rows(rep)]
    assert got == [("报到甲", 2, 210, "东风社区"), ("报到乙", 0, 0, "红旗社区")]
    assert rep.totals[6:8] == (2, 210)
    # 三会一课 and 组织生活会 / 民主评议
    people = [world.member(tree.b2, name=f"支部{k}") for k in range(3)]
    for mo in (1, 2, 3):
        svc.record_meeting(c, tree.b2.id, "theme_day", date(2026, mo, 10), f"{mo}月主题党日", host="张书记", recorder="李委员")
    svc.record_meeting(c, tree.b2.id, "life_meeting", date(2026, 1, 20), "2025年度组织生活会", host="张书记",
                       recorder="李委员", attendance=[(people[0].id, True), (people[1].id, False, "出差")])
    svc.record_meeting(c, tree.b2.id, "appraisal", date(2026, 1, 20), "2025年度民主评议党员", host="张书记", recorder="李委员")
    comp = ledgers.compliance_ledger(c, {"year": 2026})
    titles = [col.title for col in comp.columns]
    row = next(r for r in _rows(comp) if r[1] == "中共东风社区委员会 / 东风二网格党支部")
    assert (row[titles.index("主题党日应开")], row[titles.index("主题党日实开")]) == (11, 3)   # Jan … Nov
    assert (row[titles.index("组织生活会应开")], row[titles.index("组织生活会实开")]) == (1, 1)
    assert row[titles.index("缺项")] == 7 + 3 + 3          # theme days Apr–Oct, assemblies and lectures Q1–Q3
    life = ledgers.life_meeting_ledger(c, {"year": 2026})
    rows = _rows(life)
    assert [(r[2], r[4], r[5], r[6], r[7], r[8]) for r in rows] == [
        ("组织生活会", "张书记", "李委员", 2, 1, "支部1（出差）"), ("民主评议党员", "张书记", "李委员", None, None, "未登记出勤")]
    # the 三会一课 record: host and recorder by name, the attendance as recorded
    meet = {(r[1], r[0]): r for r in ledgers.meeting_ledger(c, {"year": 2026}).rows}
    assert meet["主题党日", date(2026, 1, 10)][3:8] == ("张书记", "李委员", None, None, "未登记出勤")
    assert meet["组织生活会", date(2026, 1, 20)][3:8] == ("张书记", "李委员", 2, 1, "支部1（出差）")
    assert meet["组织生活会", date(2026, 1, 20)][-1] == "中共东风社区委员会 / 东风二网格党支部"
    names = ledgers.OrgNames(world.session)
    assert names.label(tree.g1.id) == "中共东风社区委员会 / 东风一网格党支部 / 1号楼党小组"
    # the 采集表: the 16 items on one page with the three signatures
    form = ledgers.member_form(c, {"member": away.id})
    assert len(form.fields) == 16 and form.signature == ("党员本人", "信息采集人", "党支部书记")
    assert dict(form.fields)["是否流动"] == "是（广东省深圳市）"
    assert dict(form.fields)["所在党支部"] == "中共东风社区委员会东风一网格党支部"
    assert render_document(form, tmp_path / "form.pdf").pages == 1
    for spec in (mob, lost, rep, comp, life):
        spec.rows = iter(())  # consumed above; the layout of an empty ledger still renders
        assert render_pdf(spec, tmp_path / f"{spec.title}.pdf").pages == 1


# ----------------------------------------------------------------------------- the demo street, two users

NEW = ("partybuilding.mobile", "partybuilding.lost", "partybuilding.community_reports", "partybuilding.compliance",
       "partybuilding.life_meetings", "partybuilding.dues")


def test_new_ledgers_on_the_demo_street_hold_scope(demo):  # noqa: F811
    from .conftest import make_pm

    pm = make_pm()
    defs = {d.id: d for d in ledgers.report_definitions()}
    with demo.session_factory() as s:
        street = s.scalars(select(Area).where(Area.level == "street")).one()
        community = s.scalars(select(Area).where(Area.level == "community").order_by(Area.id)).first()
        perms = frozenset(auth.collect_permissions(pm))
        admin = Actor(user_id=None, username="admin", display_name="管理员", permissions=perms, scope_paths=(street.path,))
        worker = Actor(user_id=None, username="w", display_name="社区干部", permissions=perms, scope_paths=(community.path,))
        year = {"year": clock().year}
        counts = {}
        for who, actor in (("admin", admin), ("worker", worker)):
            ctx = ServiceContext(s, actor, clock)
            for rid in NEW:
                spec = defs[rid].builder(ctx, dict(year))
                counts[who, rid] = (spec, _rows(spec))
        # hand counts, straight from the tables
        in_scope = lambda actor: (select(func.count()).select_from(Member)  # noqa: E731
                                  .join(PartyOrg, PartyOrg.id == Member.org_id).where(scope_filter(PartyOrg.area_id, actor)))
        for who, actor in (("admin", admin), ("worker", worker)):
            assert len(counts[who, "partybuilding.mobile"][1]) == s.scalar(
                in_scope(actor).where(Member.mobile_destination.is_not(None)))
            assert len(counts[who, "partybuilding.community_reports"][1]) == s.scalar(
                select(func.count()).select_from(CommunityReport).where(scope_filter(CommunityReport.area_id, actor)))
            assert len(counts[who, "partybuilding.dues"][1]) >= s.scalar(
                in_scope(actor).where(Member.stage.in_(("probationary", "full")), Member.status == "normal"))
        comm_party = s.scalar(select(PartyOrg.name).where(PartyOrg.area_id == community.id, PartyOrg.level == 2))
        for rid in NEW:
            spec_a, rows_a = counts["admin", rid]
            spec_w, rows_w = counts["worker", rid]
            assert len(rows_w) <= len(rows_a), rid
            assert spec_w.unit_name == comm_party and community.name in spec_w.scope, (rid, spec_w.unit_name, spec_w.scope)
            assert spec_a.unit_name.endswith("工作委员会"), (rid, spec_a.unit_name)
        # the worker's branches are all in the worker's community
        labels = {r[1] for r in counts["worker", "partybuilding.compliance"][1]}
        assert labels and all(label.startswith(comm_party) for label in labels), labels
        assert {r[-1] for r in counts["worker", "partybuilding.community_reports"][1]} <= {community.name}
        assert len(counts["admin", "partybuilding.life_meetings"][1]) == 2 * s.scalar(
            select(func.count()).select_from(PartyOrg).where(PartyOrg.kind == "branch"))
