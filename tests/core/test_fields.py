"""shell.core.fields: every accepted form of each field, and the Chinese message for each refusal."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shell.clock import LOCAL_TZ
from shell.core import fields as f
from shell.errors import FieldError, ValidationError, ValidationErrors, raise_if


@pytest.mark.parametrize("raw, expected", [
    (None, ""), ("", ""), ("  张三  ", "张三"), ("\u3000张三\u3000", "张三"), ("张\u3000三", "张 三"),
    (12, "12"), ("，逗号保留，", "，逗号保留，"),
])
def test_clean_text(raw, expected):
    assert f.clean_text(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    (None, ""), ("１３８ ００００ １１１１", "13800001111"), ("33010219900101123Ｘ", "33010219900101123X"),
    ("010－62345678", "010-62345678"), (" 1 2\t3\n", "123"), ("\u3000１\u3000", "1"), (123, "123"),
])
def test_code_text(raw, expected):
    assert f.code_text(raw) == expected


def test_text_cleans_and_limits():
    assert f.text("\u3000和平里\u3000", "地址", "address") == "和平里"
    assert f.text("", "备注", "note", required=False) is None
    assert f.text(None, "备注", "note", required=False) is None
    assert f.text("一" * 5, "名称", "name", max_len=5) == "一" * 5


@pytest.mark.parametrize("raw, kw, message", [
    ("", {}, "请填写姓名。"),
    ("\u3000 ", {}, "请填写姓名。"),
    (None, {}, "请填写姓名。"),
    ("一" * 11, {"max_len": 10}, "姓名太长（11 字，最多 10 字）。"),
    ("一" * 11, {"max_len": 10, "required": False}, "姓名太长（11 字，最多 10 字）。"),
])
def test_text_messages(raw, kw, message):
    with pytest.raises(ValidationError) as err:
        f.text(raw, "姓名", "name", **kw)
    assert err.value.message == message
    assert err.value.field == "name"
    assert err.value.value == raw


@pytest.mark.parametrize("raw, expected", [
    ("13800001111", "13800001111"), ("１３８００００１１１１", "13800001111"), (" 138 0000 1111 ", "13800001111"),
    ("010-62345678", "010-62345678"), ("01062345678", "01062345678"), ("0571-87654321-123", "0571-87654321-123"),
    ("87654321", "87654321"), ("０５７１－８７６５４３２１", "0571-87654321"), (13800001111, "13800001111"),
    ("", None), (None, None),
])
def test_phone_accepts(raw, expected):
    assert f.phone(raw) == expected


@pytest.mark.parametrize("raw", ["1380000111", "138000011112", "12345", "abc", "010_62345678", "+8613800001111"])
def test_phone_refuses_with_message(raw):
    with pytest.raises(ValidationError) as err:
        f.phone(raw, "owner_phone", "房主电话")
    assert err.value.message == f"房主电话“{raw}”格式不对：手机号 11 位，固话如 010-62345678。"
    assert err.value.field == "owner_phone"


def test_phone_required():
    with pytest.raises(ValidationError, match="^请填写联系电话。$"):
        f.phone("  ", required=True)


@pytest.mark.parametrize("raw, kw, expected", [
    (3, {}, 3), ("3", {}, 3), ("３", {}, 3), (" 12 ", {}, 12), (3.0, {}, 3), ("3.0", {}, 3), ("1,200", {}, 1200),
    (0, {"allow_zero": True}, 0), ("0", {"allow_zero": True}, 0), (10, {"maximum": 10}, 10),
])
def test_positive_int_accepts(raw, kw, expected):
    assert f.positive_int(raw, "数量", "qty", **kw) == expected


@pytest.mark.parametrize("raw, kw, message", [
    ("", {}, "请填写数量。"),
    (None, {}, "请填写数量。"),
    ("三", {}, "数量应为整数（填写的是“三”）。"),
    ("2.5", {}, "数量应为整数（填写的是“2.5”）。"),
    (2.5, {}, "数量应为整数（填写的是“2.5”）。"),
    (True, {}, "数量应为整数（填写的是“True”）。"),
    (0, {}, "数量必须大于 0（填写的是 0）。"),
    ("-2", {}, "数量必须大于 0（填写的是 -2）。"),
    (-1, {"allow_zero": True}, "数量不能小于 0（填写的是 -1）。"),
    (11, {"maximum": 10}, "数量不能超过 10（填写的是 11）。"),
    ("inf", {}, "数量应为整数（填写的是“inf”）。"),
])
def test_positive_int_messages(raw, kw, message):
    with pytest.raises(ValidationError) as err:
        f.positive_int(raw, "数量", "qty", **kw)
    assert err.value.message == message
    assert err.value.field == "qty"


@pytest.mark.parametrize("raw, kw, expected", [
    ("12.5", {}, Decimal("12.50")), ("１２．５", {}, Decimal("12.50")), (12, {}, Decimal("12.00")),
    (0.1 + 0.2, {}, Decimal("0.30")), (Decimal("3.14"), {}, Decimal("3.14")), ("1,234.5", {}, Decimal("1234.50")),
    ("0", {"allow_zero": True}, Decimal("0.00")), ("2.125", {"places": 3}, Decimal("2.125")),
    ("7", {"places": 0}, Decimal("7")),
])
def test_positive_decimal_accepts(raw, kw, expected):
    got = f.positive_decimal(raw, "金额", "amount", **kw)
    assert got == expected and str(got) == str(expected)


@pytest.mark.parametrize("raw, kw, message", [
    ("", {}, "请填写金额。"),
    ("十元", {}, "金额应为数字（填写的是“十元”）。"),
    ("nan", {}, "金额应为数字（填写的是“nan”）。"),
    (False, {}, "金额应为数字（填写的是“False”）。"),
    ("1.234", {}, "金额最多 2 位小数（填写的是 1.234）。"),
    (0, {}, "金额必须大于 0（填写的是 0）。"),
    ("-0.5", {"allow_zero": True}, "金额不能小于 0（填写的是 -0.5）。"),
])
def test_positive_decimal_messages(raw, kw, message):
    with pytest.raises(ValidationError) as err:
        f.positive_decimal(raw, "金额", "amount", **kw)
    assert err.value.message == message
    assert err.value.field == "amount"


D = date(2024, 1, 5)


@pytest.mark.parametrize("raw", [
    D, datetime(2024, 1, 5, 23, 59), datetime(2024, 1, 4, 16, 30, tzinfo=UTC),  # 00:30 in Shanghai
    45296, 45296.75, "2024-01-05", "2024-1-5", "2024/1/5", "2024/01/05", "2024.1.5", "2024.01.05", "20240105",
    20240105, "2024年1月5日", "2024年01月05日", "2024 年 1 月 5 日", "２０２４－０１－０５", "２０２４年１月５日",
    " 2024-01-05 ", "2024-01-05 00:00:00", "2024-01-05T08:30", "2024-01-05 08:30",
])
def test_parse_date_accepts(raw):
    assert f.parse_date(raw, "出生日期", "birth_date") == D


@pytest.mark.parametrize("raw, shown", [
    ("2024-13-01", "2024-13-01"), ("2024-02-30", "2024-02-30"), ("明天", "明天"), ("01/05/2024", "01/05/2024"),
    ("2024-01", "2024-01"), ("20241305", "20241305"), (-3, "-3"), (True, "True"), ("2024-01-05 25:00", "2024-01-05 25:00"),
    ("\u30002024-01-99\u3000", "2024-01-99"),
])
def test_parse_date_message(raw, shown):
    with pytest.raises(ValidationError) as err:
        f.parse_date(raw, "出生日期", "birth_date")
    assert err.value.message == f"出生日期“{shown}”不是日期，请写成 2024-01-05。"
    assert err.value.field == "birth_date" and err.value.value == raw


def test_parse_date_empty():
    assert f.parse_date("", "截止日期", "due", required=False) is None
    assert f.parse_date(None, "截止日期", "due", required=False) is None
    with pytest.raises(ValidationError, match="^请填写截止日期。$"):
        f.parse_date("\u3000", "截止日期", "due")


def _sh(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


@pytest.mark.parametrize("raw, expected", [
    (D, _sh(2024, 1, 5)), ("2024-01-05", _sh(2024, 1, 5)), ("2024/1/5", _sh(2024, 1, 5)),
    ("2024年1月5日", _sh(2024, 1, 5)), ("20240105", _sh(2024, 1, 5)),
    ("2024-01-05 08:30", _sh(2024, 1, 5, 8, 30)), ("2024-01-05 8:30:15", _sh(2024, 1, 5, 8, 30, 15)),
    ("2024/1/5 08：30", _sh(2024, 1, 5, 8, 30)), ("２０２４－０１－０５ ０８:３０", _sh(2024, 1, 5, 8, 30)),
    ("2024-01-05T08:30:00", _sh(2024, 1, 5, 8, 30)),
    (datetime(2024, 1, 5, 8, 30), _sh(2024, 1, 5, 8, 30)),
    (datetime(2024, 1, 5, 0, 30, tzinfo=UTC), datetime(2024, 1, 5, 0, 30, tzinfo=UTC)),
    (45296, _sh(2024, 1, 5)), (45296.75, _sh(2024, 1, 5, 18, 0)),
])
def test_parse_datetime_accepts(raw, expected):
    got = f.parse_datetime(raw, "签到时间", "checked_in_at")
    assert got == expected and got.tzinfo is not None and got.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("raw", ["2024-01-05 24:00", "2024-01-05 08:61", "2024-01-05 早上", "昨天", "2024-01-05 08:30 下午"])
def test_parse_datetime_message(raw):
    with pytest.raises(ValidationError) as err:
        f.parse_datetime(raw, "签到时间", "checked_in_at")
    assert err.value.message == f"签到时间“{raw}”不是日期时间，请写成 2024-01-05 08:30。"
    assert err.value.field == "checked_in_at"


def test_parse_datetime_empty():
    assert f.parse_datetime(" ", "签退时间", "checked_out_at", required=False) is None
    with pytest.raises(ValidationError, match="^请填写签退时间。$"):
        f.parse_datetime(None, "签退时间", "checked_out_at")


# --- shell.errors: FieldError, ValidationErrors, raise_if ----------------------------------------
def test_validation_errors_read_as_the_first():
    errs = [FieldError("name", "请填写姓名。", ""), FieldError("phone", "联系电话“1”格式不对。", "1")]
    exc = ValidationErrors(errs)
    assert isinstance(exc, ValidationError)
    assert str(exc) == exc.message == "请填写姓名。"
    assert exc.field == "name" and exc.value == ""
    assert exc.errors == errs and exc.title == "输入有误"


def test_raise_if():
    raise_if([])
    with pytest.raises(ValidationErrors) as err:
        raise_if([FieldError("qty", "数量必须大于 0（填写的是 0）。", 0)])
    assert err.value.errors[0].field == "qty"
    with pytest.raises(ValueError):
        ValidationErrors([])


def test_field_error_is_frozen_and_comparable():
    a = FieldError("x", "m")
    assert a == FieldError("x", "m", None) and a.value is None
    with pytest.raises(AttributeError):
        a.field = "y"  # type: ignore[misc]
