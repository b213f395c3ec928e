"""The rules of the volunteer plugin's imported aggregates, in one place: the service raises on the
first error (``raise_if``), the importer shows every error of a row beside its column, the form
beside its field. No Qt; the database only for what a rule must look up (uniqueness, scope).

- volunteer  (``clean_volunteer`` / ``check_volunteer``): 志愿者 registration and edit;
- attendance (``check_attendance``): one volunteer's sign-in and sign-out of an activity as the
  attendance sheet records it (the counter's rules: activity open, volunteer active, not signed
  yet, capacity, ``services.time_problems``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from shell.clock import LOCAL_TZ, format_local
from shell.core import fields
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.errors import FieldError, ValidationError
from shell.idnumber import IdInfo, parse_id_number

from .models import ACTIVITY_STATES, ATTENDANCE_STATES, Activity, Attendance, Volunteer
from .rules import P_ACTIVITY, P_APPROVE, load_rules
from .services.common import local_date

_MARGIN: Any = object()   # services.time_problems' default: the rules' margin
VOLUNTEER_LEVELS = ("community", "grid", "microgrid")
VOLUNTEER_LABELS = {"number": "志愿者编号", "name": "姓名", "id_number": "身份证号", "gender": "性别",
                    "birth_date": "出生日期", "phone": "联系电话", "area_id": "所属社区", "skills": "服务技能",
                    "address": "住址", "registered_on": "登记日期", "notes": "备注"}


def _errors_of(exc: ValidationError, default_field: str) -> list[FieldError]:
    inner = getattr(exc, "errors", None)
    if inner:
        return list(inner)
    return [FieldError(exc.field or default_field, exc.message, exc.value)]


def skills_text(value: Any) -> str:
    """Skills typed as one text (、 , ， ; ； or spaces between them) or as a list: one 、-joined text
    without repeats, at most 200 characters."""
    if value is None:
        return ""
    if isinstance(value, str):
        parts = re.split(r"[、,，;；\s]+", value)
    else:
        parts = [str(v) for v in value]
    clean = list(dict.fromkeys(p.strip() for p in parts if p and p.strip()))
    text = "、".join(clean)
    if len(text) > 200:
        raise ValidationError("服务技能太长（最多 200 字）。", "skills", value)
    return text


def volunteer_area(ctx: ServiceContext, area_id: Any) -> Area:
    """The community (or grid) a volunteer is registered in: exists, in scope (``OutOfScope``
    otherwise), not the street itself."""
    from shell.core.scope import area_in_scope

    area = area_in_scope(ctx, area_id, "area_id", open_only=False, label="所属社区")
    if area.level not in VOLUNTEER_LEVELS:
        raise ValidationError(f"志愿者应登记在社区（“{area.name}”是{area.level_label}）。", "area_id", area_id)
    return area


def id_taken_error(id_number: str, name: str, number: str) -> FieldError:
    return FieldError("id_number", f"身份证号已登记为志愿者“{name}”（编号 {number}），不能重复登记。", id_number)


def number_taken_error(number: str) -> FieldError:
    return FieldError("number", f"志愿者编号“{number}”已被使用。", number)


def _id_taken(ctx: ServiceContext, id_number: str, exclude_id: int | None) -> FieldError | None:
    q = select(Volunteer.name, Volunteer.number).where(Volunteer.id_number == id_number)
    if exclude_id is not None:
        q = q.where(Volunteer.id != exclude_id)
    other = ctx.session.execute(q.limit(1)).first()
    return None if other is None else id_taken_error(id_number, other.name, other.number)


def _number_taken(ctx: ServiceContext, number: str, exclude_id: int | None) -> FieldError | None:
    q = select(Volunteer.id).where(Volunteer.number == number)
    if exclude_id is not None:
        q = q.where(Volunteer.id != exclude_id)
    return None if ctx.session.scalar(q.limit(1)) is None else number_taken_error(number)


def taken(ctx: ServiceContext, id_numbers: list[str], numbers: list[str]) -> list[FieldError]:
    """The uniqueness rules of ``clean_volunteer`` for many new volunteers at once (an importer's
    file: a few queries instead of two per row): the errors of the ID numbers and volunteer numbers
    already registered."""
    from shell.core.importing import among, chunks

    out: list[FieldError] = []
    for part in chunks(ctx.session, list(dict.fromkeys(id_numbers))):
        q = select(Volunteer.id_number, Volunteer.name, Volunteer.number).where(among(ctx.session, Volunteer.id_number, part))
        out.extend(id_taken_error(i, n, no) for i, n, no in ctx.session.execute(q))
    for part in chunks(ctx.session, list(dict.fromkeys(numbers))):
        used = select(Volunteer.number).where(among(ctx.session, Volunteer.number, part))
        out.extend(number_taken_error(no) for no in ctx.session.scalars(used))
    return out


def clean_volunteer(draft: Mapping[str, Any], ctx: ServiceContext, current: Volunteer | None = None, *,
                    unique: bool = True) -> tuple[dict[str, Any], list[FieldError]]:
    """The cleaned values of a volunteer draft and every problem with it.

    New (``current`` None): every field is checked, missing ones as empty; ``number`` None means
    "number it automatically"; ``gender``/``birth_date``, when given, must match the ID number and
    are returned from it. Edit (``current`` the record): only the fields in ``draft`` are checked
    (and returned); an ID number or number equal to another volunteer's is refused, not to
    ``current``'s own. Dates may come as date objects or as typed text. ``unique=False``: the caller
    checks uniqueness itself for many drafts at once (``taken``)."""
    new = current is None
    exclude = None if current is None else current.id
    out: dict[str, Any] = {}
    errors: list[FieldError] = []

    def want(key: str) -> bool:
        return new or key in draft

    def run(key: str, fn, *args, **kwargs) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            errors.extend(_errors_of(exc, key))
            return None

    if want("area_id"):
        area = run("area_id", volunteer_area, ctx, draft.get("area_id"))
        if area is not None:
            out["area_id"] = area.id
    if want("name"):
        name = run("name", fields.text, draft.get("name"), "姓名", "name", max_len=64)
        if name is not None:
            out["name"] = name
    if want("id_number"):
        info: IdInfo | None = run("id_number", parse_id_number, draft.get("id_number"))
        if info is not None:
            if new:
                gender = fields.clean_text(draft.get("gender"))
                if gender and gender != info.sex:
                    errors.append(FieldError("gender", f"性别“{gender}”与身份证号不符（应为{info.sex}）。", gender))
                birth = run("birth_date", fields.parse_date, draft.get("birth_date"), "出生日期", "birth_date",
                            required=False)
                if birth is not None and birth != info.birth_date:
                    errors.append(FieldError("birth_date", f"出生日期 {birth} 与身份证号不符（应为 {info.birth_date}）。",
                                             draft.get("birth_date")))
            dup = _id_taken(ctx, info.number, exclude) if unique else None
            if dup is not None:
                errors.append(dup)
            out.update(id_number=info.number, gender=info.sex, birth_date=info.birth_date)
    if want("number"):
        number = run("number", fields.text, draft.get("number"), "志愿者编号", "number", required=not new, max_len=32)
        if number and unique:
            dup = _number_taken(ctx, number, exclude)
            if dup is not None:
                errors.append(dup)
        out["number"] = number or None
    if want("phone"):
        out["phone"] = run("phone", fields.phone, draft.get("phone"), "phone", "联系电话") or ""
    if want("skills"):
        out["skills"] = run("skills", skills_text, draft.get("skills")) or ""
    if want("address"):
        out["address"] = run("address", fields.text, draft.get("address"), "住址", "address", required=False,
                             max_len=200) or ""
    if new or "registered_on" in draft:
        out["registered_on"] = run("registered_on", fields.parse_date, draft.get("registered_on"), "登记日期",
                                   "registered_on", required=False)
    if want("notes"):
        out["notes"] = fields.clean_text(draft.get("notes"))
    return out, errors


def check_volunteer(draft: Mapping[str, Any], ctx: ServiceContext, *, current: Volunteer | None = None
                    ) -> list[FieldError]:
    return clean_volunteer(draft, ctx, current)[1]


# ------------------------------------------------------------------------------------- attendance

def check_attendance(draft: Mapping[str, Any], ctx: ServiceContext, *, current: Attendance | None = None,
                     margin: Any = _MARGIN, taken: dict[int, int] | None = None) -> list[FieldError]:
    """What stops ``draft`` from being recorded as one sign-in and sign-out: ``activity`` (the
    Activity, in scope) closed, ``volunteer`` (the Volunteer, in scope) stopped, already signed
    (``current``: the volunteer's attendance of the activity, when there is one), the activity full,
    and the times ``signed_in_at``/``signed_out_at`` (aware datetimes; None when unreadable) by
    ``services.time_problems`` (``margin`` as it takes it). ``taken``: places taken per activity id,
    counted here once and moved on by the caller for every row it accepts (an importer's sheet)."""

    errors: list[FieldError] = []
    activity: Activity | None = draft.get("activity")
    volunteer: Volunteer | None = draft.get("volunteer")
    t_in: datetime | None = draft.get("signed_in_at")
    t_out: datetime | None = draft.get("signed_out_at")
    if activity is not None and activity.status != "open":
        errors.append(FieldError("activity_id", f"活动“{activity.name}”{ACTIVITY_STATES.get(activity.status, activity.status)}，"
                                                "不能再签到。", activity.id))
        activity = None
    if volunteer is not None and not volunteer.active:
        errors.append(FieldError("volunteer_id", f"志愿者“{volunteer.name}”已停用，不能签到。", volunteer.number))
        volunteer = None
    if activity is None or volunteer is None:
        if t_in is not None and t_out is not None and t_out <= t_in:
            errors.append(FieldError("signed_out_at", "签退时间应晚于签到时间。", t_out))
        return errors
    if t_in is not None or t_out is not None:
        kw = {} if margin is _MARGIN else {"margin": margin}
        for field_, message in time_problems(ctx, activity, volunteer.name, t_in, t_out, **kw):
            errors.append(FieldError(field_, message, t_out if field_ == "signed_out_at" else t_in))
    if current is not None and current.status not in ("enrolled", "cancelled"):
        errors.append(FieldError("volunteer_id", f"“{volunteer.name}”在该活动"
                                                 f"{ATTENDANCE_STATES.get(current.status, current.status)}，不能重复签到。",
                                 volunteer.number))
    elif (current is None or current.status == "cancelled") and activity.capacity:
        counts = taken if taken is not None else {}
        if activity.id not in counts:
            counts[activity.id] = ctx.session.scalar(
                select(func.count()).select_from(Attendance)
                .where(Attendance.activity_id == activity.id, Attendance.status != "cancelled")) or 0
        if counts[activity.id] >= activity.capacity:
            errors.append(FieldError("volunteer_id", f"活动“{activity.name}”已报满（{activity.capacity} 人）。",
                                     volunteer.number))
    return errors


def takes_place(activity: Activity, current: Attendance | None) -> bool:
    """Whether recording this attendance takes one of the activity's places (counted by capacity)."""
    return bool(activity.capacity) and (current is None or current.status == "cancelled")


def local_time(value: Any, label: str, field: str, day: date | None) -> datetime:
    """A sign-in/out time from a cell: an Excel date-time, "2026-05-10 09:00", or "09:00" on the
    activity's ``day``. Shanghai wall-clock time, whole minutes; returned as aware UTC."""
    from datetime import UTC
    from datetime import time as dtime

    from shell.clock import LOCAL_TZ

    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"请填写{label}。", field, value)
    if isinstance(value, dtime) or (isinstance(value, str) and len(value.strip()) <= 5 and ":" in value.replace("：", ":")):
        if day is None:
            raise ValidationError(f"{label}“{fields.clean_text(value)}”只有时刻，请写完整日期时间（如 2026-05-10 09:00）。",
                                  field, value)
        if isinstance(value, dtime):
            moment = datetime.combine(day, value)
        else:
            try:
                h, m = fields.code_text(value).replace("：", ":").split(":")
                moment = datetime.combine(day, dtime(int(h), int(m)))
            except ValueError:
                raise ValidationError(f"{label}“{fields.clean_text(value)}”不是时间，请写成 2026-05-10 09:00 或 09:00。",
                                      field, value) from None
        return moment.replace(second=0, microsecond=0, tzinfo=LOCAL_TZ).astimezone(UTC)
    try:
        moment = fields.parse_datetime(value, label, field)
    except ValidationError:
        raise ValidationError(f"{label}“{fields.clean_text(value)}”不是时间，请写成 2026-05-10 09:00 或 09:00。",
                              field, value) from None
    return moment.replace(second=0, microsecond=0)


def _clock_text(dt: datetime, day: date) -> str:
    """09:05 on the activity's own day, the full date and time on any other."""
    local = dt.astimezone(LOCAL_TZ)
    return local.strftime("%H:%M") if local.date() == day else format_local(dt)


def time_problems(ctx: ServiceContext, activity: Activity, name: str, signed_in_at: datetime | None,
                  signed_out_at: datetime | None = None, *, sign_in_checked: bool = False,
                  margin: Any = _MARGIN) -> list[tuple[str, str]]:
    """(Moved here from the activity services, which re-export it: the attendance validator and the
    services share it.) What is wrong with these sign-in/out times, as (field, Chinese message) pairs: a time after
    the clock (``ctx.now()``), a sign-out not after the sign-in, a sign-in earlier than the start or
    a time later than the end by more than ``volunteer.signout_margin_minutes`` (``margin=None``:
    no margin check, for a reviewer's correction). ``sign_in_checked``: the sign-in was checked
    when it was recorded, only the sign-out is."""
    if not ctx.actor.can(P_APPROVE):   # the counter's right, or the reviewer's (correct_times)
        ctx.actor.require(P_ACTIVITY)
    if margin is _MARGIN:
        margin = load_rules(ctx.session).signout_margin_minutes
    day = local_date(activity.starts_at)
    now = ctx.now()
    out: list[tuple[str, str]] = []
    for field_, label, t in (("signed_in_at", "签到", None if sign_in_checked else signed_in_at),
                             ("signed_out_at", "签退", signed_out_at)):
        if t is None:
            continue
        if t > now:
            out.append((field_, f"{name}的{label}时间 {_clock_text(t, day)} 晚于当前时间 {_clock_text(now, day)}："
                                f"不能登记尚未到来的时间，请核对日期和时刻。"))
            continue
        if field_ == "signed_out_at" and signed_in_at is not None and t <= signed_in_at:
            out.append((field_, f"{name}的签退时间 {_clock_text(t, day)} 应晚于签到时间 {_clock_text(signed_in_at, day)}。"))
            continue
        if margin is None:
            continue
        slack = timedelta(minutes=int(margin))
        if field_ == "signed_in_at" and t < activity.starts_at - slack:
            out.append((field_, f"{name}的签到时间 {_clock_text(t, day)} 早于活动开始时间 "
                                f"{_clock_text(activity.starts_at, day)} 超过 {margin} 分钟：请核对签到时间，"
                                f"或先修改活动的开始时间。"))
        elif t > activity.ends_at + slack:
            out.append((field_, f"{name}的{label}时间 {_clock_text(t, day)} 晚于活动结束时间 "
                                f"{_clock_text(activity.ends_at, day)} 超过 {margin} 分钟：请核对{label}时间；"
                                f"确实延长了服务的，请先修改活动的结束时间。"))
    return out
