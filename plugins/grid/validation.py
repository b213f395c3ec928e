"""The rules of the grid's registers, one place each: the service (register/update), the Excel
import and the form all check a person, a house, a household or an organisation here, with the
same wording.

``clean_<aggregate>(draft, ctx, current=None) -> (cleaned, errors)`` checks what the draft alone
decides (names, codes, ID numbers, phones, dates, choices) and returns the cleaned values with every
problem as a ``FieldError`` — the service raises the first (``raise_if``), the importer lists them
per row, the form shows them beside the fields. ``current`` is the record being edited (None for a
new one: then the required fields must be there). ``check_<aggregate>`` returns the errors only.

What needs the database (the area in scope, a duplicate ID number or code, one head per household)
is checked by the service per record and by the importer once for the whole file, both with the
message functions below (``*_taken``), so the two cannot word it differently.

Pure: no Qt, no session; ``ctx`` is only asked for ``today()`` (an importer passes ``Today(day)``)."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from operator import mul
from typing import Any

from shell.core import fields
from shell.errors import FieldError, ValidationError
from shell.idnumber import parse_id_number

from .models import HOUSE_USES, ORG_KINDS, PERSON_KINDS

Cleaned = tuple[dict[str, Any], list[FieldError]]


class Today:
    """A context whose ``today()`` is fixed: an importer asks once per file, not once per row."""

    __slots__ = ("day",)

    def __init__(self, day: date):
        self.day = day

    def today(self) -> date:
        return self.day


def _today(ctx) -> date | None:
    return ctx.today() if ctx is not None else None


# --- persons ---------------------------------------------------------------------------------------
# The optional fields of a person (besides name, ID number, kind, phone, area, household, house).
PERSON_FIELDS = frozenset({
    "former_name", "nationality", "ethnicity", "native_place", "marital_status", "political_status",
    "education", "religion", "occupation_category", "occupation", "workplace", "registered_place",
    "registered_address", "current_place", "current_address", "relation_to_head", "residence_match",
    "permit_type", "permit_start", "permit_end", "dwelling_type", "inflow_reason", "key_attention",
    "foreign_surname", "foreign_given_name", "visit_purpose", "arrival_date", "expected_departure", "notes",
})
DATE_LABELS = {"permit_start": "证件起始日期", "permit_end": "证件截止日期", "arrival_date": "抵达日期",
               "expected_departure": "预计离开日期"}
DATE_FIELDS = frozenset(DATE_LABELS)
NAME_MAX = 64
KIND_BY_LABEL = {v: k for k, v in PERSON_KINDS.items()} | {"户籍": "registered", "流动": "floating",
                                                           "境外": "overseas", "常住人口": "registered"}
KIND_CHOICES = "户籍人口、流动人口或境外人员"


def person_kind(value: Any) -> str:
    """A kind code (registered/floating/overseas) or its label (户籍人口, 流动人口, 境外人员 …); empty →
    registered."""
    code = KIND_BY_LABEL.get(value) if type(value) is str else None   # the usual cell: a label as typed
    if code is not None:
        return code
    if value is None or value == "":
        return "registered"
    if value in PERSON_KINDS:
        return value
    code = KIND_BY_LABEL.get(fields.clean_text(value))
    if code is None:
        raise ValidationError(f"人口类别“{value}”无效，应为{KIND_CHOICES}。", "kind", value)
    return code


def _name(value: Any) -> str:
    if type(value) is str and "\u3000" not in value:       # the usual cell, checked inline (once per row)
        text = value.strip()
        if text and len(text) <= NAME_MAX:
            return text
    return fields.text(value, "姓名", "name", max_len=NAME_MAX)


def _phone(value: Any) -> str | None:
    if type(value) is str and len(value) == 11 and value.isdigit() and value[0] == "1":
        return value                                       # a mobile number as typed: fields.phone's first case
    return fields.phone(value)


def _optional_text(value: Any) -> str | None:
    """fields.clean_text(value) or None, inline: the importer runs it for most cells of a file."""
    if value is None:
        return None
    if type(value) is not str:
        value = str(value)
    if "\u3000" in value:
        value = value.replace("\u3000", " ")
    return value.strip() or None


def _date_of(key: str):
    label = DATE_LABELS[key]
    return lambda value: fields.parse_date(value, label, key, required=False)


# field → its cleaner (a dict lookup per cell: the importer runs this for every cell of a large file)
_PERSON_CLEANERS: dict[str, Any] = {
    **{k: _optional_text for k in PERSON_FIELDS}, **{k: _date_of(k) for k in DATE_FIELDS},
    "name": _name, "kind": person_kind, "phone": _phone, "key_attention": bool, "notes": fields.clean_text,
}


def clean_person(draft: Mapping[str, Any], ctx=None, current=None) -> Cleaned:
    """A person's own fields. For a new person ``name`` and ``id_number`` are required; the cleaned
    ID number also gives ``sex`` and ``birth_date``, and an upgraded 15-digit number a note in
    ``id_note`` (an edit cannot change the ID number). The area, household and house are the
    caller's (ids checked against the database). Unknown fields are refused (a typo must not vanish)."""
    return person_cleaner(tuple(draft), current is None)(tuple(draft.values()), _today(ctx))


