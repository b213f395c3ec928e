"""Field helpers every plugin's validators, services and importers share (pure: no Qt, no session).

Each helper cleans one value the way office staff type it (full-width digits and spaces, dates as
2024/1/5 or 2024年1月5日, Excel's date serial numbers) and raises ``shell.errors.ValidationError``
with a Chinese message naming the field and the value when it cannot. ``field`` is the attribute
name (forms show the message beside it), ``label`` the Chinese column/field title.
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, overload

from shell.clock import LOCAL_TZ
from shell.errors import ValidationError

# Mobile 11 digits; landline with area code (dash optional) and extension; local 7–8 digits.
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8})$")

_EXCEL_EPOCH = date(1899, 12, 30)     # Excel's day 0 (it counts the fictitious 1900-02-29)
_EXCEL_MIN, _EXCEL_MAX = 1, 2958465   # 1900-01-01 … 9999-12-31
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_RE = re.compile(r"^(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2}))?$")


def clean_text(value: Any) -> str:
    """None → "", anything else as text, the full-width space folded, outer spaces stripped
    (Chinese punctuation is kept as typed)."""
    if value is None:
        return ""
    return str(value).replace("\u3000", " ").strip()


def code_text(value: Any) -> str:
    """For numbers and codes: full-width characters (Ｘ, １２３, －) folded to ASCII, all whitespace dropped."""
    if value is None:
        return ""
    s = str(value)
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
    return "".join(s.split())


@overload
def text(value: Any, label: str, field: str, *, required: Literal[True] = True, max_len: int = 100) -> str: ...
@overload
def text(value: Any, label: str, field: str, *, required: bool, max_len: int = 100) -> str | None: ...
def text(value: Any, label: str, field: str, *, required: bool = True, max_len: int = 100) -> str | None:
    """A free-text field: cleaned; empty → "请填写…" when required, else None; longer than ``max_len`` refused."""
    s = clean_text(value)
    if not s:
        if required:
            raise ValidationError(f"请填写{label}。", field, value)
        return None
    if len(s) > max_len:
        raise ValidationError(f"{label}太长（{len(s)} 字，最多 {max_len} 字）。", field, value)
    return s


def phone(value: Any, field: str = "phone", label: str = "联系电话", *, required: bool = False) -> str | None:
    """A phone number (full-width digits and spaces folded); empty → None unless required."""
    s = code_text(value)
    if not s:
        if required:
            raise ValidationError(f"请填写{label}。", field, value)
        return None
    if not PHONE_RE.match(s):
        raise ValidationError(f"{label}“{value}”格式不对：手机号 11 位，固话如 010-62345678。", field, value)
    return s


def _number_text(value: Any) -> str:
    return code_text(value).replace(",", "")    # "1,200" as Excel shows it


def positive_int(value: Any, label: str, field: str, *, allow_zero: bool = False, maximum: int | None = None) -> int:
    """A whole number > 0 (≥ 0 with ``allow_zero``), at most ``maximum``; "３", "3.0" and 3.0 are 3."""
    if isinstance(value, bool):
        raise ValidationError(f"{label}应为整数（填写的是“{value}”）。", field, value)
    if isinstance(value, int):
        n = value
    else:
        s = _number_text(value)
        if not s:
            raise ValidationError(f"请填写{label}。", field, value)
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise ValidationError(f"{label}应为整数（填写的是“{value}”）。", field, value) from None
        if not d.is_finite() or d != d.to_integral_value():
            raise ValidationError(f"{label}应为整数（填写的是“{value}”）。", field, value)
        n = int(d)
    if n < 0 or (n == 0 and not allow_zero):
        bound = "不能小于 0" if allow_zero else "必须大于 0"
        raise ValidationError(f"{label}{bound}（填写的是 {n}）。", field, value)
    if maximum is not None and n > maximum:
        raise ValidationError(f"{label}不能超过 {maximum}（填写的是 {n}）。", field, value)
    return n


def positive_decimal(value: Any, label: str, field: str, *, allow_zero: bool = False, places: int = 2) -> Decimal:
    """An amount > 0 (≥ 0 with ``allow_zero``) with at most ``places`` decimals (a float's binary noise
    such as 0.1 + 0.2 is rounded away; "1.234" typed with places=2 is refused)."""
    if isinstance(value, bool):
        raise ValidationError(f"{label}应为数字（填写的是“{value}”）。", field, value)
    if isinstance(value, float):
        d = Decimal(repr(value))
    elif isinstance(value, (int, Decimal)):
        d = Decimal(value)
    else:
        s = _number_text(value)
        if not s:
            raise ValidationError(f"请填写{label}。", field, value)
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise ValidationError(f"{label}应为数字（填写的是“{value}”）。", field, value) from None
    if not d.is_finite():
        raise ValidationError(f"{label}应为数字（填写的是“{value}”）。", field, value)
    quantum = Decimal(1).scaleb(-places)
    if isinstance(value, float):     # 0.1 + 0.2 → 0.3, not "too many decimals"
        rounded = d.quantize(quantum, rounding=ROUND_HALF_UP)
        if abs(d - rounded) < Decimal("1e-9"):
            d = rounded
    if d != d.quantize(quantum, rounding=ROUND_HALF_UP):
        raise ValidationError(f"{label}最多 {places} 位小数（填写的是 {value}）。", field, value)
    d = d.quantize(quantum)
    if d < 0 or (d == 0 and not allow_zero):
        bound = "不能小于 0" if allow_zero else "必须大于 0"
        raise ValidationError(f"{label}{bound}（填写的是 {value}）。", field, value)
    return d


def _date_or_none(value: Any) -> date | None:
    """The date a cell means, or None when it is not one (no message: callers word it)."""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        n = int(value)                   # a date-time serial's day part
        if 19000101 <= n <= 99991231 and _COMPACT_RE.match(str(n)):
            return _ymd(str(n)[:4], str(n)[4:6], str(n)[6:])
        if _EXCEL_MIN <= n <= _EXCEL_MAX:
            return _EXCEL_EPOCH + timedelta(days=n)
        return None
    s = clean_text(value)
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
    parts = s.replace("T", " ").split()
    if len(parts) == 2 and _time_or_none(parts[1]) is not None:
        parts = parts[:1]     # "2024-01-05 00:00:00", a datetime written as text: its date
    if not parts:
        return None
    s = "".join(parts)
    m = _DATE_RE.match(s) or _COMPACT_RE.match(s)
    return _ymd(*m.groups()) if m else None


def _time_or_none(s: str) -> time | None:
    m = _TIME_RE.match(code_text(s))
    if not m:
        return None
    h, mi, se = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    return time(h, mi, se) if h <= 23 and mi <= 59 and se <= 59 else None


def _ymd(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


@overload
def parse_date(value: Any, label: str, field: str, *, required: Literal[True] = True) -> date: ...
@overload
def parse_date(value: Any, label: str, field: str, *, required: bool) -> date | None: ...
def parse_date(value: Any, label: str, field: str, *, required: bool = True) -> date | None:
    """A date from a date/datetime, an Excel serial number, or text 2024-01-05, 2024/1/5, 2024.1.5,
    20240105, 2024年1月5日 (full-width digits too). Empty → "请填写…" when required, else None."""
    if value is None or (isinstance(value, str) and not clean_text(value)):
        if required:
            raise ValidationError(f"请填写{label}。", field, value)
        return None
    d = _date_or_none(value)
    if d is None:
        raise ValidationError(f"{label}“{clean_text(value)}”不是日期，请写成 2024-01-05。", field, value)
    return d


@overload
def parse_datetime(value: Any, label: str, field: str, *, required: Literal[True] = True) -> datetime: ...
@overload
def parse_datetime(value: Any, label: str, field: str, *, required: bool) -> datetime | None: ...
def parse_datetime(value: Any, label: str, field: str, *, required: bool = True) -> datetime | None:
    """A moment, returned in UTC (the storage rule). A naive datetime or text is Asia/Shanghai time;
    a date alone is 00:00 that day in Shanghai; an Excel serial's fraction is the time of day. Text:
    any date form ``parse_date`` takes, optionally followed by HH:MM or HH:MM:SS."""
    if value is None or (isinstance(value, str) and not clean_text(value)):
        if required:
            raise ValidationError(f"请填写{label}。", field, value)
        return None
    bad = ValidationError(f"{label}“{clean_text(value)}”不是日期时间，请写成 2024-01-05 08:30。", field, value)
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
        return local.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), LOCAL_TZ).astimezone(UTC)
    if isinstance(value, bool):
        raise bad
    if isinstance(value, (int, float)):
        day = _date_or_none(value)
        if day is None:
            raise bad
        frac = float(value) - int(value) if isinstance(value, float) else 0.0
        seconds = round(frac * 86400)
        return (datetime.combine(day, time(), LOCAL_TZ) + timedelta(seconds=seconds)).astimezone(UTC)
    raw = clean_text(value)
    parts = raw.replace("T", " ").split()
    day = _date_or_none(parts[0]) if parts else None
    if day is None or len(parts) > 2:
        raise bad
    t = _time_or_none(parts[1]) if len(parts) == 2 else time()
    if t is None:
        raise bad
    return datetime.combine(day, t, LOCAL_TZ).astimezone(UTC)
