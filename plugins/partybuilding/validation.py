"""The rules of a member (党员 and the people on the way to it), in one place: ``create_member`` and
``update_member`` raise on the first error (``raise_if``), the 党员信息 importer shows every error of
a row beside its column, the member form beside its field. No Qt; the database only for what a rule
must look up (the ID number already registered, the organisation and its scope)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from shell.core import fields
from shell.core.context import ServiceContext
from shell.errors import FieldError, ValidationError
from shell.idnumber import parse_id_number

from .models import CATEGORY_LABELS, STAGE_LABELS, STAGES, Member, PartyOrg

MEMBER_FIELDS = ("name", "sex", "ethnicity", "education", "category", "job", "phone", "address", "income_fen",
                 "fixed_dues_fen")
STAGE_DATES = ("applied_on", "activist_on", "candidate_on", "admitted_on", "full_on")
STAGE_DATE_LABELS = {"applied_on": "入党申请日期", "activist_on": "确定积极分子日期",
                     "candidate_on": "确定发展对象日期", "admitted_on": "接收预备党员（支部大会通过）日期",
                     "full_on": "转为正式党员日期"}
_PHONE_RE = re.compile(r"[\d\-+ ]{7,20}")


def member_org(ctx: ServiceContext, org_id: Any, *, org: PartyOrg | None = None) -> PartyOrg:
    """The organisation a member is registered in or moves to: exists (``NotFound``), in scope
    (``OutOfScope``), not dissolved, and one members belong to (level 2 and below). ``org``: the
    organisation itself when the caller has already fetched it in scope (an importer's lookup)."""
    from shell.core.scope import get_in_scope

    if org is None:
        if org_id is None or org_id == "":
            raise ValidationError("请选择所在党组织。", "org_id", org_id)
        org = get_in_scope(ctx, PartyOrg, org_id, "党组织")
    if not org.is_open:
        raise ValidationError(f"“{org.name}”已撤销，不能再加入。", "org_id", org_id)
    if org.level < 2:
        raise ValidationError(f"党员应编入党委、党总支、党支部、党小组或党员中心户，不能直接编入“{org.name}”。", "org_id", org_id)
    return org


def _error(exc: ValidationError, default_field: str) -> list[FieldError]:
    inner = getattr(exc, "errors", None)
    if inner:
        return list(inner)
    return [FieldError(exc.field or default_field, exc.message, exc.value)]


def member_field_errors(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The form items of ``values`` that are present (name, sex, category, amounts in fen, phone)."""
    out = dict(values)
    errors: list[FieldError] = []
    if "name" in out:
        try:
            out["name"] = fields.text(out["name"], "姓名", "name", max_len=64)
        except ValidationError as exc:
            errors.extend(_error(exc, "name"))
    if "sex" in out and out["sex"] not in ("男", "女"):
        errors.append(FieldError("sex", f"性别“{out['sex']}”应为“男”或“女”。", out["sex"]))
    if "category" in out and out["category"] not in CATEGORY_LABELS:
        errors.append(FieldError("category", f"人员类别“{out['category']}”无效。", out["category"]))
    for key, label in (("income_fen", "月收入"), ("fixed_dues_fen", "固定党费")):
        if out.get(key) is not None and (not isinstance(out[key], int) or out[key] < 0):
            errors.append(FieldError(key, f"{label}应为不小于 0 的整数（分）。", out[key]))
    if out.get("phone"):
        phone = str(out["phone"]).strip()
        if not _PHONE_RE.fullmatch(phone):
            errors.append(FieldError("phone", f"联系电话“{phone}”格式不对。", phone))
        out["phone"] = phone
    return out, errors


def stage_date_errors(stage: str, dates: Mapping[str, date | None], birth: date, today: date) -> list[FieldError]:
    """The dates a member at ``stage`` must have, in order, none in the future; 18 years at
    application; 转正 not before the year of probation is over."""
    from .services.common import add_months

    errors: list[FieldError] = []
    need = STAGES.index(stage) + 1
    prev = None
    for i, key in enumerate(STAGE_DATES):
        label = STAGE_DATE_LABELS[key]
        d = dates.get(key)
        if i < need:
            # Old records of members often lack the pre-admission dates: only the vote (and 转正) are required.
            if d is None and not (i < 3 and stage in ("probationary", "full")):
                errors.append(FieldError(key, f"{STAGE_LABELS[stage]}须填写{label}。"))
        elif d is not None:
            errors.append(FieldError(key, f"{STAGE_LABELS[stage]}不应有{label}（{d}）。", d))
        if d is None:
            continue
        if d > today:
            errors.append(FieldError(key, f"{label}（{d}）不能晚于今天。", d))
        elif prev is not None and d < prev[1]:
            errors.append(FieldError(key, f"{label}（{d}）不能早于{prev[0]}（{prev[1]}）。", d))
        prev = (label, d)
    applied = dates.get("applied_on") or dates.get("admitted_on")
    if applied is not None and add_months(birth, 12 * 18) > applied:
        errors.append(FieldError("applied_on", f"申请入党时须年满十八岁（出生于 {birth}，申请于 {applied}）。", applied))
    if stage == "full":
        full_on, admitted_on = dates.get("full_on"), dates.get("admitted_on")
        if full_on and admitted_on and full_on < add_months(admitted_on, 12):
            errors.append(FieldError("full_on", f"转正日期 {full_on} 早于预备期满（{add_months(admitted_on, 12)}）。",
                                     full_on))
    return errors


def registered_error(id_number: str, name: str) -> FieldError:
    return FieldError("id_number", f"身份证号 {id_number[:6]}…{id_number[-4:]} 已登记（{name}），不能重复登记。", id_number)


def registered(ctx: ServiceContext, id_numbers: list[str]) -> list[FieldError]:
    """``clean_member``'s "already registered" rule for many new members at once (an importer's file)."""
    from shell.core.importing import among, chunks

    out: list[FieldError] = []
    for part in chunks(ctx.session, list(dict.fromkeys(id_numbers))):
        q = select(Member.id_number, Member.name).where(among(ctx.session, Member.id_number, part))
        out.extend(registered_error(i, n) for i, n in ctx.session.execute(q))
    return out


def clean_member(draft: Mapping[str, Any], ctx: ServiceContext, current: Member | None = None, *,
                 unique: bool = True) -> tuple[dict[str, Any], list[FieldError]]:
    """The cleaned values of a member draft and every problem with it.

    New (``current`` None): ``name``, ``id_number``, ``org_id``, ``stage`` and the stage dates, the
    form items (``MEMBER_FIELDS``) and ``joined_on``; the sex comes from the ID number (a typed one
    must agree) and is returned with ``id_number`` (18 digits) and ``birth_date``. ``org`` is
    returned too (the organisation, in scope, open, at level 2 or below; ``org`` in the draft: the
    organisation already fetched in scope, instead of looking ``org_id`` up). Edit: only the form items
    in ``draft`` (the sex may not change: it follows the ID number). ``ctx.today()`` bounds dates.
    ``unique=False``: the caller checks "already registered" for many drafts at once (``registered``)."""
    errors: list[FieldError] = []
    if current is not None:
        values, errors = member_field_errors({k: v for k, v in draft.items() if k in MEMBER_FIELDS})
        if "sex" in values and values["sex"] != current.sex and not any(e.field == "sex" for e in errors):
            errors.append(FieldError("sex", "性别由身份证号确定，如有误请更正身份证号。", values["sex"]))
        return values, errors

    out: dict[str, Any] = {}
    info = None
    try:
        info = parse_id_number(draft.get("id_number"))
    except ValidationError as exc:
        errors.extend(_error(exc, "id_number"))
    stage = draft.get("stage") or "applicant"
    if stage not in STAGES:
        errors.append(FieldError("stage", f"未知的发展阶段“{stage}”。", stage))
    sex = draft.get("sex")
    if info is not None:
        if sex and sex != info.sex:
            errors.append(FieldError("sex", f"性别“{sex}”与身份证号（{info.sex}）不一致。", sex))
        dup = ctx.session.execute(select(Member.name).where(Member.id_number == info.number).limit(1)).first() \
            if unique else None
        if dup is not None:
            errors.append(registered_error(info.number, dup.name))
        out.update(id_number=info.number, birth_date=info.birth_date)
    items = {k: draft.get(k) for k in MEMBER_FIELDS}
    items["ethnicity"] = items["ethnicity"] or "汉族"
    items["category"] = items["category"] or "employed"
    items["sex"] = info.sex if info is not None else None
    values, item_errors = member_field_errors({k: v for k, v in items.items() if k != "sex" or v is not None})
    errors.extend(item_errors)
    out.update(values)
    dates = {k: draft.get(k) for k in STAGE_DATES}
    today = ctx.today()
    if info is not None and stage in STAGES:
        errors.extend(stage_date_errors(stage, dates, info.birth_date, today))
    out.update(dates, stage=stage)
    try:   # NotFound (deleted meanwhile) and OutOfScope are not field errors: they propagate
        out["org"] = member_org(ctx, draft.get("org_id"), org=draft.get("org"))
    except ValidationError as exc:
        errors.extend(_error(exc, "org_id"))
    joined_on = draft.get("joined_on") or today
    if joined_on > today:
        errors.append(FieldError("joined_on", f"编入组织日期（{joined_on}）不能晚于今天。", joined_on))
    out["joined_on"] = joined_on
    return out, errors


def check_member(draft: Mapping[str, Any], ctx: ServiceContext, *, current: Member | None = None) -> list[FieldError]:
    return clean_member(draft, ctx, current)[1]
