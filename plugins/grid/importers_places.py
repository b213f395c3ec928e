"""Excel import/export of houses (实有房屋), households (户) and organisations (非公有制经济组织 /
社会组织), on the shared import engine (shell.core.importing) with the rules of
plugins/grid/validation.py — the same as the forms and the services: header variants and any
column order, every row checked first with a row-level error list (row, column, value, reason),
nothing written unless the whole file is valid or the user accepts the valid rows, Core executemany
for the write, masked exports."""
from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from sqlalchemy import select

from shell.contracts import ImporterDefinition, ImportResult
from shell.core import personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.importing import (
    BulkInsert,
    Column,
    ImportSpec,
    Row,
    Sheet,
    among,
    cell_text,
    chunks,
    definition,
    import_sheet,
    write_rows,
    write_template,
)
from shell.core.matching import area_paths
from shell.gcpause import without_gc

from . import services as svc
from .importers import GRID_ALIASES, GRID_NOTE, grid_ids
from .models import HOUSE_USES, House, Household, Organisation
from .validation import (
    Today,
    clean_house,
    clean_household,
    clean_organisation,
    house_taken,
    household_taken,
    organisation_taken,
)

HOUSES = Sheet("实有房屋", (
    Column("code", "房屋编号", ("房屋编码", "房屋代码", "房屋号"), required=True, as_text=True),
    Column("address", "地址", ("房屋地址", "详细地址", "坐落", "房屋坐落"), required=True),
    Column("grid", "责任网格", GRID_ALIASES, required=True, note=GRID_NOTE),
    Column("house_use", "房屋用途", ("用途", "使用情况", "使用类型"), note=f"{'、'.join(HOUSE_USES)}之一，不填为自住"),
    Column("building_use", "建筑用途", ("建筑类型", "房屋类型")),
    Column("floor_area", "建筑面积", ("面积", "建筑面积（平方米）", "建筑面积(平方米)", "建筑面积（m2）"),
           note="数字，单位平方米，如 86.5"),
    Column("hazard", "隐患类型", ("隐患", "安全隐患")),
    Column("owner_name", "房主姓名", ("房主", "产权人", "业主姓名", "业主")),
    Column("owner_id_number", "房主身份证号", ("房主证件号码", "产权人身份证号", "业主身份证号", "房主公民身份号码"),
           as_text=True, note="请设为“文本”格式，18 位"),
    Column("owner_phone", "房主电话", ("房主联系电话", "业主电话", "产权人电话"), as_text=True),
    Column("rental_pledge_on", "责任书签订日期", ("治安责任书签订日期", "出租房屋治安责任书签订日期", "签订日期")),
))
HOUSEHOLDS = Sheet("户", (
    Column("number", "户号", ("户编号", "户口簿号", "户籍号"), required=True, as_text=True),
    Column("grid", "所属网格", GRID_ALIASES, required=True, note=GRID_NOTE),
    Column("address", "地址", ("户籍地址", "住址", "家庭住址")),
    Column("house", "房屋编号", ("房屋编码", "现住房屋"), as_text=True, note="已登记的房屋编号，可不填"),
    Column("notes", "备注"),
))
ORGANISATIONS = Sheet("组织", (
    Column("name", "组织名称", ("单位名称", "名称", "企业名称", "组织全称"), required=True),
    Column("kind", "组织类别", ("类别", "组织类型", "单位类别"), required=True, note="非公有制经济组织 或 社会组织"),
    Column("credit_code", "统一社会信用代码", ("信用代码", "社会信用代码", "统一代码", "统一社会信用代码证号"), required=True,
           as_text=True, note="18 位，最后一位是校验码"),
    Column("grid", "所属网格", GRID_ALIASES, required=True, note=GRID_NOTE),
    Column("legal_rep", "法定代表人", ("法人", "法人代表", "负责人")),
    Column("security_head", "治保负责人", ("治安保卫负责人",)),
    Column("phone", "联系电话", ("电话", "手机号", "联系方式", "手机"), as_text=True),
    Column("address", "地址", ("单位地址", "注册地址", "经营地址")),
    Column("hazard", "安全隐患类型", ("隐患", "安全隐患", "隐患类型")),
    Column("has_party_org", "是否建立党组织", ("党组织", "有无党组织", "是否有党组织"), note="填“是”或“否”"),
    Column("party_members", "党员人数", ("党员数", "党员数量"), note="整数，如 5"),
))
HOUSE_COLUMNS, HOUSEHOLD_COLUMNS, ORG_COLUMNS = HOUSES.columns, HOUSEHOLDS.columns, ORGANISATIONS.columns


