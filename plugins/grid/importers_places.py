"""Excel import/export of houses (实有房屋), households (户) and organisations (非公有制经济组织 /
社会组织), with the same
rules as the person import (importers.py): header variants and any column order, every row checked
first with a row-level error list (row, column, value, reason), nothing written unless the whole
file is valid or the caller accepts the valid rows, Core executemany for the write, masked exports."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from shell.contracts import ImporterDefinition, ImportResult, RowError
from shell.core import personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.matching import MatchError, area_paths
from shell.core.models import Area
from shell.errors import ValidationError
from shell.gcpause import without_gc

from . import services as svc
from .importers import GRID_NOTE, Col, _blank, _cell_text, _grid_index, _norm_header, bulk_insert, parse_date, read_rows
from .models import HOUSE_USES, ORG_KINDS, House, Household, Organisation

GRID_ALIASES = ("网格", "所属网格", "责任网格", "网格名称", "网格编码")

HOUSE_COLUMNS: tuple[Col, ...] = (
    Col("code", "房屋编号", ("房屋编码", "房屋代码", "房屋号"), True),
    Col("address", "地址", ("房屋地址", "详细地址", "坐落", "房屋坐落"), True),
    Col("grid", "责任网格", GRID_ALIASES, True),
    Col("house_use", "房屋用途", ("用途", "使用情况", "使用类型")),
    Col("building_use", "建筑用途", ("建筑类型", "房屋类型")),
    Col("floor_area", "建筑面积", ("面积", "建筑面积（平方米）", "建筑面积(平方米)", "建筑面积（m2）")),
    Col("hazard", "隐患类型", ("隐患", "安全隐患")),
    Col("owner_name", "房主姓名", ("房主", "产权人", "业主姓名", "业主")),
    Col("owner_id_number", "房主身份证号", ("房主证件号码", "产权人身份证号", "业主身份证号", "房主公民身份号码")),
    Col("owner_phone", "房主电话", ("房主联系电话", "业主电话", "产权人电话")),
    Col("rental_pledge_on", "责任书签订日期", ("治安责任书签订日期", "出租房屋治安责任书签订日期", "签订日期")),
)

ORG_COLUMNS: tuple[Col, ...] = (
    Col("name", "组织名称", ("单位名称", "名称", "企业名称", "组织全称"), True),
    Col("kind", "组织类别", ("类别", "组织类型", "单位类别"), True),
    Col("credit_code", "统一社会信用代码", ("信用代码", "社会信用代码", "统一代码", "统一社会信用代码证号"), True),
    Col("grid", "所属网格", GRID_ALIASES, True),
    Col("legal_rep", "法定代表人", ("法人", "法人代表", "负责人")),
    Col("security_head", "治保负责人", ("治安保卫负责人",)),
    Col("phone", "联系电话", ("电话", "手机号", "联系方式", "手机")),
    Col("address", "地址", ("单位地址", "注册地址", "经营地址")),
    Col("hazard", "安全隐患类型", ("隐患", "安全隐患", "隐患类型")),
    Col("has_party_org", "是否建立党组织", ("党组织", "有无党组织", "是否有党组织")),
    Col("party_members", "党员人数", ("党员数", "党员数量")),
)

# Office spellings of the organisation kinds.
ORG_KIND_ALIASES = {"非公有制经济组织": "非公有制经济组织", "非公企业": "非公有制经济组织", "非公经济组织": "非公有制经济组织",
                    "企业": "非公有制经济组织", "个体工商户": "非公有制经济组织", "社会组织": "社会组织",
                    "社团": "社会组织", "民办非企业单位": "社会组织", "民非": "社会组织", "基金会": "社会组织"}
YES = {"是", "有", "已建立", "已建", "1", "y", "yes", "true", "√"}
NO = {"否", "无", "未建立", "未建", "0", "n", "no", "false", "×", ""}


@dataclass(frozen=True)
class Spec:
    """What differs between the two imports."""

    sheet: str
    columns: tuple[Col, ...]
    model: type
    unique: str                                   # the key refused twice (in the file and in the database)
    check_row: Callable[..., dict | None]         # (raw, err, grid, today) → the record, or None


def _positions(header: list, columns: tuple[Col, ...], result: ImportResult) -> dict[str, int] | None:
    lookup = {}
    for c in columns:
        for name in (c.title,) + c.aliases:
            lookup[_norm_header(name)] = c
    positions: dict[str, int] = {}
    for i, h in enumerate(header):
        col = lookup.get(_norm_header(h))
        if col is not None and col.key not in positions:
            positions[col.key] = i
    missing = [c for c in columns if c.required and c.key not in positions]
    for c in missing:
        also = f"（也可写作{'、'.join(c.aliases[:3])}）" if c.aliases else ""
        result.errors.append(RowError(1, c.title, None, f"缺少必填列“{c.title}”{also}"))
    return None if missing else positions


def _run(ctx: ServiceContext, path, valid_only: bool, spec: Spec, existing: Callable[[list], dict[str, str]],
         progress: Callable[[int, int], Any] | None = None) -> ImportResult:
    ctx.actor.require(svc.P_PERSON)
    ctx.actor.require(svc.P_IMPORT)
    result = ImportResult()
    header, data = read_rows(Path(path))
    if not header:
        first = "、".join(c.title for c in spec.columns if c.required)
        result.errors.append(RowError(1, "", None, f"工作表是空的：第 1 行应为表头（{first}……）"))
        return result
    positions = _positions(header, spec.columns, result)
    if positions is None:
        return result
    if not data:
        result.errors.append(RowError(2, "", None, "表中没有数据行"))
        return result
    grids = _grid_index(ctx)
    title = {c.key: c.title for c in spec.columns}
    today = ctx.today()
    seen: dict[str, int] = {}
    good: list[tuple[int, dict]] = []
    for n, row in enumerate(data):
        rowno = n + 2
        if _blank(row):
            continue
        result.total_rows += 1
        errors: list[RowError] = []

        def err(key: str, value: Any, reason: str, errors: list[RowError] = errors, rowno: int = rowno) -> None:
            errors.append(RowError(rowno, title[key], value, reason))

        raw = {c.key: (row[positions[c.key]] if c.key in positions and positions[c.key] < len(row) else None)
               for c in spec.columns}
        grid = None
        try:
            grid = grids.find(raw["grid"])
        except MatchError as e:
            err("grid", raw["grid"], e.message)
        rec = spec.check_row(raw, err, grid, today)
        if rec is not None and not errors:
            key = rec[spec.unique]
            if key in seen:
                err(spec.unique, raw[spec.unique], f"与第 {seen[key]} 行的{title[spec.unique]}重复")
            else:
                seen[key] = rowno
        if errors:
            result.errors.extend(errors)
            continue
        good.append((rowno, rec))
        if progress and n % 2000 == 0:
            progress(n, len(data))
    known = existing([rec[spec.unique] for _, rec in good])
    rows = []
    for rowno, rec in good:
        message = known.get(rec[spec.unique])
        if message is not None:
            result.errors.append(RowError(rowno, title[spec.unique], rec[spec.unique], message))
            continue
        rows.append(rec)
    result.errors.sort(key=lambda e: e.row)
    result.valid_rows = len(rows)
    if result.errors and not valid_only:
        return result
    now = datetime.now(UTC)
    for rec in rows:
        rec.update(created_by=ctx.actor.user_id, created_at=now, updated_at=now, version_id=1)
    bulk_insert(ctx.session.connection(), spec.model.__table__, rows)
    ctx.session.flush()
    result.written = len(rows)
    if progress:
        progress(len(data), len(data))
    return result


def _text_or_none(v: Any) -> str | None:
    return _cell_text(v) or None


# --- houses -------------------------------------------------------------------------------------
def _house_row(raw: dict, err, grid: Area | None, today) -> dict | None:
    code = svc.code_text(_cell_text(raw["code"]))
    if not code:
        err("code", raw["code"], "房屋编号不能为空")
    elif len(code) > 32:
        err("code", raw["code"], "房屋编号太长（最多 32 位）")
    address = _cell_text(raw["address"])
    if not address:
        err("address", raw["address"], "地址不能为空")
    use = _cell_text(raw["house_use"]) or "自住"
    if use not in HOUSE_USES:
        err("house_use", raw["house_use"], f"房屋用途应为{'、'.join(HOUSE_USES)}之一")
    values: dict[str, Any] = {}
    for key, check in (("floor_area", lambda v: svc.parse_floor_area(v)),
                       ("owner_phone", lambda v: svc.check_phone(_cell_text(v), "owner_phone")),
                       ("owner_id_number", lambda v: svc.parse_id_number(v, "owner_id_number", today).number
                        if _cell_text(v) else None)):
        try:
            values[key] = check(raw[key])
        except ValidationError as e:
            err(key, raw[key], e.message)
    try:
        values["rental_pledge_on"] = parse_date(raw["rental_pledge_on"])
    except ValueError:
        err("rental_pledge_on", raw["rental_pledge_on"],
            "日期格式不对：请写成 2024-01-05、2024/1/5、2024年1月5日 或 20240105")
    if grid is None:
        return None
    return dict(area_id=grid.id, code=code, address=address, house_use=use,
                building_use=_text_or_none(raw["building_use"]) or "住宅", hazard=_text_or_none(raw["hazard"]),
                owner_name=_text_or_none(raw["owner_name"]), **values)


def _existing_houses(ctx: ServiceContext):
    def find(codes: list) -> dict[str, str]:
        out = {}
        for i in range(0, len(codes), 500):
            for code, address in ctx.session.execute(select(House.code, House.address)
                                                     .where(House.code.in_(codes[i:i + 500]))):
                out[code] = f"房屋编号已登记：{address}"
        return out
    return find


HOUSES = Spec("实有房屋", HOUSE_COLUMNS, House, "code", _house_row)


@without_gc
def import_houses(ctx: ServiceContext, path, valid_only: bool = False, progress=None) -> ImportResult:
    return _run(ctx, path, valid_only, HOUSES, _existing_houses(ctx), progress)


# --- households ---------------------------------------------------------------------------------
HOUSEHOLD_COLUMNS: tuple[Col, ...] = (
    Col("number", "户号", ("户编号", "户口簿号", "户籍号"), True),
    Col("grid", "所属网格", GRID_ALIASES, True),
    Col("address", "地址", ("户籍地址", "住址", "家庭住址")),
    Col("house", "房屋编号", ("房屋编码", "现住房屋")),
    Col("notes", "备注", ()),
)


def _household_row(houses: dict[str, int]):
    def check(raw: dict, err, grid: Area | None, today) -> dict | None:
        number = svc.code_text(_cell_text(raw["number"]))
        if not number:
            err("number", raw["number"], "户号不能为空")
        elif len(number) > 32:
            err("number", raw["number"], "户号太长（最多 32 位）")
        house_id = None
        code = svc.code_text(_cell_text(raw["house"]))
        if code:
            house_id = houses.get(code)
            if house_id is None:
                err("house", raw["house"], "找不到这个房屋编号（或不在您的管辖范围内）：请先登记房屋")
        if grid is None:
            return None
        return dict(area_id=grid.id, number=number, address=_cell_text(raw["address"]), house_id=house_id,
                    notes=_cell_text(raw["notes"]))
    return check


def _existing_households(ctx: ServiceContext):
    def find(numbers: list) -> dict[str, str]:
        out = {}
        for i in range(0, len(numbers), 500):
            for number, area_id in ctx.session.execute(select(Household.number, Household.area_id)
                                                       .where(Household.number.in_(numbers[i:i + 500]))):
                out[number] = f"户号已登记（{svc.area_label(ctx.session, area_id)}）"
        return out
    return find


@without_gc
def import_households(ctx: ServiceContext, path, valid_only: bool = False, progress=None) -> ImportResult:
    houses = dict(ctx.session.execute(select(House.code, House.id).where(scope_filter(House.area_id, ctx.actor))).all())
    spec = Spec("户", HOUSEHOLD_COLUMNS, Household, "number", _household_row(houses))
    return _run(ctx, path, valid_only, spec, _existing_households(ctx), progress)


def households_template(path) -> None:
    _template(path, Spec("户", HOUSEHOLD_COLUMNS, Household, "number", _household_row({})), ("number", "house"),
              {"grid": GRID_NOTE, "house": "已登记的房屋编号，可不填"})


@without_gc
def export_households(ctx: ServiceContext, path) -> int:
    from openpyxl import Workbook

    ctx.actor.require(svc.P_VIEW)
    names = _grid_names(ctx)
    codes = dict(ctx.session.execute(select(House.id, House.code)).all())
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户")
    ws.append([c.title for c in HOUSEHOLD_COLUMNS])
    n = 0
    q = select(Household).where(scope_filter(Household.area_id, ctx.actor)).order_by(Household.id)
    for h in ctx.session.scalars(q.execution_options(yield_per=2000)):
        ws.append([h.number, names.get(h.area_id, ""), h.address, codes.get(h.house_id, ""), h.notes])
        n += 1
    wb.save(str(path))
    return n


# --- organisations ------------------------------------------------------------------------------
def _party_members(v: Any) -> int:
    if v is None or v == "":
        return 0
    if isinstance(v, bool):
        raise ValueError(v)
    if isinstance(v, (int, float)):
        if float(v).is_integer() and v >= 0:
            return int(v)
        raise ValueError(v)
    text = svc.code_text(_cell_text(v)).removesuffix("人").removesuffix("名")
    if text.isdigit():
        return int(text)
    raise ValueError(v)


def _org_row(raw: dict, err, grid: Area | None, today) -> dict | None:
    name = _cell_text(raw["name"])
    if not name:
        err("name", raw["name"], "组织名称不能为空")
    elif len(name) > 100:
        err("name", raw["name"], "组织名称太长（最多 100 字）")
    kind = ORG_KIND_ALIASES.get(_cell_text(raw["kind"]))
    if kind is None:
        err("kind", raw["kind"], f"组织类别应为{'或'.join(ORG_KINDS)}")
    code = None
    try:
        code = svc.check_uscc(raw["credit_code"])
    except ValidationError as e:
        err("credit_code", raw["credit_code"], e.message)
    phone = None
    try:
        phone = svc.check_phone(_cell_text(raw["phone"]))
    except ValidationError as e:
        err("phone", raw["phone"], e.message)
    flag = svc.code_text(_cell_text(raw["has_party_org"])).lower()
    if flag not in YES and flag not in NO:
        err("has_party_org", raw["has_party_org"], "是否建立党组织应填“是”或“否”")
    members = 0
    try:
        members = _party_members(raw["party_members"])
    except ValueError:
        err("party_members", raw["party_members"], "党员人数应为不小于 0 的整数（如 5），不能写文字")
    if grid is None or code is None:
        return None
    return dict(area_id=grid.id, kind=kind, name=name, credit_code=code, legal_rep=_text_or_none(raw["legal_rep"]),
                security_head=_text_or_none(raw["security_head"]), phone=phone,
                address=_text_or_none(raw["address"]), hazard=_text_or_none(raw["hazard"]),
                has_party_org=flag in YES, party_members=members)


def _existing_orgs(ctx: ServiceContext):
    def find(codes: list) -> dict[str, str]:
        out = {}
        for i in range(0, len(codes), 500):
            for code, name, area_id in ctx.session.execute(
                    select(Organisation.credit_code, Organisation.name, Organisation.area_id)
                    .where(Organisation.credit_code.in_(codes[i:i + 500]))):
                out[code] = f"统一社会信用代码已登记：{name}（{svc.area_label(ctx.session, area_id)}）"
        return out
    return find


ORGANISATIONS = Spec("组织", ORG_COLUMNS, Organisation, "credit_code", _org_row)


@without_gc
def import_organisations(ctx: ServiceContext, path, valid_only: bool = False, progress=None) -> ImportResult:
    return _run(ctx, path, valid_only, ORGANISATIONS, _existing_orgs(ctx), progress)


# --- templates and exports ----------------------------------------------------------------------
def _template(path, spec: Spec, text_keys: tuple[str, ...], notes: dict[str, str]) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = spec.sheet
    ws.append([c.title + ("*" if c.required else "") for c in spec.columns])
    for i, c in enumerate(spec.columns, start=1):
        letter = get_column_letter(i)
        ws[f"{letter}1"].font = Font(bold=True)
        ws.column_dimensions[letter].width = max(12, len(c.title) * 2 + 4)
        if c.key in notes:
            ws[f"{letter}1"].comment = Comment(notes[c.key], "街道工作台")
        if c.key in text_keys:   # codes and numbers as text, so Excel keeps every digit
            for r in range(2, 1002):
                ws[f"{letter}{r}"].number_format = "@"
    wb.save(str(path))




def houses_template(path) -> None:
    _template(path, HOUSES, ("code", "owner_id_number", "owner_phone"),
              {"grid": GRID_NOTE, "house_use": f"{'、'.join(HOUSE_USES)}之一，不填为自住",
               "floor_area": "数字，单位平方米，如 86.5", "owner_id_number": "请设为“文本”格式，18 位"})


def organisations_template(path) -> None:
    _template(path, ORGANISATIONS, ("credit_code", "phone"),
              {"grid": GRID_NOTE, "kind": "非公有制经济组织 或 社会组织",
               "credit_code": "18 位，最后一位是校验码", "has_party_org": "填“是”或“否”",
               "party_members": "整数，如 5"})


def _grid_names(ctx: ServiceContext) -> dict[int, str]:
    return area_paths(ctx.session)    # full paths: the export imports again as it is


@without_gc
def export_houses(ctx: ServiceContext, path) -> int:
    """The houses in scope; the owner's ID number and phone masked unless full view is allowed."""
    from openpyxl import Workbook

    from reports.masking import mask_phone

    ctx.actor.require(svc.P_VIEW)
    full = ctx.actor.can(svc.FULL_VIEW)
    names = _grid_names(ctx)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(HOUSES.sheet)
    ws.append([c.title for c in HOUSE_COLUMNS])
    n = 0
    q = select(House).where(scope_filter(House.area_id, ctx.actor)).order_by(House.id)
    for h in ctx.session.scalars(q.execution_options(yield_per=2000)):
        owner_id = personal.reveal(ctx, h.owner_id_number) or ""
        phone = h.owner_phone if full else (mask_phone(h.owner_phone) if h.owner_phone else "")
        ws.append([h.code, h.address, names.get(h.area_id, ""), h.house_use, h.building_use, h.floor_area, h.hazard,
                   h.owner_name, owner_id, phone, h.rental_pledge_on])
        n += 1
    wb.save(str(path))
    return n


