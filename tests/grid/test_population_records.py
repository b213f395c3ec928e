"""Services behind the person, household, house and organisation screens: a person's housing
history, house occupants with tenants, editing a house with validation, household head changes and
members leaving (records kept), household search by head, organisations edited with the credit code
re-checked, and a person's special-group records and visits."""
from __future__ import annotations

from datetime import date

import pytest

from plugins.grid import services as svc
from plugins.grid.models import House
from reports.masking import mask_id
from shell.errors import ConflictError, OutOfScope, ValidationError

from .conftest import actor, make_id
from .test_population import GOOD_USCC


def test_person_and_house_histories(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    h1 = svc.create_house(ctx, area_id=stree.g11.id, code="F0101", address="和平里1号楼101", house_use="出租")
    h2 = svc.create_house(ctx, area_id=stree.g11.id, code="F0102", address="和平里2号楼202")
    p = svc.register_person(ctx, area_id=stree.g11.id, name="赵租客", id_number=make_id(seq=201), kind="floating")
    q = svc.register_person(ctx, area_id=stree.g11.id, name="钱房东", id_number=make_id(seq=203))
    svc.move_in(ctx, p.id, h1.id, date(2024, 3, 1), "租客", is_tenant=True)
    svc.move_in(ctx, q.id, h1.id, date(2020, 1, 1), "本人")
    svc.move_in(ctx, p.id, h2.id, date(2025, 2, 1), "借住")
    rows = svc.person_occupancies(ctx, p.id)
    assert [(r.house_code, r.start_date, r.end_date, r.current) for r in rows] == [
        ("F0102", date(2025, 2, 1), None, True), ("F0101", date(2024, 3, 1), date(2025, 1, 31), False)]
    assert rows[1].is_tenant and rows[1].end_reason == "搬迁"
    people = svc.house_occupancies(ctx, h1.id)
    assert [(r.person_name, r.current, r.is_tenant) for r in people] == [("钱房东", True, False),
                                                                         ("赵租客", False, True)]
    ctx.session.commit()
    other = ctx_for(grid_sqlite, actor(stree.g21))
    with pytest.raises(OutOfScope):
        svc.person_occupancies(other, p.id)


def test_update_house_validates_and_locks(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    h = svc.create_house(ctx, area_id=stree.g11.id, code="F0201", address="和平里3号楼301")
    ctx.session.commit()
    version = h.version_id
    for field, value, text in (("floor_area", "八十", "不是数字"), ("floor_area", "-3", "不合理"),
                               ("house_use", "仓库", "房屋用途“仓库”无效"), ("address", " ", "请填写地址"),
                               ("owner_id_number", make_id(seq=5)[:-1] + "0" if make_id(seq=5)[-1] != "0" else
                                make_id(seq=5)[:-1] + "1", "校验位"),
                               ("owner_phone", "12345", "联系电话")):
        with pytest.raises(ValidationError) as e:
            svc.update_house(ctx, h.id, version, **{field: value})
        assert text in e.value.message and e.value.field == field
        ctx.session.rollback()
    svc.update_house(ctx, h.id, version, house_use="出租", floor_area="１２０.５", owner_name="孙房东",
                     owner_id_number=make_id(seq=7), rental_pledge_on=date(2025, 3, 1), hazard="")
    # What the service hands back is masked (shell/core/personal.py); the stored row has the full number.
    assert (h.house_use, h.floor_area, h.owner_id_number, h.hazard) == ("出租", 120.5, mask_id(make_id(seq=7)), None)
    assert ctx.session.get(House, h.id).owner_id_number == make_id(seq=7)
    with pytest.raises(ConflictError):
        svc.update_house(ctx, h.id, version, address="旧版本上的修改")


def test_household_head_change_and_member_leaving(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    hh = svc.create_household(ctx, stree.g11.id, "H0301", "和平里4号楼101")
    dad = svc.register_person(ctx, area_id=stree.g11.id, name="周大山", id_number=make_id(seq=301),
                              household_id=hh.id, relation_to_head="户主")
    son = svc.register_person(ctx, area_id=stree.g11.id, name="周小川", id_number=make_id(birth="19950101", seq=303))
    svc.add_to_household(ctx, hh.id, son.id, "子")
    with pytest.raises(ValidationError) as e:
        svc.set_relation(ctx, hh.id, son.id, "户主")
    assert "设为户主" in e.value.message
    svc.set_relation(ctx, hh.id, son.id, "其他")
    assert son.relation_to_head == "其他"
    with pytest.raises(ValidationError) as e:
        svc.remove_from_household(ctx, hh.id, dad.id)
    assert e.value.message == "周大山是户主：请先把另一名成员设为户主。"
    with pytest.raises(ValidationError):
        svc.change_head(ctx, hh.id, son.id, "户主")
    svc.change_head(ctx, hh.id, son.id, "父亲")
    assert (son.relation_to_head, dad.relation_to_head) == ("户主", "父亲")
    assert svc.household_head(ctx, hh.id).id == son.id
    svc.remove_from_household(ctx, hh.id, dad.id)
    assert dad.household_id is None and svc.get_person(ctx, dad.id).status == "active"   # record kept
    assert svc.household_heads(ctx, [hh.id]) == {hh.id: ("周小川", 1)}
    found = ctx.session.scalars(svc.households_query(ctx.actor, "周小")).all()
    assert [h.number for h in found] == ["H0301"]
    assert [h.number for h in ctx.session.scalars(svc.households_query(ctx.actor, "H03"))] == ["H0301"]
    ctx.session.commit()
    worker = ctx_for(grid_sqlite, actor(stree.g21))
    assert worker.session.scalars(svc.households_query(worker.actor, "")).all() == []


def test_update_organisation_rechecks_credit_code(stree, grid_sqlite, ctx_for):
    from stdnum.cn import uscc

    ctx = ctx_for(grid_sqlite, actor(stree.street))
    other_code = "91110108MA01" + "ABC12"
    other_code += uscc.calc_check_digit(other_code)
    a = svc.register_organisation(ctx, area_id=stree.g11.id, kind="非公有制经济组织", name="和平超市",
                                  credit_code=GOOD_USCC)
    b = svc.register_organisation(ctx, area_id=stree.g12.id, kind="社会组织", name="幸福志愿者协会",
                                  credit_code=other_code)
    ctx.session.commit()
    assert a.credit_code == GOOD_USCC
    with pytest.raises(ValidationError) as e:
        svc.update_organisation(ctx, b.id, b.version_id, credit_code=GOOD_USCC)
    assert e.value.message.startswith("统一社会信用代码已登记：和平超市")
    with pytest.raises(ValidationError) as e:
        svc.update_organisation(ctx, b.id, b.version_id, credit_code=other_code[:-1] + ("0" if other_code[-1] != "0" else "1"))
    assert "校验位" in e.value.message
    ctx.session.rollback()
    b = svc.get_organisation(ctx, b.id)
    svc.update_organisation(ctx, b.id, b.version_id, name="幸福苑志愿者协会", has_party_org=True, party_members=5,
                            phone="010-62345678")
    assert (b.name, b.has_party_org, b.party_members) == ("幸福苑志愿者协会", True, 5)
    names = [o.name for o in ctx.session.scalars(svc.organisations_query(ctx.actor, "志愿"))]
    assert names == ["幸福苑志愿者协会"]
    assert [o.name for o in ctx.session.scalars(svc.organisations_query(ctx.actor, kind="非公有制经济组织"))] == ["和平超市"]


def test_person_special_records_and_visits(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    p = svc.register_person(ctx, area_id=stree.g11.id, name="吴老伯", id_number=make_id(birth="19400101", seq=401))
    sp = svc.add_special(ctx, p.id, "elderly_alone", {"living": "独居"}, start=date(2025, 1, 1))
    svc.record_visit(ctx, sp.id, date(2025, 2, 1), "身体尚好", visitor_name="网格员甲")
    svc.record_visit(ctx, sp.id, date(2025, 3, 1), "需要助餐", visitor_name="网格员甲")
    recs = svc.person_special_records(ctx, p.id)
    assert [svc.group_label(r.group) for r in recs] == ["空巢/独居老人"]
    visits = svc.person_visits(ctx, p.id)
    assert [(g, v.situation) for g, v in visits] == [("空巢/独居老人", "需要助餐"), ("空巢/独居老人", "身体尚好")]
