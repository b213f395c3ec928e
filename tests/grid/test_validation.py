"""The grid validators (plugins/grid/validation.py): every problem of a draft at once, as FieldErrors
the service raises (first one as the message) and the forms show beside their fields."""
from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt

from plugins.grid import services as svc
from plugins.grid import validation as v
from shell.core.context import AppContext
from shell.errors import ValidationErrors

from .conftest import ALL, actor, make_id, make_pm


def fields_of(errors) -> list[str]:
    return [e.field for e in errors]


def test_clean_person_collects_every_problem():
    values, errors = v.clean_person({"name": "", "id_number": "123", "kind": "外星人", "phone": "12",
                                     "permit_start": "2024-05-01", "permit_end": "2024-01-01", "colour": "红"})
    assert fields_of(errors) == ["name", "id_number", "kind", "phone", "colour", "permit_end"]
    assert errors[0].message == "请填写姓名。" and errors[3].message.startswith("联系电话“12”格式不对")
    assert errors[4].message == "未知的人口字段：colour。"
    values, errors = v.clean_person({"name": " 张三 ", "id_number": "110105491231002", "kind": "流动",
                                     "phone": "１３８ 0013 8000", "ethnicity": " ", "notes": "  "})
    assert not errors
    assert values == {"name": "张三", "id_number": "11010519491231002X", "sex": "女", "birth_date": date(1949, 12, 31),
                      "id_note": "原 15 位身份证号 110105491231002 已升位。", "kind": "floating",
                      "phone": "13800138000", "ethnicity": None, "notes": ""}
    # a new person needs a name and an ID number; an edit may not change the ID number
    assert fields_of(v.check_person({})) == ["name", "id_number"]
    assert fields_of(v.check_person({"id_number": make_id()}, current=object())) == ["id_number"]


@pytest.mark.parametrize("draft, field, message", [
    ({"code": " F 01 ", "address": ""}, "address", "请填写地址。"),
    ({"code": "", "address": "x"}, "code", "请填写房屋编号。"),
    ({"code": "F1", "address": "x", "house_use": "仓库"}, "house_use",
     "房屋用途“仓库”无效，应为自住、出租、空置、经营、其他之一。"),
    ({"code": "F1", "address": "x", "floor_area": "八十"}, "floor_area", "建筑面积“八十”不是数字。"),
    ({"code": "F1", "address": "x", "rental_pledge_on": "昨天"}, "rental_pledge_on",
     "责任书签订日期“昨天”不是日期，请写成 2024-01-05。"),
])
def test_clean_house(draft, field, message):
    _values, errors = v.clean_house(draft)
    assert [(e.field, e.message) for e in errors] == [(field, message)]


def test_house_household_organisation_defaults_and_folding():
    values, errors = v.clean_house({"code": " Ｆ０１ ", "address": "和平里", "house_use": None, "building_use": "",
                                    "floor_area": "１２０.５"})
    assert not errors and values == {"code": "F01", "address": "和平里", "house_use": "自住", "building_use": "住宅",
                                     "floor_area": 120.5}
    values, errors = v.clean_household({"number": "h 0001", "address": None, "notes": None})
    assert not errors and values == {"number": "h0001", "address": "", "notes": ""}
    from stdnum.cn import uscc

    code = "91330102MA2ABC12X" + uscc.calc_check_digit("91330102MA2ABC12X")
    values, errors = v.clean_organisation({"name": "超市", "kind": "个体工商户", "credit_code": code.lower(),
                                           "has_party_org": "是", "party_members": "5人"})
    assert not errors and values["credit_code"] == code
    assert values["kind"] == "非公有制经济组织" and values["has_party_org"] is True and values["party_members"] == 5
    assert fields_of(v.check_organisation({})) == ["name", "kind", "credit_code"]


def test_service_raises_every_error_with_the_first_as_its_message(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    with pytest.raises(ValidationErrors) as e:
        svc.register_person(ctx, area_id=stree.g11.id, name="王" * 65, id_number="123", phone="12")
    assert e.value.message == "姓名太长（65 字，最多 64 字）。" and e.value.field == "name"
    assert fields_of(e.value.errors) == ["name", "id_number", "phone"]
    with pytest.raises(ValidationErrors) as e:
        svc.create_house(ctx, area_id=stree.g11.id, code="", address="", floor_area="-1")
    assert fields_of(e.value.errors) == ["code", "address", "floor_area"]


def test_person_form_shows_every_error_beside_its_field(qtbot, stree, grid_sqlite):
    from plugins.grid.views.residents import PersonDialog

    app = AppContext(grid_sqlite.session_factory, actor(stree.street, codes=ALL), make_pm())
    dialog = PersonDialog(app)
    qtbot.addWidget(dialog)
    f = dialog.form
    f.widget("name").setText("王" * 65)
    f.widget("id_number").setText("123")
    f.widget("phone").setText("12")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.saved_id is None
    assert f.error_text("name") == "姓名太长（65 字，最多 64 字）。"
    assert "身份证号" in f.error_text("id_number") and f.error_text("phone").startswith("联系电话“12”格式不对")
    f.widget("name").setText("张三")
    f.widget("id_number").setText(make_id(seq=77))
    f.widget("phone").setText("13800001111")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.saved_id is not None