@without_gc
def export_organisations(ctx: ServiceContext, path) -> int:
    from openpyxl import Workbook

    ctx.actor.require(svc.P_VIEW)
    names = _grid_names(ctx)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(ORGANISATIONS.sheet)
    ws.append([c.title for c in ORG_COLUMNS])
    n = 0
    q = select(Organisation).where(scope_filter(Organisation.area_id, ctx.actor)).order_by(Organisation.id)
    for o in ctx.session.scalars(q.execution_options(yield_per=2000)):
        ws.append([o.name, o.kind, o.credit_code, names.get(o.area_id, ""), o.legal_rep, o.security_head, o.phone,
                   o.address, o.hazard, "是" if o.has_party_org else "否", o.party_members])
        n += 1
    wb.save(str(path))
    return n


def definitions() -> list[ImporterDefinition]:
    return [ImporterDefinition(kind="grid-houses", title="实有房屋", import_fn=import_houses, export_fn=export_houses,
                               template_fn=houses_template, permission=svc.P_IMPORT,
                               columns=tuple(c.title for c in HOUSE_COLUMNS)),
            ImporterDefinition(kind="grid-households", title="户", import_fn=import_households,
                               export_fn=export_households, template_fn=households_template, permission=svc.P_IMPORT,
                               columns=tuple(c.title for c in HOUSEHOLD_COLUMNS)),
            ImporterDefinition(kind="grid-organisations", title="组织（非公有制经济组织、社会组织）",
                               import_fn=import_organisations, export_fn=export_organisations,
                               template_fn=organisations_template, permission=svc.P_IMPORT,
                               columns=tuple(c.title for c in ORG_COLUMNS))]
