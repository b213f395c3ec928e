"""Excel import/export of volunteers and of attendance sheets, on the shared import engine
(``shell.core.importing``): every row checked by the plugin's validators (``validation.py``, the same
rules as the services and the forms) with row, column and value in Chinese; nothing is written unless
all rows are valid or the user accepted the valid subset; each row then goes through its service
(``register_volunteer`` / ``record_attendance``) in its own savepoint."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shell.contracts import ImportResult
from shell.core import personal
from shell.core.areas import scope_filter
from shell.core.importing import Column, ImportSpec, PerRow, Row, Sheet, cell_code, cell_text, import_sheet, write_rows
from shell.core.importing import definition as _definition
from shell.core.importing import write_template as _write_template
from shell.core.matching import MatchError, area_paths, area_resolver
from shell.core.models import Area
from shell.errors import FieldError, JiedaoError

from . import services as sv
from .models import Volunteer
from .rules import P_ACTIVITY, P_MANAGE
from .validation import VOLUNTEER_LEVELS, check_attendance, clean_volunteer, local_time, taken, takes_place

SHEET = Sheet("志愿者", (
    Column("number", "志愿者编号", ("编号",), as_text=True, note="留空自动编号"),
    Column("name", "姓名", required=True),
    Column("id_number", "身份证号", ("公民身份号码", "身份证号码"), required=True, as_text=True),
    Column("gender", "性别"),
    Column("birth_date", "出生日期"),
    Column("phone", "联系电话", ("电话", "手机号"), as_text=True),
    Column("area", "所属社区", ("社区", "所属网格"), required=True,
           note="社区（或网格）的完整名称，如：和平里社区/第一网格；名称在管辖范围内唯一时也可只写名称"),
    Column("skills", "服务技能", note="多项用顿号分隔"),
    Column("address", "住址"),
    Column("registered_on", "登记日期"),
    Column("status", "状态", note="在册或停用，留空为在册"),
))
COLUMNS = SHEET.labels
# the validator's field → this sheet's column key, where they differ
FIELD_KEYS = {"area_id": "area", "inactive_reason": "status"}
STATUSES = ("在册", "停用")


def write_template(path) -> None:
    _write_template(path, SHEET, ["", "张三", "330102199001011230", "男", "1990-01-01", "13800001111", "和平里社区",
                                  "助老、应急救护", "和平里 3 幢", "2024-05-01", "在册"])


def _register(ctx, rec: dict[str, Any]) -> None:
    fields = {k: v for k, v in rec.items() if k != "status"}
    v = sv.register_volunteer(ctx, **fields)
    if rec["status"] == "停用":
        sv.set_active(ctx, v.id, False, "导入时为停用状态")


def import_volunteers(ctx, path, valid_only: bool = False, progress=None, cancel=None) -> ImportResult:
    ctx.actor.require(P_MANAGE)
    # by full path (和平里社区, 和平里社区/第一网格, the street optional), a unique bare name or the code
    areas = area_resolver(ctx.session, ctx.session.scalars(
        select(Area).where(scope_filter(Area.id, ctx.actor), Area.closed_on.is_(None),
                           Area.level.in_(VOLUNTEER_LEVELS))), "社区或网格")

    def check(row: Row) -> dict | None:
        c = row.cells
        area = None
        try:
            area = areas.find(c["area"])
        except MatchError as exc:
            row.error("area", exc.message)
        status = cell_text(c["status"]) or "在册"
        if status not in STATUSES:
            row.error("status", "状态应为“在册”或“停用”。", status)
        values, errors = clean_volunteer(dict(
            number=cell_code(c["number"]) or None, name=c["name"], id_number=cell_text(c["id_number"]),
            gender=c["gender"], birth_date=c["birth_date"], phone=cell_text(c["phone"]),
            area_id=area.id if area is not None else None, skills=c["skills"], address=c["address"],
            registered_on=c["registered_on"]), ctx, unique=False)
        if area is None:   # the cell's own error says it already
            errors = [e for e in errors if e.field != "area_id"]
        row.field_errors(errors, FIELD_KEYS)
        values.pop("gender", None)
        values.pop("birth_date", None)
        return dict(values, status=status)

    def existing(pairs) -> None:
        """The validator's uniqueness rules, for the whole file in a few queries."""
        rows = {}
        for row, rec in pairs:
            rows[("id_number", rec["id_number"])] = row
            if rec["number"]:
                rows[("number", rec["number"])] = row
        for e in taken(ctx, [rec["id_number"] for _r, rec in pairs], [rec["number"] for _r, rec in pairs if rec["number"]]):
            rows[(e.field, e.value)].field_errors([e])

    spec = ImportSpec(SHEET, check, PerRow(_register, FIELD_KEYS), unique=("id_number", "number"), existing=existing)
    return import_sheet(ctx, path, spec, valid_only=valid_only, progress=progress, cancel=cancel)


def export_volunteers(ctx, path) -> int:
    """Full ID numbers only for a holder of the full-view right (the shell audits the export as one
    with full numbers), masked for anyone else. Areas by full path: the export imports again."""
    ctx.actor.require("volunteer.view")
    paths = area_paths(ctx.session)
    q = select(Volunteer).where(scope_filter(Volunteer.area_id, ctx.actor)).order_by(Volunteer.id)
    return write_rows(path, SHEET, ([v.number, v.name, personal.reveal(ctx, v.id_number), v.gender, v.birth_date, v.phone,
                                     paths.get(v.area_id, ""), v.skills, v.address, v.registered_on,
                                     "在册" if v.active else "停用"]
                                    for v in ctx.session.scalars(q)))


