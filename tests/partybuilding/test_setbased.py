"""The dues arrears and the meeting compliance are set-based: a fixed number of SQL statements
whatever the number of members or meetings (counted with a ``before_cursor_execute`` listener), and
the same months as worked out by hand — on SQLite and PostgreSQL, since the owing window of each
member is compared in SQL (the month of a date is dialect-specific)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Member, Transfer
from shell.core import settings as core_settings
from shell.core.context import Actor, ServiceContext

from .conftest import clock


@contextmanager
def counting(db):
    """Count the SQL statements sent to ``db`` inside the block: ``with counting(db) as n: …; n[0]``."""
    n = [0]

    def count(*_a, **_k):
        n[0] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield n
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def fresh():
    """``fresh(db, actor=None)``: a service context on a new session, so nothing comes from an identity
    map filled by the setup; the sessions are closed before the database goes away."""
    sessions = []

    def make(db, actor=None) -> ServiceContext:
        sessions.append(db.session_factory())
        return ServiceContext(sessions[-1], actor or Actor.system(), clock)

    yield make
    for s in sessions:
        s.close()


def small_tree(w):
    c = w.ctx
    top = svc.create_org(c, "中共幸福街道工作委员会", "working_committee", area_id=w.street.id, founded_on=date(2005, 1, 1))
    com = svc.create_org(c, "中共东风社区委员会", "community_committee", top.id, w.c1.id, founded_on=date(2005, 1, 1))
    b1 = svc.create_org(c, "东风一网格党支部", "branch", com.id, w.g11.id, founded_on=date(2010, 1, 1),
                        has_committee=True, committee_size=3, committee_elected_on=date(2023, 5, 1))
    b2 = svc.create_org(c, "东风二网格党支部", "branch", com.id, w.g12.id, founded_on=date(2010, 1, 1))
    g1 = svc.create_org(c, "1号楼党小组", "group", b1.id, founded_on=date(2015, 1, 1))
    return top, com, b1, b2, g1


def pay(w, member, *months):
    for mo in months:
        svc.record_payment(w.ctx, member.id, mo, paid_on=date(2026, 11, 1))


# ----------------------------------------------------------------------------- the months, by hand

def test_arrears_months_on_a_hand_built_fixture(anyworld, fresh):
    w = anyworld
    top, com, b1, b2, _g1 = small_tree(w)
    jan = date(2026, 1, 1)
    holes = w.member(b1, name="有缺月", joined_on=jan, income_fen=200000)          # 10.00 元 a month
    pay(w, holes, "2026-01", "2026-02", "2026-03", "2026-05", "2026-06", "2026-09")
    w.member(b2, name="从未交", joined_on=date(2026, 6, 15), category="student")
    paid_up = w.member(b1, name="全交", joined_on=jan, category="student")
    pay(w, paid_up, *svc.month_range("2026-01", "2026-11"))
    late = w.member(b1, name="前欠后清", joined_on=jan, category="student")
    pay(w, late, *svc.month_range("2026-04", "2026-11"))
    prob = w.member(b1, stage="probationary", admitted=date(2026, 8, 20), name="预备", category="student")
    pay(w, prob, "2026-09")
    # Back after a transfer: paid here in January–March, came back in with dues paid to May; the
    # old payments lie before the window, July and September inside it (a hole: August).
    back = w.member(b2, name="转回", joined_on=jan, category="student")
    pay(w, back, "2026-01", "2026-02", "2026-03", "2026-07", "2026-09")
    w.session.add(Transfer(direction="in", member_id=back.id, other_party="外区", issued_on=date(2026, 6, 1),
                           dues_paid_to="2026-05", status="registered"))
    before_rolls = w.member(b2, name="后编入", joined_on=date(2026, 3, 10), category="student")
    pay(w, before_rolls, "2025-12", "2026-01", "2026-02", "2026-03")          # before the rolls: not counted
    suspended = w.member(b1, name="停止党籍", joined_on=jan)
    svc.set_status(w.ctx, suspended.id, "suspended")
    w.member(b1, stage="applicant", name="申请人")
    w.session.commit()

    rows = {a.member.name: (a.months, a.trailing, a.flagged, a.amount_fen)
            for a in svc.arrears(fresh(w.db), upto="2026-11")}
    assert rows == {
        "有缺月": (["2026-04", "2026-07", "2026-08", "2026-10", "2026-11"], 2, False, 5 * 1000),
        "从未交": (svc.month_range("2026-06", "2026-11"), 6, True, 6 * 20),
        "前欠后清": (["2026-01", "2026-02", "2026-03"], 0, False, 3 * 20),
        "预备": (["2026-08", "2026-10", "2026-11"], 2, False, 3 * 20),
        "转回": (["2026-06", "2026-08", "2026-10", "2026-11"], 2, False, 4 * 20),
        "后编入": (["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"],
                 8, True, 8 * 20),
    }
    # An earlier reference month, one organisation's subtree, and the ledger's first month.
    early = {a.member.name: a.months for a in svc.arrears(fresh(w.db), upto="2026-04", org_id=b1.id)}
    assert early == {"有缺月": ["2026-04"], "前欠后清": ["2026-01", "2026-02", "2026-03"]}
    since = next(d for d in svc.SETTINGS if d.key == "partybuilding.dues.since")
    core_settings.set_value(w.ctx, since, "2026-03")
    w.session.commit()
    later = {a.member.name: (a.months, a.trailing) for a in svc.arrears(fresh(w.db), upto="2026-11")}
    assert later["前欠后清"] == (["2026-03"], 0)
    assert later["有缺月"] == (["2026-04", "2026-07", "2026-08", "2026-10", "2026-11"], 2)
    assert "全交" not in later and later["从未交"][1] == 6
    # The 党费收缴 sheet and the member card agree with the list.
    sheet = {r.name: (r.trailing, r.flagged, r.paid_fen) for r in svc.dues_sheet(fresh(w.db), com.id, "2026-11")}
    assert sheet["从未交"] == (6, True, None) and sheet["全交"] == (0, False, 20)
    assert sheet["有缺月"] == (2, False, None) and "停止党籍" not in sheet and "申请人" not in sheet
    card = svc.member_card(fresh(w.db), holes.id)
    assert card.arrears.months == ["2026-04", "2026-07", "2026-08", "2026-10", "2026-11"]
    assert card.monthly_dues_fen == 1000
    assert svc.member_card(fresh(w.db), paid_up.id).arrears is None


# ----------------------------------------------------------------------------- statement counts

def _crowd(w, org, n, tag):
    """``n`` members with every kind of dues history: paid up, behind, with holes, never paid."""
    for i in range(n):
        m = w.member(org, name=f"{tag}{i}", joined_on=date(2026, 1, 1), category="student")
        months = svc.month_range("2026-01", "2026-11")
        kind = i % 4
        if kind == 1:
            months = months[:-3]
        elif kind == 2:
            months = months[:4] + months[6:]
        elif kind == 3:
            months = []
        pay(w, m, *months)


def test_arrears_statements_do_not_grow_with_members(sdb, fresh):
    from .conftest import World

    w = World(sdb)
    try:
        _top, com, b1, b2, _g1 = small_tree(w)
        _crowd(w, b1, 4, "甲")
        w.session.commit()
        ctx = fresh(w.db)
        with counting(w.db) as few:
            assert len(svc.arrears(ctx, upto="2026-11")) == 3
        _crowd(w, b2, 40, "乙")
        w.session.commit()
        ctx = fresh(w.db)
        with counting(w.db) as many:
            assert len(svc.arrears(ctx, upto="2026-11")) == 3 + 30
        assert many[0] == few[0] <= 3, (few[0], many[0])
        # The 党费收缴 sheet of the community and the 党员提醒 lists: fixed as well.
        ctx = fresh(w.db)
        with counting(w.db) as sheet_few:
            assert len(svc.dues_sheet(ctx, b1.id, "2026-11")) == 4
        ctx = fresh(w.db)
        with counting(w.db) as sheet_many:
            assert len(svc.dues_sheet(ctx, com.id, "2026-11")) == 44
        assert sheet_many[0] == sheet_few[0] <= 8, (sheet_few[0], sheet_many[0])   # + a query per 500 members
    finally:
        w.close()


def test_alerts_lists_statements_do_not_grow_with_members(sdb, pm):
    from plugins.partybuilding.views.alerts_page import load_alerts
    from shell.core.context import AppContext

    from .conftest import World

    w = World(sdb)
    try:
        _top, _com, b1, b2, _g1 = small_tree(w)
        _crowd(w, b1, 4, "甲")
        w.session.commit()
        app = AppContext(w.db.session_factory, Actor.system(), pm, clock=clock)
        with counting(w.db) as few:
            assert len(load_alerts(app).arrears) == 3
        _crowd(w, b2, 40, "乙")
        w.session.commit()
        with counting(w.db) as many:
            data = load_alerts(app)
        assert len(data.arrears) == 33 and sum(1 for r in data.arrears if r[-1]) == 11
        assert many[0] == few[0], (few[0], many[0])
        assert data.arrears[0][1:3] == ("甲3", "中共东风社区委员会 / 东风一网格党支部")
    finally:
        w.close()


def test_member_scope_and_org_filter(anyworld, fresh):
    """A community user sees only the arrears of that community's organisations."""
    w = anyworld
    _top, _com, b1, _b2, _g1 = small_tree(w)
    hq = svc.create_org(w.ctx, "中共红旗社区委员会", "community_committee", _top.id, w.c2.id, founded_on=date(2005, 1, 1))
    hb = svc.create_org(w.ctx, "红旗一网格党支部", "branch", hq.id, w.g21.id, founded_on=date(2010, 1, 1))
    w.member(b1, name="东风欠交", joined_on=date(2026, 10, 1), category="student")
    w.member(hb, name="红旗欠交", joined_on=date(2026, 10, 1), category="student")
    w.session.commit()
    everyone = {a.member.name for a in svc.arrears(fresh(w.db), upto="2026-11")}
    assert everyone == {"东风欠交", "红旗欠交"}
    local = Actor(None, "sq", "社区干事", permissions=frozenset({svc.VIEW}), scope_paths=(w.c2.path,))
    ctx = fresh(w.db, local)
    assert [a.member.name for a in svc.arrears(ctx, upto="2026-11")] == ["红旗欠交"]
    assert isinstance(svc.arrears(ctx, upto="2026-11")[0].member, Member)


