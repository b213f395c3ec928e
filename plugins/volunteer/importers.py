"""Excel import/export of volunteers (.xlsx): every row validated first (row, column, value, reason in
Chinese); nothing is written unless all rows are valid or the user accepted the valid subset."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from shell.contracts import ImporterDefinition, ImportResult, RowError
from shell.core import personal
from shell.core.areas import scope_filter
from shell.core.matching import MatchError, area_paths, area_resolver
from shell.core.models import Area
from shell.core.sheets import read_sheet
from shell.errors import JiedaoError, ValidationError

from . import services as sv
from .models import Volunteer
from .rules import P_MANAGE

COLUMNS = ("志愿者编号", "姓名", "身份证号", "性别", "出生日期", "联系电话", "所属社区", "服务技能", "住址", "登记日期", "状态")
REQUIRED = ("姓名", "身份证号", "所属社区")
FIELD_COLUMN = {"number": "志愿者编号", "name": "姓名", "id_number": "身份证号", "gender": "性别",
                "birth_date": "出生日期", "phone": "联系电话", "area_id": "所属社区", "skills": "服务技能",
                "address": "住址", "registered_on": "登记日期"}


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value, column: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    try:
        return date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        raise ValidationError(f"{column}格式不正确，应如 2024-05-01。", column, value) from None


def write_template(path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "志愿者"
    ws.append(COLUMNS)
    ws.append(["（留空自动编号）", "张三", "330102199001011230", "男", "1990-01-01", "13800001111", "和平里社区",
               "助老、应急救护", "和平里 3 幢", "2024-05-01", "在册"])
    wb.save(path)


def import_volunteers(ctx, path, valid_only: bool = False) -> ImportResult:
    ctx.actor.require(P_MANAGE)
    result = ImportResult()
    rows = read_sheet(Path(path))
    if not rows:
        raise ValidationError("文件是空的：第 1 行应为表头。", "path")
    header = [_cell_text(c) for c in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationError(f"表头缺少列：{'、'.join(missing)}。请使用导入模板。", "path")
    col = {name: header.index(name) for name in COLUMNS if name in header}
    # by full path (和平里社区, 和平里社区/第一网格, the street optional), a unique bare name or the code
    areas = area_resolver(ctx.session, ctx.session.scalars(
        select(Area).where(scope_filter(Area.id, ctx.actor), Area.closed_on.is_(None),
                           Area.level.in_(("community", "grid", "microgrid")))), "社区或网格")
    seen_ids, seen_numbers = {}, {}
    good = []
    for rowno, raw in enumerate(rows[1:], start=2):
        get = lambda name, raw=raw: raw[col[name]] if name in col and col[name] < len(raw) else None  # noqa: E731
        if all(_cell_text(c) == "" for c in raw):
            continue
        result.total_rows += 1
        errors = []

        def bad(column, value, reason, errors=errors, rowno=rowno):
            errors.append(RowError(rowno, column, _cell_text(value), reason))

        name = _cell_text(get("姓名"))
        if not name:
            bad("姓名", name, "姓名不能为空")
        info = None
        try:
            info = sv.check_id_number(_cell_text(get("身份证号")))
        except ValidationError as exc:
            bad("身份证号", get("身份证号"), exc.message)
        if info is not None:
            if info.number in seen_ids:
                bad("身份证号", info.number, f"与第 {seen_ids[info.number]} 行重复")
            elif ctx.session.scalar(select(Volunteer.id).where(Volunteer.id_number == info.number)) is not None:
                bad("身份证号", info.number, "已登记为志愿者")
            gender = _cell_text(get("性别"))
            if gender and gender != info.sex:
                bad("性别", gender, f"与身份证号不符（应为{info.sex}）")
            try:
                birth = _date(get("出生日期"), "出生日期")
                if birth and birth != info.birth_date:
                    bad("出生日期", get("出生日期"), f"与身份证号不符（应为 {info.birth_date}）")
            except ValidationError as exc:
                bad("出生日期", get("出生日期"), exc.message)
        number = _cell_text(get("志愿者编号"))
        if number:
            if number in seen_numbers:
                bad("志愿者编号", number, f"与第 {seen_numbers[number]} 行重复")
            elif ctx.session.scalar(select(Volunteer.id).where(Volunteer.number == number)) is not None:
                bad("志愿者编号", number, "编号已被使用")
        area = None
        try:
            area = areas.find(get("所属社区"))
        except MatchError as exc:
            bad("所属社区", get("所属社区"), exc.message)
        try:
            phone = sv.check_phone(_cell_text(get("联系电话")))
        except ValidationError as exc:
            bad("联系电话", get("联系电话"), exc.message)
        registered = None
        try:
            registered = _date(get("登记日期"), "登记日期")
        except ValidationError as exc:
            bad("登记日期", get("登记日期"), exc.message)
        status = _cell_text(get("状态")) or "在册"
        if status not in ("在册", "停用"):
            bad("状态", status, "应为“在册”或“停用”")
        if errors:
            result.errors.extend(errors)
            continue
        seen_ids[info.number] = rowno
        if number:
            seen_numbers[number] = rowno
        good.append((rowno, dict(name=name, id_number=info.number, area_id=area.id, phone=phone,
                                 number=number or None, skills=_cell_text(get("服务技能")),
                                 address=_cell_text(get("住址")), registered_on=registered), status))
    result.valid_rows = len(good)
    if result.errors and not valid_only:
        return result
    for rowno, fields, status in good:
        try:
            with ctx.session.begin_nested():
                v = sv.register_volunteer(ctx, **fields)
                if status == "停用":
                    sv.set_active(ctx, v.id, False, "导入时为停用状态")
        except JiedaoError as exc:  # a race with another desktop between checking and writing
            result.errors.append(RowError(rowno, FIELD_COLUMN.get(getattr(exc, "field", None) or "", "姓名"),
                                          fields.get("name"), exc.message))
            continue
        result.written += 1
    return result


def export_volunteers(ctx, path) -> int:
    """Full ID numbers only for a holder of the full-view right (the shell audits the export as one
    with full numbers), masked for anyone else."""
    from openpyxl import Workbook

    ctx.actor.require("volunteer.view")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("志愿者")
    ws.append(COLUMNS)
    n = 0
    paths = area_paths(ctx.session)   # full paths: the export imports again
    q = select(Volunteer).where(scope_filter(Volunteer.area_id, ctx.actor)).order_by(Volunteer.id)
    for v in ctx.session.scalars(q):
        ws.append([v.number, v.name, personal.reveal(ctx, v.id_number), v.gender, v.birth_date, v.phone, paths.get(v.area_id, ""),
                   v.skills, v.address,
                   v.registered_on, "在册" if v.active else "停用"])
        n += 1
    wb.save(path)
    return n


# --------------------------------------------------------------------------- attendance sheet

ATTENDANCE_COLUMNS = ("活动编号", "志愿者编号", "姓名", "签到时间", "签退时间")
ATTENDANCE_REQUIRED = ("活动编号", "志愿者编号", "签到时间", "签退时间")


def _local_time(value, column: str, day: date | None) -> datetime:
    """A sign-in/out time from a cell: an Excel date-time, "2026-05-10 09:00", or "09:00" on the
    activity's day. Shanghai wall-clock time; returned as aware UTC."""
    from datetime import time as dtime

    from shell.clock import LOCAL_TZ

    if value in (None, ""):
        raise ValidationError(f"{column}不能为空。", column, value)
    if isinstance(value, datetime):
        local = value.replace(tzinfo=None)
    elif isinstance(value, dtime):
        if day is None:
            raise ValidationError(f"{column}只有时刻，请写完整日期时间（如 2026-05-10 09:00）。", column, value)
        local = datetime.combine(day, value)
    else:
        text = str(value).strip().replace("：", ":").replace("/", "-").replace("T", " ")
        try:
            if len(text) <= 5 and ":" in text:
                if day is None:
                    raise ValueError
                h, m = text.split(":")
                local = datetime.combine(day, dtime(int(h), int(m)))
            else:
                local = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(f"{column}格式不正确，应如 2026-05-10 09:00 或 09:00。", column, value) from None
    return local.replace(second=0, microsecond=0, tzinfo=LOCAL_TZ).astimezone(UTC)