def _register_check(ctx: ServiceContext, sheet: Sheet, clean: Callable, text_keys: tuple[str, ...],
                    extra: Callable[[Row, dict], None] | None = None) -> Callable[[Row], dict | None]:
    """One row of a register: the cells of ``text_keys`` as text (a number Excel kept is "13900001111"),
    the aggregate's ``clean`` on the file's columns, the grid; ``extra(row, values)`` for the rest."""
    area_id = grid_ids(ctx)
    day = Today(ctx.today())
    keys = tuple(c.key for c in sheet.columns if c.key != "grid")
    pick = itemgetter(*keys)
    clean_types = frozenset({str, type(None)})

    def check(row: Row) -> dict | None:
        cells = row.cells
        if not clean_types.issuperset(map(type, cells.values())):   # all text or empty: nothing to convert
            for k in text_keys:
                v = cells[k]
                if v is not None and type(v) is not str:
                    cells[k] = cell_text(v)
        # every column, present or not: the records share their keys, and an absent column gets the rule's default
        values, errors = clean(dict(zip(keys, pick(cells), strict=True)), day)
        if errors:
            row.field_errors(errors)
        if extra is not None:
            extra(row, values)
        grid = area_id(row)
        if row.errors or grid is None:
            return None
        values["area_id"] = grid
        return values
    return check


def _existing(ctx: ServiceContext, key: str, column, query: Callable[[list], Any], message: Callable[..., str]):
    """Keys already registered (``query(part)`` → (key, message args…) rows), refused per row."""
    session = ctx.session

    def find(pairs: list[tuple[Row, dict]]) -> None:
        keys = [rec[key] for _r, rec in pairs]
        known: dict[str, str] = {}
        for part in chunks(session, keys):
            for found, *args in session.execute(query(among(session, column, part))):
                known[found] = message(found, *args)
        for row, rec in pairs:
            if rec[key] in known:
                row.error(key, known[rec[key]], rec[key])
    return find


def _spec(sheet: Sheet, check, model, unique: str, existing) -> ImportSpec:
    return ImportSpec(sheet, check, BulkInsert(model.__table__), unique=(unique,), existing=existing,
                      permissions=(svc.P_PERSON, svc.P_IMPORT))


# --- houses -------------------------------------------------------------------------------------
@without_gc
def import_houses(ctx: ServiceContext, path, valid_only: bool = False, progress=None, cancel=None) -> ImportResult:
    check = _register_check(ctx, HOUSES, clean_house, ("code", "address", "house_use", "building_use", "hazard",
                                                       "owner_name", "owner_phone"))
    existing = _existing(ctx, "code", House.code, lambda where: select(House.code, House.address).where(where),
                         lambda code, address: house_taken(code, address))
    return import_sheet(ctx, path, _spec(HOUSES, check, House, "code", existing), valid_only=valid_only,
                        progress=progress, cancel=cancel)


def houses_template(path) -> None:
    write_template(path, HOUSES)


def _grid_names(ctx: ServiceContext) -> dict[int, str]:
    return area_paths(ctx.session)    # full paths: the export imports again as it is


@without_gc
def export_houses(ctx: ServiceContext, path) -> int:
    """The houses in scope; the owner's ID number and phone masked unless full view is allowed."""
    from reports.masking import mask_phone

    ctx.actor.require(svc.P_VIEW)
    full = ctx.actor.can(svc.FULL_VIEW)
    names = _grid_names(ctx)
    q = select(House).where(scope_filter(House.area_id, ctx.actor)).order_by(House.id)
    rows = ([h.code, h.address, names.get(h.area_id, ""), h.house_use, h.building_use, h.floor_area, h.hazard,
             h.owner_name, personal.reveal(ctx, h.owner_id_number) or "",
             h.owner_phone if full else (mask_phone(h.owner_phone) if h.owner_phone else ""), h.rental_pledge_on]
            for h in ctx.session.scalars(q.execution_options(yield_per=2000)))
    return write_rows(path, HOUSES, rows)


