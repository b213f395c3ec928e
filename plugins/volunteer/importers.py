"""Excel import/export of volunteers (.xlsx): every row validated first (row, column, value, reason in
Chinese); nothing is written unless all rows are valid or the user accepted the valid subset."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from shell.contracts import ImporterDefinition, ImportResult, RowError
from shell.core.areas import scope_filter
from shell.core.models import Area
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
    from openpyxl import load_workbook

    ctx.actor.require(P_MANAGE)
    result = ImportResult()
    try:
        wb = load_workbook(Path(path), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise ValidationError(f"无法读取 Excel 文件“{Path(path).name}”：请确认是 .xlsx 格式（{type(exc).__name__}）。", "path") from None
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        raise ValidationError("文件是空的：第 1 行应为表头。", "path")
    header = [_cell_text(c) for c in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationError(f"表头缺少列：{'、'.join(missing)}。请使用导入模板。", "path")
    col = {name: header.index(name) for name in COLUMNS if name in header}
    areas = {}
    for a in ctx.session.scalars(select(Area).where(scope_filter(Area.id, ctx.actor), Area.closed_on.is_(None))):
        if a.level in ("community", "grid", "microgrid"):
            areas.setdefault(a.name, a)
            if a.code:
                areas.setdefault(a.code, a)
    seen_ids, seen_numbers = {}, {}
    good = []
    for rowno, raw in enumerate(rows[1:], start=2):
        get = lambda name: raw[col[name]] if name in col and col[name] < len(raw) else None  # noqa: E731
        if all(_cell_text(c) == "" for c in raw):
            continue
        result.total_rows += 1
        errors = []

        def bad(column, value, reason):
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
        area = areas.get(_cell_text(get("所属社区")))
        if area is None:
            bad("所属社区", get("所属社区"), "找不到这个社区（或不在您的管辖范围内）")
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
    """Full ID numbers and phones: export needs the full-view right (the shell audits the export)."""
    from openpyxl import Workbook

    ctx.actor.require("volunteer.view")
    ctx.actor.require("core.personal.full_view")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("志愿者")
    ws.append(COLUMNS)
    n = 0
    q = (select(Volunteer, Area.name).join(Area, Area.id == Volunteer.area_id)
         .where(scope_filter(Volunteer.area_id, ctx.actor)).order_by(Volunteer.id))
    for v, area_name in ctx.session.execute(q):
        ws.append([v.number, v.name, v.id_number, v.gender, v.birth_date, v.phone, area_name, v.skills, v.address,
                   v.registered_on, "在册" if v.active else "停用"])
        n += 1
    wb.save(path)
    return n


IMPORTERS = (
    ImporterDefinition(kind="volunteer-volunteers", title="志愿者", import_fn=import_volunteers,
                       export_fn=export_volunteers, template_fn=write_template, permission=P_MANAGE,
                       columns=COLUMNS),
)
