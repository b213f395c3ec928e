from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Member
from shell.errors import ValidationError


def test_id_number_validation_and_derivation(world, tree):
    number = world.id_number(date(1985, 2, 28), male=False)
    n, birth, sex = svc.normalize_id_number(number.lower())
    assert n == number and birth == date(1985, 2, 28) and sex == "女"
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(ValidationError, match="校验位"):
        svc.normalize_id_number(bad)
    with pytest.raises(ValidationError, match="18 位"):
        svc.normalize_id_number("1101051985")
    with pytest.raises(ValidationError, match="出生日期“19850230”不存在"):
        body = "11010519850230001"  # 30 February, with a correct check character
        from stdnum.cn import ric
        svc.normalize_id_number(body + ric.calc_check_digit(body + "0"))
    # An old 15-digit number is converted, not rejected.
    n18, birth, sex = svc.normalize_id_number("110105850228123")
    assert len(n18) == 18 and n18.startswith("11010519850228123") and birth == date(1985, 2, 28) and sex == "男"


def test_create_member_16_items_and_duplicates(world, tree):
    number = world.id_number(date(1970, 1, 1))
    m = svc.create_member(world.ctx, name="张建国", id_number=number, org_id=tree.b1.id, stage="full",
                          admitted_on=date(1995, 7, 1), full_on=date(1996, 7, 1), ethnicity="回族",
                          education="大学本科", category="retired", job="退休职工", phone="13800138000",
                          address="东风路 1 号", joined_on=date(2020, 1, 1))
    assert (m.sex, m.birth_date, m.initials, m.org_id) == ("男", date(1970, 1, 1), "zjg", tree.b1.id)
    with pytest.raises(ValidationError, match="已登记"):
        svc.create_member(world.ctx, name="张建国", id_number=number, org_id=tree.b1.id)
    with pytest.raises(ValidationError, match="不一致"):
        svc.create_member(world.ctx, name="李", id_number=world.id_number(), org_id=tree.b1.id, sex="女",
                          applied_on=date(2025, 1, 1))
    with pytest.raises(ValidationError, match="联系电话"):
        svc.create_member(world.ctx, name="李", id_number=world.id_number(), org_id=tree.b1.id, phone="abc",
                          applied_on=date(2025, 1, 1))
    with pytest.raises(ValidationError, match="不能直接编入"):
        svc.create_member(world.ctx, name="李", id_number=world.id_number(), org_id=tree.top.id,
                          applied_on=date(2025, 1, 1))


def test_stage_dates_required_and_ordered(world, tree):
    with pytest.raises(ValidationError, match="须填写入党申请日期"):
        svc.create_member(world.ctx, name="甲", id_number=world.id_number(), org_id=tree.b1.id, stage="applicant")
    with pytest.raises(ValidationError, match="不能早于"):
        world.member(tree.b1, stage="activist", applied_on=date(2025, 1, 1), activist_on=date(2024, 1, 1))
    with pytest.raises(ValidationError, match="不能晚于今天"):
        world.member(tree.b1, stage="applicant", applied_on=date(2027, 1, 1))
    with pytest.raises(ValidationError, match="年满十八岁"):
        world.member(tree.b1, stage="applicant", birth=date(2010, 1, 1), applied_on=date(2026, 1, 1))
    with pytest.raises(ValidationError, match="不应有"):
        svc.create_member(world.ctx, name="乙", id_number=world.id_number(), org_id=tree.b1.id, stage="applicant",
                          applied_on=date(2025, 1, 1), full_on=date(2025, 2, 1))
    with pytest.raises(ValidationError, match="早于预备期满"):
        world.member(tree.b1, stage="full", admitted=date(2020, 1, 1), full_on=date(2020, 6, 1))


def test_pipeline_transitions(world, tree):
    c = world.ctx
    m = world.member(tree.b1, stage="applicant", applied_on=date(2024, 3, 1), joined_on=date(2024, 3, 1))
    with pytest.raises(ValidationError, match="下一步只能是入党积极分子"):
        svc.advance_stage(c, m.id, "candidate", date(2024, 9, 1))
    with pytest.raises(ValidationError, match="早于成为"):
        svc.advance_stage(c, m.id, "activist", date(2024, 2, 1))
    svc.advance_stage(c, m.id, "activist", date(2024, 5, 1))
    svc.advance_stage(c, m.id, "candidate", date(2025, 6, 1))
    with pytest.raises(ValidationError, match="不能晚于今天"):
        svc.advance_stage(c, m.id, "probationary", date(2026, 12, 1))
    svc.advance_stage(c, m.id, "probationary", date(2025, 11, 1))
    assert m.stage == "probationary" and svc.probation_end(m) == date(2026, 11, 1)
    with pytest.raises(ValidationError, match="预备期到 2026-11-01 才满"):
        svc.advance_stage(c, m.id, "full", date(2026, 10, 31))
    svc.advance_stage(c, m.id, "full", date(2026, 11, 1))
    assert (m.stage, m.full_on, m.admitted_on) == ("full", date(2026, 11, 1), date(2025, 11, 1))
    with pytest.raises(ValidationError, match="已是正式党员"):
        svc.advance_stage(c, m.id, "full", date(2026, 11, 2))


