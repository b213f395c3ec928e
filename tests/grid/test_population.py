"""Persons, households, houses with occupancy, organisations; ID numbers; search; masking; scope."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from plugins.grid import services as svc
from plugins.grid.models import Occupancy, Person
from reports.masking import mask_id
from shell.core.models import AuditLog
from shell.errors import OutOfScope, PermissionDenied, ValidationError

from .conftest import ALL, actor, make_id


# --- ID numbers ----------------------------------------------------------------------------------
def test_parse_id_number_derives_sex_and_birth():
    info = svc.parse_id_number("11010519491231002X")
    assert info.number == "11010519491231002X" and info.sex == "女" and info.birth_date == date(1949, 12, 31)
    male = svc.parse_id_number(make_id(seq=123))
    assert male.sex == "男" and male.birth_date == date(1990, 1, 1)


def test_parse_id_number_lower_case_x_and_full_width():
    assert svc.parse_id_number("11010519491231002x").number == "11010519491231002X"
    assert svc.parse_id_number("１１０１０５１９４９１２３１００２Ｘ ").number == "11010519491231002X"


def test_fifteen_digit_number_is_converted():
    info = svc.parse_id_number("110105491231002")
    assert info.number == "11010519491231002X"
    assert info.converted_from == "110105491231002"
    assert info.birth_date == date(1949, 12, 31) and info.sex == "女"


@pytest.mark.parametrize("bad, words", [
    ("110105194912310021", "校验位不对（按前 17 位应为 X）"),
    (make_id(birth="19491331", seq=2), "出生日期“19491331”不存在"),
    (make_id(region="990105", seq=2), "地区码“990105”无效"),
    ("1101051949123", "格式不对"),
    ("", "请填写身份证号"),
    (1.1010519491231e17, "Excel"),
    ("1.10105E+17", "科学计数法"),
])
def test_bad_id_numbers_are_refused_in_chinese(bad, words):
    with pytest.raises(ValidationError) as e:
        svc.parse_id_number(bad)
    assert words in e.value.message and e.value.field == "id_number"


# --- persons -------------------------------------------------------------------------------------
def test_register_person_and_duplicate_refused_with_pointer(gdb, tree, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street))
    p = svc.register_person(ctx, area_id=tree.g11.id, name="张三", id_number=make_id(seq=11),
                            phone="13812345678", ethnicity="汉族", current_address="和平里3号楼")
    ctx.session.commit()
    assert p.sex == "男" and p.birth_date == date(1990, 1, 1) and p.name_initials == "zs"
    with pytest.raises(ValidationError) as e:
        svc.register_person(ctx, area_id=tree.g21.id, name="张叁", id_number=make_id(seq=11))
    assert e.value.message == "身份证号已登记：张三（和平里社区第一网格）"
    assert e.value.field == "id_number"
    # the 15-digit form of the same person is a duplicate too
    ctx.session.rollback()
    svc.register_person(ctx, area_id=tree.g11.id, name="李四", id_number="110105491231002")
    with pytest.raises(ValidationError, match="身份证号已登记：李四"):
        svc.register_person(ctx, area_id=tree.g11.id, name="李四", id_number="11010519491231002X")


def test_register_person_validates_fields(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    with pytest.raises(ValidationError) as e:
        svc.register_person(ctx, area_id=stree.g11.id, name=" ", id_number=make_id())
    assert e.value.field == "name"
    with pytest.raises(ValidationError) as e:
        svc.register_person(ctx, area_id=stree.g11.id, name="王五", id_number=make_id(), phone="12345")
    assert e.value.field == "phone" and e.value.value == "12345"
    with pytest.raises(ValidationError) as e:
        svc.register_person(ctx, area_id=stree.g11.id, name="王五", id_number=make_id(), kind="tourist")
    assert e.value.field == "kind"
    with pytest.raises(ValidationError) as e:
        svc.register_person(ctx, area_id=99999, name="王五", id_number=make_id())
    assert e.value.field == "area_id"


def test_floating_and_overseas_fields(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    f = svc.register_person(ctx, area_id=stree.g11.id, name="赵六", id_number=make_id("320102", seq=13),
                            kind="floating", permit_type="居住证", permit_start=date(2024, 1, 1),
                            permit_end=date(2027, 1, 1), inflow_reason="务工", key_attention=True)
    assert f.kind == "floating" and f.permit_type == "居住证" and f.key_attention
    o = svc.register_person(ctx, area_id=stree.g11.id, name="史密斯", id_number=make_id(seq=15), kind="overseas",
                            foreign_surname="Smith", foreign_given_name="John", visit_purpose="工作",
                            arrival_date=date(2025, 1, 2))
    assert o.foreign_surname == "Smith"
    with pytest.raises(ValidationError) as e:
        svc.register_person(ctx, area_id=stree.g11.id, name="孙七", id_number=make_id(seq=17), kind="floating",
                            permit_start=date(2024, 1, 1), permit_end=date(2023, 1, 1))
    assert e.value.field == "permit_end"
    with pytest.raises(ValidationError):
        svc.register_person(ctx, area_id=stree.g11.id, name="孙七", id_number=make_id(seq=17), shoe_size="42")


def test_scope_refusal(gdb, tree, ctx_for):
    admin = ctx_for(gdb, actor(tree.street))
    other = svc.register_person(admin, area_id=tree.g21.id, name="周八", id_number=make_id(seq=19))
    admin.session.commit()
    worker = ctx_for(gdb, actor(tree.g11, name="网格员甲"))
    with pytest.raises(OutOfScope):
        svc.register_person(worker, area_id=tree.g21.id, name="吴九", id_number=make_id(seq=21))
    with pytest.raises(OutOfScope):
        svc.update_person(worker, other.id, phone="13900000000")
    with pytest.raises(OutOfScope):
        svc.get_person(worker, other.id)
    assert svc.list_persons(worker) == []
    viewer = ctx_for(gdb, actor(tree.street, codes={"grid.view"}))
    with pytest.raises(PermissionDenied):
        svc.register_person(viewer, area_id=tree.g11.id, name="吴九", id_number=make_id(seq=21))


def test_list_and_search_with_keyset_paging_and_masking(gdb, tree, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street))
    names = ["张三", "张三丰", "李四", "王小明", "赵敏"]
    for i, n in enumerate(names):
        svc.register_person(ctx, area_id=tree.g11.id if i % 2 else tree.g12.id, name=n,
                            id_number=make_id(seq=31 + 2 * i), phone=f"1391234{i:04d}")
    ctx.session.commit()
    page1 = svc.list_persons(ctx, limit=2)
    page2 = svc.list_persons(ctx, after_id=page1[-1].id, limit=2)
    page3 = svc.list_persons(ctx, after_id=page2[-1].id, limit=2)
    assert [p.name for p in page1 + page2 + page3] == names
    assert all("*" in p.id_number for p in page1)            # masked without full_view
    assert [p.name for p in svc.list_persons(ctx, "zs")] == ["张三", "张三丰"]
    assert [p.name for p in svc.list_persons(ctx, "ZSF")] == ["张三丰"]
    assert [p.name for p in svc.list_persons(ctx, "小明")] == ["王小明"]
    assert [p.name for p in svc.list_persons(ctx, make_id(seq=35)[:17])] == ["李四"]
    assert [p.name for p in svc.list_persons(ctx, "13912340004")] == ["赵敏"]
    assert [p.name for p in svc.list_persons(ctx, "0003")] == ["王小明"]
    assert [p.name for p in svc.list_persons(ctx, area_id=tree.g11.id)] == ["张三丰", "王小明"]
    full = ctx_for(gdb, actor(tree.street, codes=ALL | {"core.personal.full_view"}))
    # lists stay masked even for those who may see the full number (it is revealed one by one, audited)
    assert svc.list_persons(full, "李四")[0].id_number == mask_id(make_id(seq=35))


def test_full_id_view_needs_permission_and_is_audited(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    p = svc.register_person(ctx, area_id=stree.g11.id, name="张三", id_number=make_id(seq=41))
    ctx.session.commit()
    with pytest.raises(PermissionDenied):
        svc.full_id_number(ctx, p.id)
    full = ctx_for(grid_sqlite, actor(stree.street, codes=ALL | {"core.personal.full_view"}, name="审核员"))
    assert svc.full_id_number(full, p.id) == make_id(seq=41)
    full.session.commit()
    row = full.session.scalar(select(AuditLog).where(AuditLog.action == "view_full_id"))
    assert row.entity == "grid_persons" and row.entity_id == str(p.id) and row.actor_name == "审核员"


def test_update_person_optimistic_lock(stree, grid_sqlite, ctx_for):
    a = ctx_for(grid_sqlite, actor(stree.street, name="甲"))
    p = svc.register_person(a, area_id=stree.g11.id, name="张三", id_number=make_id(seq=43))
    a.session.commit()
    v = p.version_id
    svc.update_person(a, p.id, expected_version=v, phone="13800000001")
    a.session.commit()
    b = ctx_for(grid_sqlite, actor(stree.street, name="乙"))
    from shell.errors import ConflictError
    with pytest.raises(ConflictError, match="已被"):
        svc.update_person(b, p.id, expected_version=v, phone="13800000002")


# --- households ----------------------------------------------------------------------------------
def test_household_with_single_head(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    hh = svc.create_household(ctx, stree.g11.id, "110105000123", "和平里3号楼1单元101")
    head = svc.register_person(ctx, area_id=stree.g11.id, name="张大山", id_number=make_id(birth="19600303", seq=51),
                               household_id=hh.id, relation_to_head="户主")
    wife = svc.register_person(ctx, area_id=stree.g11.id, name="李秀英", id_number=make_id(birth="19620505", seq=52))
    svc.add_to_household(ctx, hh.id, wife.id, "配偶")
    with pytest.raises(ValidationError, match="该户已有户主：张大山"):
        svc.add_to_household(ctx, hh.id, wife.id, "户主")
    assert svc.household_head(ctx, hh.id).id == head.id
    assert [m.name for m in svc.household_members(ctx, hh.id)] == ["张大山", "李秀英"]
    with pytest.raises(ValidationError) as e:
        svc.create_household(ctx, stree.g12.id, "110105000123")
    assert e.value.field == "number" and "和平里社区第一网格" in e.value.message


# --- houses and occupancy -----------------------------------------------------------------------
def test_occupancy_history_kept_on_moves(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    h1 = svc.create_house(ctx, area_id=stree.g11.id, code="F0001", address="和平里3号楼1单元101", floor_area="86.5",
                          house_use="出租", owner_name="王房东", owner_id_number=make_id(seq=61),
                          owner_phone="13700000000", hazard="电线老化")
    h2 = svc.create_house(ctx, area_id=stree.g12.id, code="F0002", address="和平里5号楼2单元202")
    assert h1.is_rental and h1.floor_area == 86.5 and not h2.is_rental
    p = svc.register_person(ctx, area_id=stree.g11.id, name="租客甲", id_number=make_id(seq=63))
    svc.move_in(ctx, p.id, h1.id, date(2024, 3, 1), "租客", is_tenant=True)
    assert [o.person_id for o in svc.occupants(ctx, h1.id, on=date(2024, 6, 1))] == [p.id]
    svc.move_in(ctx, p.id, h2.id, date(2025, 1, 10))          # moving elsewhere closes the old period
    old = ctx.session.scalar(select(Occupancy).where(Occupancy.house_id == h1.id))
    assert old.end_date == date(2025, 1, 9) and old.end_reason == "搬迁"
    assert svc.occupants(ctx, h1.id, on=date(2025, 6, 1)) == []
    assert len(svc.occupants(ctx, h1.id, history=True)) == 1   # history kept
    assert p.house_id == h2.id
    svc.move_out(ctx, p.id, date(2025, 5, 1), "迁往外省")
    assert p.status == "moved_out" and p.house_id is None
    assert ctx.session.scalar(select(Occupancy).where(Occupancy.house_id == h2.id)).end_date == date(2025, 5, 1)
    assert ctx.session.get(Person, p.id) is not None          # never deleted
    assert svc.list_persons(ctx, "租客") == []                 # no longer in the active list
    assert [r.name for r in svc.list_persons(ctx, "租客", include_inactive=True)] == ["租客甲"]


def test_house_validation(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    svc.create_house(ctx, area_id=stree.g11.id, code="F0001", address="和平里1号")
    with pytest.raises(ValidationError) as e:
        svc.create_house(ctx, area_id=stree.g11.id, code="F0001", address="和平里2号")
    assert e.value.field == "code" and "和平里1号" in e.value.message
    with pytest.raises(ValidationError) as e:
        svc.create_house(ctx, area_id=stree.g11.id, code="F0003", address="x", house_use="度假")
    assert e.value.field == "house_use"
    with pytest.raises(ValidationError) as e:
        svc.create_house(ctx, area_id=stree.g11.id, code="F0003", address="x", floor_area="八十")
    assert e.value.field == "floor_area"
    with pytest.raises(ValidationError) as e:
        svc.create_house(ctx, area_id=stree.g11.id, code="F0003", address="x", owner_id_number="110105194912310021")
    assert e.value.field == "owner_id_number"


# --- organisations -------------------------------------------------------------------------------
GOOD_USCC = "91110108551385082Q"


def test_organisation_credit_code(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    org = svc.register_organisation(ctx, area_id=stree.g11.id, kind="非公有制经济组织", name="青石便利店有限公司",
                                    credit_code=GOOD_USCC.lower(), legal_rep="钱老板", has_party_org=True,
                                    party_members=3)
    assert org.credit_code == GOOD_USCC
    with pytest.raises(ValidationError) as e:
        svc.register_organisation(ctx, area_id=stree.g11.id, kind="社会组织", name="x", credit_code=GOOD_USCC)
    assert "统一社会信用代码已登记：青石便利店有限公司" in e.value.message
    with pytest.raises(ValidationError) as e:
        svc.register_organisation(ctx, area_id=stree.g11.id, kind="社会组织", name="x", credit_code="91110108551385082A")
    assert e.value.field == "credit_code" and "校验位" in e.value.message
    with pytest.raises(ValidationError) as e:
        svc.register_organisation(ctx, area_id=stree.g11.id, kind="协会", name="x", credit_code=GOOD_USCC)
    assert e.value.field == "kind"


def test_register_with_house_creates_occupancy(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    h = svc.create_house(ctx, area_id=stree.g11.id, code="F0100", address="和平里9号", house_use="出租")
    p = svc.register_person(ctx, area_id=stree.g11.id, name="流动人员", id_number=make_id("320102", seq=701),
                            kind="floating", house_id=h.id)
    occ = svc.occupants(ctx, h.id)
    assert [(o.person_id, o.is_tenant, o.start_date) for o in occ] == [(p.id, True, date(2025, 6, 16))]
    assert p.current_address == "和平里9号"
