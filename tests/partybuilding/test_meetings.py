from datetime import date

import pytest

from plugins.partybuilding import services as svc
from plugins.partybuilding.services import AttendanceEntry as A
from shell.errors import ValidationError


def _status(rows, org_id, kind):
    return [(r.period_label, r.held, r.status) for r in rows if r.org_id == org_id and r.kind == kind]


def test_record_meeting_attendance_rules(world, tree):
    c = world.ctx
    a, b = world.member(tree.b1, name="甲"), world.member(tree.g1, name="乙")
    other = world.member(tree.b2, name="丙")
    with pytest.raises(ValidationError, match="缺席原因"):
        svc.record_meeting(c, tree.b1.id, "assembly", date(2026, 9, 1), "党员大会", attendance=[A(a.id, False)])
    with pytest.raises(ValidationError, match="不是“东风一网格党支部”的成员"):
        svc.record_meeting(c, tree.b1.id, "assembly", date(2026, 9, 1), "党员大会", attendance=[A(other.id)])
    with pytest.raises(ValidationError, match="党小组会应记在党小组下"):
        svc.record_meeting(c, tree.b1.id, "group", date(2026, 9, 1), "学习")
    with pytest.raises(ValidationError, match="未设委员会"):
        svc.record_meeting(c, tree.b2.id, "committee", date(2026, 9, 1), "支委会")
    with pytest.raises(ValidationError, match="会议主题"):
        svc.record_meeting(c, tree.b1.id, "assembly", date(2026, 9, 1), " ")
    with pytest.raises(ValidationError, match="不能晚于今天"):
        svc.record_meeting(c, tree.b1.id, "assembly", date(2026, 12, 1), "x")
    with pytest.raises(ValidationError, match="重复"):
        svc.record_meeting(c, tree.b1.id, "assembly", date(2026, 9, 1), "x", attendance=[A(a.id), A(a.id)])
    mt = svc.record_meeting(c, tree.b1.id, "assembly", date(2026, 9, 1), "第三季度党员大会", host="书记", recorder="委员",
                            minutes="传达学习……", attendance=[A(a.id), (b.id, False, "出差")])
    rows = svc.attendance_of(world.session, mt.id)
    assert [(m.name, at.present, at.absence_reason) for at, m in rows] == [("甲", True, None), ("乙", False, "出差")]


def test_committee_quorum(world, tree):
    c = world.ctx
    ms = [world.member(tree.b1) for _ in range(3)]  # committee of 3
    ok = svc.record_meeting(c, tree.b1.id, "committee", date(2026, 10, 8), "支委会",
                            attendance=[A(ms[0].id), A(ms[1].id), A(ms[2].id, False, "病假")])
    thin = svc.record_meeting(c, tree.b1.id, "committee", date(2026, 9, 8), "支委会",
                              attendance=[A(ms[0].id), A(ms[1].id, False, "出差"), A(ms[2].id, False, "病假")])
    assert svc.quorum_met(world.session, ok) and not svc.quorum_met(world.session, thin)
    rows = svc.compliance(c, 2026, quarter=3, on=date(2026, 11, 20))
    # September's only 支委会 lacked a quorum: it does not count.
    assert ("2026年9月", 0, "missing") in _status(rows, tree.b1.id, "committee")


def test_compliance_on_a_hand_built_quarter(world, tree):
    """Q3 2026 for 东风一网格党支部 (has a committee) and its 党小组; 东风二网格党支部 holds nothing."""
    c = world.ctx
    b1, g1 = tree.b1.id, tree.g1.id
    for month in (7, 8, 9):
        svc.record_meeting(c, b1, "theme_day", date(2026, month, 5), f"{month}月主题党日")
    for month in (7, 9):                   # August's 支委会 is missing
        svc.record_meeting(c, b1, "committee", date(2026, month, 10), f"{month}月支委会")
    svc.record_meeting(c, b1, "assembly", date(2026, 9, 25), "季度党员大会")
    # no 党课 this quarter
    for month in (7, 8):                   # September's 党小组会 is missing
        svc.record_meeting(c, g1, "group", date(2026, month, 12), "小组学习")
    rows = svc.compliance(c, 2026, quarter=3, on=date(2026, 11, 20))
    assert _status(rows, b1, "theme_day") == [("2026年7月", 1, "ok"), ("2026年8月", 1, "ok"), ("2026年9月", 1, "ok")]
    assert _status(rows, b1, "committee") == [("2026年7月", 1, "ok"), ("2026年8月", 0, "missing"), ("2026年9月", 1, "ok")]
    assert _status(rows, b1, "assembly") == [("2026年第3季度", 1, "ok")]
    assert _status(rows, b1, "lecture") == [("2026年第3季度", 0, "missing")]
    assert _status(rows, g1, "group") == [("2026年7月", 1, "ok"), ("2026年8月", 1, "ok"), ("2026年9月", 0, "missing")]
    assert _status(rows, b1, "life_meeting") == []   # yearly rules are checked on the year
    assert _status(rows, tree.b2.id, "committee") == []  # no committee, no 支委会 required
    missing = svc.compliance(c, 2026, quarter=3, org_id=tree.dfc.id, on=date(2026, 11, 20), only_missing=True)
    assert {(r.org_id, r.kind, r.period_label) for r in missing if r.org_id != tree.b2.id} == {
        (b1, "committee", "2026年8月"), (b1, "lecture", "2026年第3季度"), (g1, "group", "2026年9月")}
    assert {r.kind for r in missing if r.org_id == tree.b2.id} == {"theme_day", "assembly", "lecture"}
    # The current period is pending, not missing; future months are not listed.
    q4 = svc.compliance(c, 2026, quarter=4, org_id=b1, on=date(2026, 11, 20))
    assert _status(q4, b1, "theme_day") == [("2026年10月", 0, "missing"), ("2026年11月", 0, "pending")]
    year = svc.compliance(c, 2026, org_id=b1, on=date(2027, 1, 5))
    assert _status(year, b1, "life_meeting") == [("2026年", 0, "missing")]
    with pytest.raises(ValidationError, match="季度"):
        svc.compliance(c, 2026, quarter=5)


def test_rules_are_data(world, tree):
    c = world.ctx
    svc.set_meeting_rule(c, "lecture", "month", 1)
    svc.set_meeting_rule(c, "theme_day", "month", 1, active=False)
    rows = svc.compliance(c, 2026, month=8, org_id=tree.b2.id, on=date(2026, 11, 20))
    kinds = {r.kind for r in rows}
    assert "lecture" in kinds and "theme_day" not in kinds
    assert svc.meeting_rules(world.session)["lecture"].label == "党课每月至少 1 次"
    with pytest.raises(ValidationError, match="周期"):
        svc.set_meeting_rule(c, "lecture", "week", 1)
    with pytest.raises(ValidationError, match="没有频次规则"):
        svc.set_meeting_rule(c, "other", "month", 1)


def test_org_founded_mid_year_is_not_blamed_for_earlier_months(world, tree):
    c = world.ctx
    new = svc.create_org(c, "东风三支部", "branch", tree.dfc.id, world.g12.id, founded_on=date(2026, 8, 15))
    rows = svc.compliance(c, 2026, quarter=3, org_id=new.id, on=date(2026, 11, 20))
    assert _status(rows, new.id, "theme_day") == [("2026年9月", 0, "missing")]