def test_probation_extension_once_6_to_12_months(world, tree):
    c = world.ctx
    m = world.member(tree.b1, stage="probationary", admitted=date(2025, 8, 31))
    assert svc.probation_end(m) == date(2026, 8, 31)
    for months in (5, 13):
        with pytest.raises(ValidationError, match="6 至 12"):
            svc.extend_probation(c, m.id, months, date(2026, 8, 20))
    svc.extend_probation(c, m.id, 6, date(2026, 8, 20))
    assert svc.probation_end(m) == date(2027, 2, 28)  # 31 August + 18 months → end of February
    with pytest.raises(ValidationError, match="只能延长一次"):
        svc.extend_probation(c, m.id, 6, date(2026, 8, 21))
    with pytest.raises(ValidationError, match="才满"):
        svc.advance_stage(c, m.id, "full", date(2026, 11, 1))
    full = world.member(tree.b1)
    with pytest.raises(ValidationError, match="不是预备党员"):
        svc.extend_probation(c, full.id, 6, date(2026, 1, 1))


def test_due_and_overdue_lists(world, tree):
    c = world.ctx  # today is 2026-11-20, due window 30 days
    overdue = world.member(tree.b1, stage="probationary", admitted=date(2025, 11, 1), name="逾期")
    world.member(tree.b1, stage="probationary", admitted=date(2025, 11, 20), name="今天满")
    world.member(tree.b2, stage="probationary", admitted=date(2025, 12, 20), name="将满")
    later = world.member(tree.b3, stage="probationary", admitted=date(2025, 12, 21), name="尚早")
    extended = world.member(tree.b3, stage="probationary", admitted=date(2025, 10, 1), name="延长")
    svc.extend_probation(c, extended.id, 6, date(2026, 9, 25))
    due_list, overdue_list = svc.probation_lists(c)
    assert [m.name for m, _ in due_list] == ["今天满", "将满"]
    assert [(m.name, end) for m, end in overdue_list] == [("逾期", date(2026, 11, 1))]
    assert later.id not in {m.id for m, _ in due_list + overdue_list}
    assert extended.id not in {m.id for m, _ in due_list + overdue_list}
    svc.advance_stage(c, overdue.id, "full", date(2026, 11, 20))
    assert svc.probation_lists(c)[1] == []
    # Scope: a list for another date and window.
    due_list, overdue_list = svc.probation_lists(c, on=date(2027, 4, 2), within_days=0)
    assert [m.name for m, _ in overdue_list] == ["今天满", "将满", "尚早", "延长"]


def test_memberships_are_periods(world, tree):
    c = world.ctx
    m = world.member(tree.b1, joined_on=date(2020, 1, 1))
    svc.join_org(c, m.id, tree.g1.id, date(2023, 4, 1), "编入党小组")
    svc.join_org(c, m.id, tree.b3.id, date(2025, 9, 1))
    with pytest.raises(ValidationError, match="早于"):
        svc.join_org(c, m.id, tree.b2.id, date(2025, 1, 1))
    periods = [(p.org_id, p.start_on, p.end_on) for p, _ in svc.memberships(c, m.id)]
    assert periods == [(tree.b1.id, date(2020, 1, 1), date(2023, 4, 1)), (tree.g1.id, date(2023, 4, 1), date(2025, 9, 1)),
                       (tree.b3.id, date(2025, 9, 1), None)]
    assert world.session.get(Member, m.id).org_id == tree.b3.id


def test_status_mobile_and_lost_contact(world, tree):
    c = world.ctx
    a = world.member(tree.b1, name="甲")
    b = world.member(tree.b1, name="乙")
    d = world.member(tree.b2, name="丙")
    svc.set_lost_contact(c, a.id, date(2026, 5, 20))   # exactly 6 months before 2026-11-20
    svc.set_lost_contact(c, b.id, date(2026, 5, 21))   # not yet 6 months
    assert [m.name for m in svc.lost_contact_members(c)] == ["甲"]
    svc.set_lost_contact(c, a.id, None)
    assert svc.lost_contact_members(c) == []
    svc.set_mobile(c, d.id, "广东省深圳市", date(2026, 3, 1))
    assert [(m.name, m.mobile_destination) for m in svc.mobile_members(c)] == [("丙", "广东省深圳市")]
    svc.set_mobile(c, d.id, None)
    assert svc.mobile_members(c) == []
    svc.set_status(c, b.id, "suspended")
    assert b.status == "suspended" and b.org_id == tree.b1.id
    svc.set_status(c, b.id, "deceased")
    assert b.org_id is None and svc.memberships(c, b.id)[-1][0].end_on == date(2026, 11, 20)
    with pytest.raises(ValidationError, match="无效"):
        svc.set_status(c, a.id, "vanished")


def test_update_member_and_search(world, tree):
    c = world.ctx
    m = world.member(tree.b1, name="王小明")
    svc.update_member(c, m.id, phone="010-12345678", name="王晓明")
    assert m.initials == "wxm"
    with pytest.raises(ValidationError, match="不能在此修改"):
        svc.update_member(c, m.id, stage="full")
    assert [x.id for x in svc.list_members(c, text="wxm")] == [m.id]
    assert [x.id for x in svc.list_members(c, text="晓明")] == [m.id]
    assert [x.id for x in svc.list_members(c, text=m.id_number[-6:])] == [m.id]
    assert [x.id for x in svc.list_members(c, text=m.id_number[:10])] == [m.id]
    results = svc.search(c, "wxm")
    assert results[0].kind == "partybuilding.member" and results[0].title == "王晓明"
    assert any(r.kind == "partybuilding.org" for r in svc.search(c, "dfyw"))  # 东风一网格党支部


@settings(max_examples=60, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2030, 12, 31)), st.integers(0, 40))
def test_add_months_property(d, n):
    r = svc.add_months(d, n)
    assert (r.year * 12 + r.month) - (d.year * 12 + d.month) == n
    assert r.day == d.day or r.day < d.day