def write_attendance_template(path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "签到表"
    ws.append(ATTENDANCE_COLUMNS)
    ws.append([12, "ZY0000001", "张三", "2026-05-10 08:55", "2026-05-10 11:30"])
    ws.append([12, "ZY0000002", "李四", "09:05", "11:00"])
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["D"].width = 18
    ws.column_dimensions["E"].width = 18
    wb.save(path)


def import_attendance(ctx, path, valid_only: bool = False) -> ImportResult:
    """A paper attendance sheet typed into Excel: one row per volunteer with sign-in and sign-out
    times. Every row is checked first (activity open and in scope, volunteer active, name matching,
    times in order, not already signed, no duplicate in the file, capacity); then each row is
    recorded like a sign-in and sign-out at the counter (walk-ins enrolled), waiting for approval."""
    from sqlalchemy import func

    from shell.clock import LOCAL_TZ

    from .models import ACTIVITY_STATES, ATTENDANCE_STATES, Activity, Attendance
    from .rules import P_ACTIVITY, load_rules

    ctx.actor.require(P_ACTIVITY)
    result = ImportResult()
    rows = read_sheet(Path(path))
    if not rows:
        raise ValidationError("文件是空的：第 1 行应为表头。", "path")
    header = [_cell_text(c) for c in rows[0]]
    missing = [c for c in ATTENDANCE_REQUIRED if c not in header]
    if missing:
        raise ValidationError(f"表头缺少列：{'、'.join(missing)}。请使用签到表模板。", "path")
    col = {name: header.index(name) for name in ATTENDANCE_COLUMNS if name in header}
    margin = load_rules(ctx.session).signout_margin_minutes
    activities: dict[int, Activity | None] = {}
    taken: dict[int, int] = {}
    seen: dict[tuple[int, int], int] = {}
    good = []
    for rowno, raw in enumerate(rows[1:], start=2):
        get = lambda name, raw=raw: raw[col[name]] if name in col and col[name] < len(raw) else None  # noqa: E731
        if all(_cell_text(c) == "" for c in raw):
            continue
        result.total_rows += 1
        errors = []

        def bad(column, value, reason, errors=errors, rowno=rowno):
            errors.append(RowError(rowno, column, _cell_text(value), reason))

        activity = None
        text = _cell_text(get("活动编号"))
        if not text.isdigit():
            bad("活动编号", text, "应为活动编号（数字，见“志愿活动”页）")
        else:
            aid = int(text)
            if aid not in activities:
                a = ctx.session.get(Activity, aid)
                try:
                    if a is not None:
                        sv._area_of(ctx, a)
                except JiedaoError:
                    a = None
                activities[aid] = a
            activity = activities[aid]
            if activity is None:
                bad("活动编号", text, "没有这个活动（或不在您的管辖范围内）")
            elif activity.status != "open":
                bad("活动编号", text,
                    f"活动“{activity.name}”{ACTIVITY_STATES.get(activity.status, activity.status)}，不能再导入签到")
                activity = None
        volunteer = None
        number = _cell_text(get("志愿者编号")).upper()
        if not number:
            bad("志愿者编号", number, "志愿者编号不能为空")
        else:
            volunteer = ctx.session.scalar(select(Volunteer).where(Volunteer.number == number))
            try:
                if volunteer is not None:
                    sv._area_of(ctx, volunteer)
            except JiedaoError:
                volunteer = None
            if volunteer is None:
                bad("志愿者编号", number, "没有这个志愿者（或不在您的管辖范围内）")
            elif not volunteer.active:
                bad("志愿者编号", number, f"志愿者“{volunteer.name}”已停用")
                volunteer = None
            else:
                name = _cell_text(get("姓名"))
                if name and name != volunteer.name:
                    bad("姓名", name, f"与志愿者编号不符（{number} 是“{volunteer.name}”）")
        day = activity.starts_at.astimezone(LOCAL_TZ).date() if activity is not None else None
        t_in = t_out = None
        for column in ("签到时间", "签退时间"):
            try:
                value = _local_time(get(column), column, day)
            except ValidationError as exc:
                bad(column, get(column), exc.message)
                continue
            if column == "签到时间":
                t_in = value
            else:
                t_out = value
        if activity is not None and volunteer is not None and (t_in is not None or t_out is not None):
            # the counter's rules: not after the clock, sign-out after sign-in, within the margin
            for field_, message in sv.time_problems(ctx, activity, volunteer.name, t_in, t_out, margin=margin):
                column = "签到时间" if field_ == "signed_in_at" else "签退时间"
                bad(column, get(column), message)
        elif t_in is not None and t_out is not None and t_out <= t_in:
            bad("签退时间", get("签退时间"), "签退时间应晚于签到时间")
        if activity is not None and volunteer is not None:
            key = (activity.id, volunteer.id)
            if key in seen:
                bad("志愿者编号", number, f"与第 {seen[key]} 行重复（同一活动同一志愿者）")
            else:
                att = ctx.session.scalar(select(Attendance).where(Attendance.activity_id == activity.id,
                                                                   Attendance.volunteer_id == volunteer.id))
                if att is not None and att.status not in ("enrolled", "cancelled"):
                    bad("志愿者编号", number,
                        f"“{volunteer.name}”在该活动{ATTENDANCE_STATES.get(att.status, att.status)}，不能重复签到")
                elif (att is None or att.status == "cancelled") and activity.capacity:
                    if activity.id not in taken:
                        taken[activity.id] = ctx.session.scalar(
                            select(func.count()).select_from(Attendance)
                            .where(Attendance.activity_id == activity.id, Attendance.status != "cancelled"))
                    if taken[activity.id] >= activity.capacity:
                        bad("志愿者编号", number, f"活动“{activity.name}”已报满（{activity.capacity} 人）")
                    elif not errors:
                        taken[activity.id] += 1
        if errors:
            result.errors.extend(errors)
            continue
        seen[(activity.id, volunteer.id)] = rowno
        good.append((rowno, activity.id, volunteer.id, volunteer.name, t_in, t_out))
    result.valid_rows = len(good)
    if result.errors and not valid_only:
        return result
    for rowno, activity_id, volunteer_id, name, t_in, t_out in good:
        try:
            with ctx.session.begin_nested():
                sv.record_attendance(ctx, activity_id, volunteer_id, t_in, t_out)
        except JiedaoError as exc:  # a race with another desktop between checking and writing
            result.errors.append(RowError(rowno, "志愿者编号", name, exc.message))
            continue
        result.written += 1
    return result


IMPORTERS = (
    ImporterDefinition(kind="volunteer-volunteers", title="志愿者", import_fn=import_volunteers,
                       export_fn=export_volunteers, template_fn=write_template, permission=P_MANAGE,
                       columns=COLUMNS),
    ImporterDefinition(kind="volunteer-attendance", title="志愿活动签到表", import_fn=import_attendance,
                       template_fn=write_attendance_template, permission="volunteer.activity",
                       columns=ATTENDANCE_COLUMNS),
)
