"""The one ID-number validator every plugin uses."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shell.errors import ValidationError
from shell.idnumber import convert_15_to_18, parse_id_number


def _with_check(first17: str) -> str:
    from stdnum.cn import ric

    return first17 + ric.calc_check_digit(first17 + "0")


def test_valid_numbers_and_what_is_derived():
    info = parse_id_number("11010519491231002x")
    assert (info.number, info.sex, info.birth_date) == ("11010519491231002X", "女", date(1949, 12, 31))
    assert parse_id_number("１１０１０５１９４９１２３１００２Ｘ ").number == "11010519491231002X"
    old = parse_id_number("110105491231002")
    assert old.converted_from == "110105491231002" and old.number == convert_15_to_18("110105491231002")
    # a county code that python-stdnum's by-year table does not know for 1950 is still accepted
    assert parse_id_number(_with_check("11010819500101001")).birth_date == date(1950, 1, 1)


@pytest.mark.parametrize("bad, reason", [
    ("", "请填写"),
    ("1101051949", "应为 18 位"),
    ("11010519491231002Y", "应为 18 位"),
    ("99010519491231002X", "地区码"),
    (_with_check("11010519850230001"), "出生日期“19850230”不存在"),
    ("110105194912310021", "校验位不对（按前 17 位应为 X）"),
    ("1.10105E+17", "科学计数法"),
    (1.1010519491231002e17, "被 Excel 当成了数字"),
    (_with_check("11010520990101001"), "不合理"),
])
def test_bad_numbers_say_what_is_wrong(bad, reason):
    with pytest.raises(ValidationError, match=reason) as err:
        parse_id_number(bad, field_name="owner_id_number")
    assert err.value.field == "owner_id_number"


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)), st.integers(0, 999))
def test_any_generated_number_roundtrips(birth, seq):
    number = _with_check(f"330102{birth:%Y%m%d}{seq:03d}")
    info = parse_id_number(number)
    assert info.number == number and info.birth_date == birth and info.sex == ("男" if seq % 2 else "女")