@lru_cache(maxsize=256)
def person_cleaner(keys: tuple[str, ...], new: bool = True) -> Callable[[Sequence[Any], date | None], Cleaned]:
    """``clean_person`` for drafts with these ``keys`` (in this order), compiled once: each field's
    cleaner looked up once, not per row — an importer calls the result with each row's values
    (``clean(values, today)``); ``clean_person`` itself is this for its draft's keys."""
    cleaners = _PERSON_CLEANERS
    steps = tuple((key, cleaners.get(key)) for key in keys)
    missing = [FieldError(key, f"请填写{label}。") for key, label in (("name", "姓名"), ("id_number", "身份证号"))
               if key not in keys] if new and ("name" not in keys or "id_number" not in keys) else []
    dates = "permit_start" in keys and "permit_end" in keys

    def clean(values: Sequence[Any], today: date | None) -> Cleaned:
        errors: list[FieldError] = []
        out: dict[str, Any] = {}
        for (key, fn), value in zip(steps, values, strict=True):
            try:
                if fn is not None:
                    out[key] = fn(value)
                elif key == "id_number" and new:
                    info = parse_id_number(value, "id_number", today)
                    out["id_number"], out["sex"], out["birth_date"] = info.number, info.sex, info.birth_date
                    out["id_note"] = f"原 15 位身份证号 {info.converted_from} 已升位。" if info.converted_from else ""
                else:
                    errors.append(FieldError(key, f"未知的人口字段：{key}。", value))
            except ValidationError as e:
                errors.append(FieldError(e.field or key, e.message, value))
        if missing:
            errors.extend(missing)
        if dates:
            start = out.get("permit_start")
            if start is not None:
                end = out.get("permit_end")
                if end is not None and end < start:
                    errors.append(FieldError("permit_end", "证件截止日期早于起始日期。", end))
        return out, errors
    return clean


def check_person(draft: Mapping[str, Any], ctx=None, *, current=None) -> list[FieldError]:
    return clean_person(draft, ctx, current)[1]


def id_taken(person_name: str, area: str) -> str:
    """The ID number belongs to a registered person."""
    return f"身份证号已登记：{person_name}（{area}）"


def head_taken(head_name: str) -> str:
    """The household already has a head."""
    return f"该户已有户主：{head_name}。一户只能有一名户主。"


def head_in_file(number: str, row: int) -> str:
    return f"户号 {number} 在第 {row} 行已有户主。一户只能有一名户主。"


# --- houses ----------------------------------------------------------------------------------------
CODE_MAX = 32
HOUSE_FIELDS = frozenset({"area_id", "code", "address", "house_use", "building_use", "floor_area", "hazard",
                          "owner_name", "owner_id_number", "owner_phone", "rental_pledge_on"})


def code(value: Any, label: str, field: str, *, max_len: int = CODE_MAX) -> str:
    """A register code (房屋编号, 户号): full-width forms folded, spaces dropped; required."""
    text = fields.code_text(value)
    if not text:
        raise ValidationError(f"请填写{label}。", field, value)
    if len(text) > max_len:
        raise ValidationError(f"{label}太长（{len(text)} 位，最多 {max_len} 位）。", field, value)
    return text


def house_use(value: Any) -> str:
    if value is None or fields.clean_text(value) == "":
        return "自住"
    use = fields.clean_text(value)
    if use not in HOUSE_USES:
        raise ValidationError(f"房屋用途“{value}”无效，应为{'、'.join(HOUSE_USES)}之一。", "house_use", value)
    return use