# --- households ---------------------------------------------------------------------------------
def _household_house(houses: dict[str, int]):
    def link(row: Row, values: dict) -> None:
        code = values.pop("house", None)
        values["house_id"] = None
        if code:
            values["house_id"] = houses.get(code)
            if values["house_id"] is None:
                row.error("house", "找不到这个房屋编号（或不在您的管辖范围内）：请先登记房屋")
    return link


def _clean_household_row(draft: dict, ctx) -> tuple[dict, list]:
    """The household's rules, and the 房屋编号 cell folded like every code (linked by ``_household_house``)."""
    from shell.core.fields import code_text

    house = code_text(draft.pop("house", None))
    values, errors = clean_household(draft, ctx)
    values["house"] = house
    return values, errors


@without_gc
def import_households(ctx: ServiceContext, path, valid_only: bool = False, progress=None,
                      cancel=None) -> ImportResult:
    houses = dict(ctx.session.execute(select(House.code, House.id).where(scope_filter(House.area_id, ctx.actor))).all())
    check = _register_check(ctx, HOUSEHOLDS, _clean_household_row, ("number", "address", "house", "notes"),
                            _household_house(houses))
    existing = _existing(ctx, "number", Household.number,
                         lambda where: select(Household.number, Household.area_id).where(where),
                         lambda number, area_id: household_taken(number, svc.area_label(ctx.session, area_id)))
    return import_sheet(ctx, path, _spec(HOUSEHOLDS, check, Household, "number", existing),
                        valid_only=valid_only, progress=progress, cancel=cancel)


def households_template(path) -> None:
    write_template(path, HOUSEHOLDS)


@without_gc
def export_households(ctx: ServiceContext, path) -> int:
    ctx.actor.require(svc.P_VIEW)
    names = _grid_names(ctx)
    codes = dict(ctx.session.execute(select(House.id, House.code)).all())
    q = select(Household).where(scope_filter(Household.area_id, ctx.actor)).order_by(Household.id)
    rows = ([h.number, names.get(h.area_id, ""), h.address, codes.get(h.house_id, ""), h.notes]
            for h in ctx.session.scalars(q.execution_options(yield_per=2000)))
    return write_rows(path, HOUSEHOLDS, rows)


# --- organisations ------------------------------------------------------------------------------
@without_gc
def import_organisations(ctx: ServiceContext, path, valid_only: bool = False, progress=None,
                         cancel=None) -> ImportResult:
    check = _register_check(ctx, ORGANISATIONS, clean_organisation,
                            ("name", "kind", "legal_rep", "security_head", "phone", "address", "hazard",
                             "has_party_org"))
    existing = _existing(ctx, "credit_code", Organisation.credit_code,
                         lambda where: select(Organisation.credit_code, Organisation.name,
                                              Organisation.area_id).where(where),
                         lambda code, name, area_id: organisation_taken(name, svc.area_label(ctx.session, area_id)))
    return import_sheet(ctx, path, _spec(ORGANISATIONS, check, Organisation, "credit_code", existing),
                        valid_only=valid_only, progress=progress, cancel=cancel)


def organisations_template(path) -> None:
    write_template(path, ORGANISATIONS)


@without_gc
def export_organisations(ctx: ServiceContext, path) -> int:
    ctx.actor.require(svc.P_VIEW)
    names = _grid_names(ctx)
    q = select(Organisation).where(scope_filter(Organisation.area_id, ctx.actor)).order_by(Organisation.id)
    rows = ([o.name, o.kind, o.credit_code, names.get(o.area_id, ""), o.legal_rep, o.security_head, o.phone,
             o.address, o.hazard, "是" if o.has_party_org else "否", o.party_members]
            for o in ctx.session.scalars(q.execution_options(yield_per=2000)))
    return write_rows(path, ORGANISATIONS, rows)


def definitions() -> list[ImporterDefinition]:
    return [definition("grid-houses", "实有房屋", HOUSES, import_fn=import_houses, export_fn=export_houses,
                       template_fn=houses_template, permission=svc.P_IMPORT),
            definition("grid-households", "户", HOUSEHOLDS, import_fn=import_households, export_fn=export_households,
                       template_fn=households_template, permission=svc.P_IMPORT),
            definition("grid-organisations", "组织（非公有制经济组织、社会组织）", ORGANISATIONS,
                       import_fn=import_organisations, export_fn=export_organisations,
                       template_fn=organisations_template, permission=svc.P_IMPORT)]