# ----------------------------------------------------------------------------- meeting compliance

def _committee_meetings(w, branch, members, months, quorum=True):
    for mo in months:
        svc.record_meeting(w.ctx, branch.id, "committee", date(2025, mo, 10), f"{mo}月支委会",
                           attendance=[svc.AttendanceEntry(m.id, quorum or k == 0, "" if quorum or k == 0 else "出差")
                                       for k, m in enumerate(members)])


def test_compliance_statements_do_not_grow_with_meetings(anyworld, fresh):
    w = anyworld
    _top, _com, b1, b2, g1 = small_tree(w)
    members = [w.member(b1, name=f"委员{i}", joined_on=date(2024, 1, 1)) for i in range(3)]
    _committee_meetings(w, b1, members, [1])
    w.session.commit()
    on = date(2025, 12, 31)
    with counting(w.db) as few:
        before = svc.compliance(fresh(w.db), 2025, on=on)
    # A year of meetings: 支委会 with and without a quorum, 党小组会, 主题党日.
    _committee_meetings(w, b1, members, range(2, 10))
    _committee_meetings(w, b1, members, range(10, 13), quorum=False)
    for mo in range(1, 13):
        svc.record_meeting(w.ctx, g1.id, "group", date(2025, mo, 5), f"{mo}月党小组会")
        svc.record_meeting(w.ctx, b2.id, "theme_day", date(2025, mo, 5), f"{mo}月主题党日")
    w.session.commit()
    with counting(w.db) as many:
        rows = svc.compliance(fresh(w.db), 2025, on=on)
    assert many[0] == few[0] <= 6, (few[0], many[0])
    assert len(rows) == len(before)
    committee = {r.period_label: (r.held, r.status) for r in rows if r.org_id == b1.id and r.kind == "committee"}
    assert committee["2025年1月"] == (1, "ok") and committee["2025年9月"] == (1, "ok")
    assert committee["2025年10月"] == (0, "missing")          # only 1 of 3 present: no quorum
    assert all(r.status == "ok" for r in rows if r.org_id == g1.id and r.kind == "group")
    assert all(r.status == "ok" for r in rows if r.org_id == b2.id and r.kind == "theme_day")
    # One organisation's subtree and one quarter: the same counts, also a fixed number of statements.
    with counting(w.db) as sub:
        q4 = svc.compliance(fresh(w.db), 2025, quarter=4, org_id=b1.id, on=on)
    assert sub[0] <= 8
    assert {(r.org_id, r.kind, r.period_label): r.held for r in q4} == \
        {(r.org_id, r.kind, r.period_label): r.held for r in rows
         if r.org_id in (b1.id, g1.id) and r.period_label in ("2025年10月", "2025年11月", "2025年12月", "2025年第4季度")}
    assert svc.meeting_progress(fresh(w.db), 2025, on=on)