# --------------------------------------------------------------------------- attendance sheet

ATTENDANCE_SHEET = Sheet("签到表", (
    Column("activity", "活动编号", required=True, note="数字，见“志愿活动”页"),
    Column("number", "志愿者编号", required=True, as_text=True, width=14),
    Column("name", "姓名", note="可不填；填了须与志愿者编号相符"),
    Column("signed_in_at", "签到时间", required=True, width=18, note="如 2026-05-10 09:00，或只写 09:00（活动当天）"),
    Column("signed_out_at", "签退时间", required=True, width=18),
))
ATTENDANCE_COLUMNS = ATTENDANCE_SHEET.labels
ATTENDANCE_KEYS = {"activity_id": "activity", "volunteer_id": "number", "status": "number"}


def write_attendance_template(path) -> None:
    _write_template(path, ATTENDANCE_SHEET, [12, "ZY0000001", "张三", "2026-05-10 08:55", "2026-05-10 11:30"])


def _record(ctx, rec: dict[str, Any]) -> None:
    sv.record_attendance(ctx, rec["activity_id"], rec["volunteer_id"], rec["signed_in_at"], rec["signed_out_at"])


def import_attendance(ctx, path, valid_only: bool = False, progress=None, cancel=None) -> ImportResult:
    """A paper attendance sheet typed into Excel: one row per volunteer with sign-in and sign-out
    times. Every row is checked first (``validation.check_attendance``: activity open and in scope,
    volunteer active, not already signed, capacity, the counter's time rules; here also the name
    matching the number and no repeat in the file); then each row is recorded like a sign-in and
    sign-out at the counter (walk-ins enrolled), waiting for approval."""
    from shell.clock import LOCAL_TZ

    from .models import Activity, Attendance
    from .rules import load_rules

    ctx.actor.require(P_ACTIVITY)
    margin = load_rules(ctx.session).signout_margin_minutes
    activities: dict[int, Activity | None] = {}
    taken: dict[int, int] = {}
    seen: dict[tuple[int, int], int] = {}

    def in_scope(obj):
        try:
            if obj is not None:
                sv._area_of(ctx, obj)
            return obj
        except JiedaoError:
            return None

    def check(row: Row) -> dict | None:
        c = row.cells
        activity = volunteer = None
        text = cell_code(c["activity"])
        if not text.isdigit():
            row.error("activity", "应为活动编号（数字，见“志愿活动”页）", text)
        else:
            aid = int(text)
            if aid not in activities:
                activities[aid] = in_scope(ctx.session.get(Activity, aid))
            activity = activities[aid]
            if activity is None:
                row.error("activity", "没有这个活动（或不在您的管辖范围内）", text)
        number = cell_code(c["number"]).upper()
        if not number:
            row.error("number", "请填写志愿者编号。", number)
        else:
            volunteer = in_scope(ctx.session.scalar(select(Volunteer).where(Volunteer.number == number)))
            if volunteer is None:
                row.error("number", "没有这个志愿者（或不在您的管辖范围内）", number)
            else:
                name = cell_text(c["name"])
                if name and name != volunteer.name:
                    row.error("name", f"与志愿者编号不符（{number} 是“{volunteer.name}”）", name)
        day = activity.starts_at.astimezone(LOCAL_TZ).date() if activity is not None else None
        times = {"signed_in_at": row.parse("signed_in_at", lambda v: local_time(v, "签到时间", "signed_in_at", day)),
                 "signed_out_at": row.parse("signed_out_at", lambda v: local_time(v, "签退时间", "signed_out_at", day))}
        current = None
        if activity is not None and volunteer is not None:
            pair = (activity.id, volunteer.id)
            if pair in seen:
                row.error("number", f"与第 {seen[pair]} 行重复（同一活动同一志愿者）", number)
                return None
            current = ctx.session.scalar(select(Attendance).where(Attendance.activity_id == activity.id,
                                                                  Attendance.volunteer_id == volunteer.id))
        errors = check_attendance(dict(activity=activity, volunteer=volunteer, **times), ctx, current=current,
                                  margin=margin, taken=taken)
        # each message beside the cell as typed (not the parsed time or the record's id)
        row.field_errors([FieldError(e.field, e.message) for e in errors], ATTENDANCE_KEYS)
        if activity is None or volunteer is None or not row.ok:
            return None
        seen[(activity.id, volunteer.id)] = row.number
        if takes_place(activity, current):
            taken[activity.id] += 1
        return dict(activity_id=activity.id, volunteer_id=volunteer.id, number=number, **times)

    spec = ImportSpec(ATTENDANCE_SHEET, check, PerRow(_record, ATTENDANCE_KEYS))
    return import_sheet(ctx, path, spec, valid_only=valid_only, progress=progress, cancel=cancel)


IMPORTERS = (
    _definition("volunteer-volunteers", "志愿者", SHEET, import_fn=import_volunteers, export_fn=export_volunteers,
                template_fn=write_template, permission=P_MANAGE),
    _definition("volunteer-attendance", "志愿活动签到表", ATTENDANCE_SHEET, import_fn=import_attendance,
                template_fn=write_attendance_template, permission=P_ACTIVITY),
)
