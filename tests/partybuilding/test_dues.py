from datetime import date

import pytest

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Member
from shell.core import settings as core_settings
from shell.errors import ValidationError


def dues(world, category, income_yuan=None, fixed=None):
    m = Member(category=category, income_fen=None if income_yuan is None else round(income_yuan * 100),
               fixed_dues_fen=fixed)
    return svc.monthly_dues_fen(world.session, m)


@pytest.mark.parametrize("income, expected_fen", [
    (0, 0), (2000, 1000),
    (3000, 1500), (3000.01, 3000),          # ≤ 3000 元: 0.5 %; above: 1 %
    (5000, 5000), (5000.01, 7500),          # ≤ 5000 元: 1 %;   above: 1.5 %
    (10000, 15000), (10000.01, 20000),      # ≤ 10000 元: 1.5 %; above: 2 %
    (12345.67, 24691),                      # 246.9134 元 → 246.91 元
    (2999.99, 1500),                        # 14.99995 元 rounds half up to 15.00 元
])
def test_employed_bands_at_every_boundary(world, income, expected_fen):
    assert dues(world, "employed", income) == expected_fen


@pytest.mark.parametrize("income, expected_fen", [(3000, 1500), (5000, 2500), (5000.01, 5000), (8000, 8000)])
def test_retired_bands(world, income, expected_fen):
    assert dues(world, "retired", income) == expected_fen


def test_flat_rates(world):
    for cat in ("student", "unemployed", "dibao"):
        assert dues(world, cat, 8000) == 20          # 0.2 元 whatever the income
    assert dues(world, "farmer") == 20
    assert dues(world, "farmer", fixed=100) == 100   # agreed 1 元
    assert dues(world, "employed", 8000, fixed=5000) == 5000  # agreed amount overrides the band


def test_bands_are_configurable(world):
    d = next(x for x in svc.SETTINGS if x.key == "partybuilding.dues.bands_employed")
    core_settings.set_value(world.ctx, d, "4000:0.5;*:1")
    assert dues(world, "employed", 4000) == 2000 and dues(world, "employed", 4000.01) == 4000
    with pytest.raises(ValidationError, match="格式不对"):
        svc.parse_bands("3000:0.5;2000:1;*:2")
    with pytest.raises(ValidationError, match="缺少最后一档"):
        svc.parse_bands("3000:0.5")
    with pytest.raises(ValidationError, match="格式不对"):
        svc.parse_bands("abc")
    assert svc.parse_bands("3000：0.5；*：2") == [(300000, 50), (None, 200)]


def test_payments_and_arrears(world, tree):
    c = world.ctx
    paid_up = world.member(tree.b1, name="全交", income_fen=600000)
    behind = world.member(tree.b1, name="欠三月", income_fen=200000)
    gone_quiet = world.member(tree.b2, name="半年未交", category="student")
    prob = world.member(tree.b1, stage="probationary", admitted=date(2026, 9, 10), name="预备")
    applicant = world.member(tree.b1, stage="applicant", name="申请人")
    for mo in svc.month_range("2026-01", "2026-11"):
        svc.record_payment(c, paid_up.id, mo, paid_on=date(2026, 11, 1))
    for mo in svc.month_range("2026-01", "2026-08"):
        svc.record_payment(c, behind.id, mo)
    for mo in svc.month_range("2026-01", "2026-05"):
        svc.record_payment(c, gone_quiet.id, mo)
    p = world.session.get(type(paid_up), paid_up.id)
    assert p is paid_up
    with pytest.raises(ValidationError, match="不能重复登记"):
        svc.record_payment(c, paid_up.id, "2026-03")
    with pytest.raises(ValidationError, match="尚未入党"):
        svc.record_payment(c, applicant.id, "2026-03")
    with pytest.raises(ValidationError, match="早于"):
        svc.record_payment(c, prob.id, "2026-08")       # before the vote month
    with pytest.raises(ValidationError, match="格式不对"):
        svc.record_payment(c, paid_up.id, "2026/13")
    pay = svc.record_payment(c, prob.id, "2026-09", amount_fen=20)
    assert pay.amount_fen == 20
    # World members joined in 2020: without a start month, 2020–2025 count as unpaid too.
    assert {a.member.name for a in svc.arrears(c, upto="2026-11")} == {"全交", "欠三月", "半年未交", "预备"}
    since = next(x for x in svc.SETTINGS if x.key == "partybuilding.dues.since")
    core_settings.set_value(c, since, "2026-01")
    rows = {a.member.name: a for a in svc.arrears(c, upto="2026-11")}
    assert set(rows) == {"欠三月", "半年未交", "预备"}
    assert rows["欠三月"].months[-3:] == ["2026-09", "2026-10", "2026-11"] and rows["欠三月"].trailing == 3
    assert not rows["欠三月"].flagged
    assert rows["半年未交"].trailing == 6 and rows["半年未交"].flagged
    assert rows["预备"].months == ["2026-10", "2026-11"]
    assert rows["预备"].amount_fen == 2 * svc.monthly_dues_fen(world.session, prob)
    assert rows["欠三月"].amount_fen == len(rows["欠三月"].months) * 1000
    assert svc.fen_text(rows["欠三月"].amount_fen) .endswith(".00")


def test_arrears_start_after_transfer_in(world, tree):
    c = world.ctx
    t = svc.register_incoming(c, org_id=tree.b1.id, origin="外区", letter_number="外〔2026〕1号", on=date(2026, 10, 8),
                              dues_paid_to="2026-10", name="转入者", id_number=world.id_number(),
                              admitted_on=date(2012, 1, 1), full_on=date(2013, 1, 1), category="student")
    rows = svc.arrears(c, upto="2026-11")
    assert [(a.member.id, a.months) for a in rows] == [(t.member_id, ["2026-11"])]