def floor_area(value: Any) -> float | None:
    if value is None or value == "" or (isinstance(value, str) and not value.strip()):
        return None
    try:
        area = float(fields.code_text(value))
    except ValueError:
        raise ValidationError(f"建筑面积“{value}”不是数字。", "floor_area", value) from None
    if not 0 < area < 1_000_000:
        raise ValidationError(f"建筑面积“{value}”不合理：应大于 0 平方米。", "floor_area", value)
    return area


def _clean_text_or_none(value: Any) -> str | None:
    return fields.clean_text(value) or None


def _house_cleaners(new: bool) -> dict[str, Any]:
    """field → its cleaner (one dict lookup per cell instead of a chain of key comparisons: the
    importer runs this for every cell of a file); ``owner_id_number`` needs the day (see below)."""
    table: dict[str, Any] = {
        "address": lambda v: fields.text(v, "地址", "address", max_len=200),
        "house_use": house_use,
        "building_use": lambda v: fields.clean_text(v) or ("住宅" if new else None),
        "floor_area": floor_area,
        "owner_phone": lambda v: fields.phone(v, "owner_phone"),
        "rental_pledge_on": lambda v: fields.parse_date(v, "责任书签订日期", "rental_pledge_on", required=False),
        "hazard": _clean_text_or_none, "owner_name": _clean_text_or_none,
    }
    if new:   # the code and the grid of an existing house do not change
        table["code"] = lambda v: code(v, "房屋编号", "code")
        table["area_id"] = lambda v: v
    return table


_HOUSE_CLEANERS = {True: _house_cleaners(True), False: _house_cleaners(False)}


def clean_house(draft: Mapping[str, Any], ctx=None, current=None) -> Cleaned:
    """A house's fields; for a new one ``code`` and ``address`` are required (the code and the grid of
    an existing house do not change)."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    new = current is None
    cleaners = _HOUSE_CLEANERS[new]
    for key, value in draft.items():
        fn = cleaners.get(key)
        try:
            if fn is not None:
                out[key] = fn(value)
            elif key == "owner_id_number":
                out[key] = parse_id_number(value, key, _today(ctx)).number if fields.clean_text(value) else None
            else:
                errors.append(FieldError(key, f"房屋字段“{key}”不能修改。", value))
        except ValidationError as e:
            errors.append(FieldError(e.field or key, e.message, value))
    if new:
        for key, label in (("code", "房屋编号"), ("address", "地址")):
            if key not in draft:
                errors.append(FieldError(key, f"请填写{label}。"))
    return out, errors


def check_house(draft: Mapping[str, Any], ctx=None, *, current=None) -> list[FieldError]:
    return clean_house(draft, ctx, current)[1]


def house_taken(code_: str, address: str) -> str:
    return f"房屋编号“{code_}”已登记：{address}。"


# --- households ------------------------------------------------------------------------------------
def clean_household(draft: Mapping[str, Any], ctx=None, current=None) -> Cleaned:
    """A household's fields: ``number`` (户号, required for a new one), ``address``, ``notes``;
    ``area_id`` and ``house_id`` pass through (the service and the importer check them)."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    new = current is None
    for key, value in draft.items():
        try:
            if key == "number" and new:
                out[key] = code(value, "户号", "number")
            elif key == "address":
                out[key] = fields.text(value, "地址", "address", required=False, max_len=200) or ""
            elif key == "notes":
                out[key] = fields.clean_text(value)
            elif key in ("area_id", "house_id"):
                out[key] = value
            else:
                errors.append(FieldError(key, f"户的字段“{key}”不能修改。", value))
        except ValidationError as e:
            errors.append(FieldError(e.field or key, e.message, value))
    if new and "number" not in draft:
        errors.append(FieldError("number", "请填写户号。"))
    return out, errors


def check_household(draft: Mapping[str, Any], ctx=None, *, current=None) -> list[FieldError]:
    return clean_household(draft, ctx, current)[1]


def household_taken(number: str, area: str) -> str:
    return f"户号“{number}”已登记（{area}）。"


# --- organisations ---------------------------------------------------------------------------------
# Office spellings of the organisation kinds.
ORG_KIND_ALIASES = {"非公有制经济组织": "非公有制经济组织", "非公企业": "非公有制经济组织", "非公经济组织": "非公有制经济组织",
                    "企业": "非公有制经济组织", "个体工商户": "非公有制经济组织", "社会组织": "社会组织",
                    "社团": "社会组织", "民办非企业单位": "社会组织", "民非": "社会组织", "基金会": "社会组织"}
