"""公民身份号码 (GB 11643-1999): one validator for every plugin. No Qt, no database.

``parse_id_number`` accepts what office staff actually have: lower-case x, full-width digits,
spaces, old 15-digit numbers (converted, not rejected) — and refuses, in Chinese, numbers Excel has
already damaged (kept as a float or in scientific notation). The check digit (ISO 7064 MOD 11-2,
computed by python-stdnum) and the birth date are always checked; of the region code only the
province is, because python-stdnum's county-by-birth-year table rejects real numbers issued in the
1980s to people born earlier.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from shell.errors import ValidationError


@dataclass(frozen=True)
class IdInfo:
    number: str          # 18 characters, upper-case X
    sex: str             # 男 / 女
    birth_date: date
    converted_from: str | None = None   # the 15-digit original, when converted


# GB/T 2260 province-level codes (the first two digits of the region code).
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
})

_SCI_RE = re.compile(r"\d(\.\d+)?E\+\d+")
_ID15_RE = re.compile(r"\d{15}")
_ID18_RE = re.compile(r"\d{17}[\dX]")


_CHECK_CHARS = "0123456789X"


def _check_digit(first17_or_18: str) -> str:
    """ISO 7064 MOD 11-2 over the first 17 digits — python-stdnum's ``ric.calc_check_digit`` formula
    (the weights 2^(17-i) mod 11 as a base-13 reading), inline: imports call this once per row."""
    return _CHECK_CHARS[(1 - 2 * int(first17_or_18[:17], 13)) % 11]


_BIRTHS: dict[str, date | None] = {}    # "19900101" → its date (None: no such day); a file repeats them


def _birth(digits: str) -> date | None:
    try:
        return _BIRTHS[digits]
    except KeyError:
        pass
    try:
        d: date | None = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        d = None
    if len(_BIRTHS) < 200_000:
        _BIRTHS[digits] = d
    return d


def convert_15_to_18(number: str) -> str:
    """A first-generation 15-digit number: insert the century "19" and add the check digit."""
    base = number[:6] + "19" + number[6:]
    return base + _check_digit(base)


def _fold(value: Any) -> str:
    text = "" if value is None else str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)   # full-width Ｘ１２３ → X123
    if len(text) == 18 and text.isalnum():           # the usual cell: nothing to drop (imports call this per row)
        return text.upper()
    return "".join(text.split()).upper()


def parse_id_number(value: Any, field_name: str = "id_number", today: date | None = None) -> IdInfo:
    """Validate and normalise an ID number; derive sex and birth date. Raises ValidationError."""
    raw = value
    if type(value) is str and len(value) == 18 and value.isascii() and value.isalnum():
        text = value.upper()          # the usual cell (imports call this per row): _fold's first case
        if _ID18_RE.fullmatch(text):  # 18 characters of that form are neither 15 digits nor 1.2E+17
            return _checked18(text, raw, field_name, today, None)
    if isinstance(value, float) and value.is_integer() and value < 1e15:
        value = str(int(value))          # a 15-digit number Excel kept as a number: still exact
    elif isinstance(value, int) and not isinstance(value, bool) and value < 10 ** 15:
        value = str(value)
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        raise ValidationError(f"身份证号“{value}”像是被 Excel 当成了数字（末几位精度已丢失），"
                              "请把该列设为文本格式后重新填写。", field_name, raw)
    text = _fold(value)
    if _SCI_RE.fullmatch(text):
        raise ValidationError(f"身份证号“{raw}”已被 Excel 转成科学计数法，末几位已丢失，"
                              "请把该列设为文本格式后重新填写。", field_name, raw)
    if not text:
        raise ValidationError("请填写身份证号。", field_name, raw)
    converted = None
    if _ID15_RE.fullmatch(text):
        converted = text
        try:
            date(1900 + int(text[6:8]), int(text[8:10]), int(text[10:12]))
        except ValueError:
            raise ValidationError(f"15 位身份证号“{text}”中的出生日期不存在。", field_name, raw) from None
        text = convert_15_to_18(text)
    if not _ID18_RE.fullmatch(text):
        raise ValidationError(f"身份证号“{raw}”格式不对：应为 18 位（最后一位可为 X）或旧的 15 位数字。",
                              field_name, raw)
    return _checked18(text, raw, field_name, today, converted)


def _checked18(text: str, raw: Any, field_name: str, today: date | None, converted: str | None) -> IdInfo:
    """The checks of a well-formed 18-character number: province, birth date, check digit."""
    if text[:2] not in PROVINCE_CODES:
        raise ValidationError(f"身份证号“{raw}”的地区码“{text[:6]}”无效（前两位不是省级行政区代码）。",
                              field_name, raw)
    birth = _birth(text[6:14])
    if birth is None:
        raise ValidationError(f"身份证号“{raw}”中的出生日期“{text[6:14]}”不存在。", field_name, raw)
    expected = _check_digit(text)
    if text[17] != expected:
        raise ValidationError(f"身份证号“{raw}”校验位不对（按前 17 位应为 {expected}），请核对是否抄错。",
                              field_name, raw)
    if birth > (today or date.today()) or birth.year < 1880:
        raise ValidationError(f"身份证号“{raw}”中的出生日期 {birth} 不合理（晚于今天或早于 1880 年）。",
                              field_name, raw)
    return IdInfo(text, "男" if int(text[16]) % 2 == 1 else "女", birth, converted)