YES = frozenset({"是", "有", "已建立", "已建", "1", "y", "yes", "true", "√"})
NO = frozenset({"否", "无", "未建立", "未建", "0", "n", "no", "false", "×", ""})
ORG_FIELDS = frozenset({"area_id", "kind", "name", "credit_code", "legal_rep", "security_head", "phone", "address",
                        "hazard", "has_party_org", "party_members"})


def org_kind(value: Any) -> str:
    kind = ORG_KIND_ALIASES.get(fields.clean_text(value))
    if kind is None:
        raise ValidationError(f"组织类别“{fields.clean_text(value)}”无效，应为{'或'.join(ORG_KINDS)}。", "kind", value)
    return kind


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"      # python-stdnum's stdnum.cn.uscc, inline below
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _uscc_valid(text: str) -> bool:
    """True when ``uscc.validate(text)`` would return ``text`` as it is (the usual cell; the import
    checks thousands). Anything else goes through python-stdnum, which says what is wrong."""
    if len(text) != 18 or not text.isascii() or not text[:8].isdigit():
        return False
    try:
        total = sum(map(mul, map(_USCC_VALUE.__getitem__, text[:17]), _USCC_WEIGHTS))
    except KeyError:
        return False
    return _USCC_ALPHABET[(31 - total) % 31] == text[17]


def credit_code(value: Any, field: str = "credit_code") -> str:
    """统一社会信用代码 (GB 32100-2015), its check character verified."""
    text = fields.code_text(value).upper()
    if _uscc_valid(text):
        return text
    from stdnum.cn import uscc

    if not text:
        raise ValidationError("请填写统一社会信用代码。", field, value)
    try:
        return uscc.validate(text)
    except uscc.InvalidChecksum:
        raise ValidationError(f"统一社会信用代码“{value}”校验位不对，请核对。", field, value) from None
    except uscc.ValidationError:
        raise ValidationError(f"统一社会信用代码“{value}”格式不对：应为 18 位数字或大写字母。", field, value) from None


def yes_no(value: Any, label: str, field: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    flag = fields.code_text(value).lower()
    if flag in YES:
        return True
    if flag in NO:
        return False
    raise ValidationError(f"{label}应填“是”或“否”", field, value)


def party_members(value: Any) -> int:
    """党员人数: a whole number ≥ 0 ("5", 5, "5人")."""
    if value is None or value == "":
        return 0
    if type(value) is float and value.is_integer() and value >= 0:
        return int(value)                                  # a number cell as calamine reads it
    if isinstance(value, str):
        value = fields.code_text(value).removesuffix("人").removesuffix("名") or "0"
    return fields.positive_int(value, "党员人数", "party_members", allow_zero=True)


_ORG_CLEANERS: dict[str, Any] = {   # field → its cleaner: one dict lookup per cell (see _house_cleaners)
    "name": lambda v: fields.text(v, "组织名称", "name", max_len=100),
    "kind": org_kind,
    "credit_code": credit_code,
    "phone": fields.phone,
    "has_party_org": lambda v: yes_no(v, "是否建立党组织", "has_party_org"),
    "party_members": party_members,
    "legal_rep": _clean_text_or_none, "security_head": _clean_text_or_none, "address": _clean_text_or_none,
    "hazard": _clean_text_or_none,
    "area_id": lambda v: v,
}


def clean_organisation(draft: Mapping[str, Any], ctx=None, current=None) -> Cleaned:
    """An organisation's fields; for a new one ``name``, ``kind`` and ``credit_code`` are required."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    new = current is None
    cleaners = _ORG_CLEANERS
    for key, value in draft.items():
        fn = cleaners.get(key)
        if fn is None:
            errors.append(FieldError(key, f"组织字段“{key}”不能修改。", value))
            continue
        try:
            out[key] = fn(value)
        except ValidationError as e:
            errors.append(FieldError(e.field or key, e.message, value))
    if new:
        for key, label in (("name", "组织名称"), ("kind", "组织类别"), ("credit_code", "统一社会信用代码")):
            if key not in draft:
                errors.append(FieldError(key, f"请填写{label}。"))
    return out, errors


def check_organisation(draft: Mapping[str, Any], ctx=None, *, current=None) -> list[FieldError]:
    return clean_organisation(draft, ctx, current)[1]


def organisation_taken(name: str, area: str) -> str:
    return f"统一社会信用代码已登记：{name}（{area}）"
