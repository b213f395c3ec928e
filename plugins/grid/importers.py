"""Excel import/export of persons (实有人口), on the shared import engine (shell.core.importing):
every row checked first with the person rules of plugins/grid/validation.py (row, column, value,
reason in Chinese), nothing written unless the whole file is valid or the user accepts the valid
rows, the rows inserted with Core executemany (COPY on PostgreSQL). Real office sheets are messy:
header variants, any column order, stray and full-width spaces, dates as Excel dates or text, legacy
15-digit ID numbers, and IDs that Excel already turned into numbers."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
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
    bulk_insert,
    cell_text,
    chunks,
    definition,
    import_sheet,
    write_rows,
)
from shell.core.importing import write_template as _write_template
from shell.core.matching import MatchError, area_paths
from shell.core.models import Area
from shell.gcpause import without_gc

from . import services as svc
from .models import PERSON_KINDS, Household, Person
from .validation import Today, head_in_file, head_taken, person_cleaner, person_kind

GRID_NOTE = "填网格的完整名称（社区/网格，街道可写可不写），如：和平里社区/第一网格；或填网格编码"
GRID_ALIASES = ("网格", "所属网格", "责任网格", "网格名称", "网格编码")
ID_NOTE = "请把本列设为“文本”格式，否则 Excel 会把 18 位号码变成科学计数法并丢失末几位。"

SHEET = Sheet("实有人口", (
    Column("name", "姓名", ("名字", "居民姓名"), required=True),
    Column("id_number", "公民身份号码", ("身份证号", "身份证号码", "证件号码", "身份证", "证件号"), required=True,
           as_text=True, note=ID_NOTE, width=22),
    Column("grid", "责任网格", ("网格", "所属网格", "网格编码", "网格名称"), required=True, note=GRID_NOTE),
    Column("kind", "人口类别", ("类别", "人员类别", "人口类型")),
    Column("phone", "联系电话", ("电话", "手机号", "手机", "手机号码", "联系方式", "电话号码"), as_text=True),
    Column("ethnicity", "民族"),
    Column("marital_status", "婚姻状况", ("婚姻",)),
    Column("political_status", "政治面貌"),
    Column("education", "学历", ("文化程度",)),
    Column("registered_address", "户籍地详址", ("户籍地址", "户籍地", "户籍所在地")),
    Column("current_address", "现住址", ("现住地详址", "现居住地址", "居住地址", "住址", "现住地址"), width=22),
    Column("household", "户号", as_text=True),
    Column("relation_to_head", "与户主关系", ("与户主的关系", "关系")),
    Column("permit_type", "办证类型", ("证件类型（流动）",)),
    Column("permit_start", "证件起始日期", ("居住证起始日期", "办证日期")),
    Column("permit_end", "证件截止日期", ("居住证截止日期", "有效期至")),
    Column("inflow_reason", "流入原因"),
))
COLUMNS = SHEET.columns
TITLES = SHEET.labels
# Cells read as text (a phone or 户号 Excel kept as a number is "13912345678", not "13912345678.0");
# the ID number and the dates are parsed from what the cell holds.
_TEXT_KEYS = tuple(c.key for c in COLUMNS if c.key not in ("id_number", "permit_start", "permit_end"))


def grid_index(ctx: ServiceContext):
    """The open grids and micro-grids in scope, found by full path (和平里社区/第一网格, the street
    optional), a unique bare name, the area code or the id (shell.core.matching)."""
    from shell.core.matching import area_resolver

    areas = list(ctx.session.scalars(select(Area).where(scope_filter(Area.id, ctx.actor), Area.closed_on.is_(None),
                                                        Area.level.in_(("grid", "microgrid")))))
    return area_resolver(ctx.session, areas, "网格", ids=True)


def grid_ids(ctx: ServiceContext) -> Callable[[Row], int | None]:
    """``area_id(row)``: the id of the row's 责任网格/所属网格, or None with the row's error; cached per
    cell value (a file names few grids, many times; an ORM attribute read per row costs more)."""
    find = grid_index(ctx).find
    ids: dict[Any, int] = {}

    def area_id(row: Row) -> int | None:
        cell = row.cells["grid"]
        found = ids.get(cell)
        if found is not None:
            return found
        try:
            grid = find(cell)
        except MatchError as e:
            row.error("grid", e.message)
            return None
        ids[cell] = found = grid.id
        return found
    return area_id


_PERSON_KEYS = tuple(c.key for c in COLUMNS if c.key not in ("grid", "household"))
_CLEAN_TYPES = frozenset({str, type(None)})


def _person_check(ctx: ServiceContext) -> Callable[[Row], dict | None]:
    area_id = grid_ids(ctx)
    heads: dict[str, int] = {}               # 户号 → the row of its head in this file
    initials = svc.name_initials
    full_pinyin = svc.name_pinyin
    day = Today(ctx.today())
    # Every record has the same keys (executemany needs that); columns the file lacks stay None.
    blank = dict.fromkeys(_PERSON_KEYS)
    blank["kind"] = person_kind(None)        # a file without the column: the rule's default
    layout: list[tuple] = []                 # per file: (values getter, text keys, compiled cleaner)
    today = day.day

    def check(row: Row) -> dict | None:
        cells = row.cells
        if not layout:
            keys = tuple(k for k in _PERSON_KEYS if k in row.present)
            layout.append((itemgetter(*keys) if len(keys) > 1 else (lambda c, k=keys[0]: (c[k],)),
                           tuple(k for k in _TEXT_KEYS if k in row.present), person_cleaner(keys)))
        pick, text_keys, clean = layout[0]
        if not _CLEAN_TYPES.issuperset(map(type, cells.values())):   # all text or empty: nothing to convert
            for k in text_keys:
                v = cells[k]
                if v is not None and type(v) is not str:
                    cells[k] = cell_text(v)
        values, errors = clean(pick(cells), today)
        if errors:
            row.field_errors(errors)
        grid = area_id(row)
        number = cell_text(cells["household"]) or None
        rel = values.get("relation_to_head")
        if rel == "户主" and number:
            if number in heads:
                row.error("relation_to_head", head_in_file(number, heads[number]), rel)
            else:
                heads[number] = row.number
        if row.errors or grid is None:
            return None
        rec = {**blank, **values, "area_id": grid, "status": "active", "id_type": "111", "nationality": "156",
               "key_attention": False, "household": number}
        rec["name_initials"] = initials(rec["name"])
        rec["name_pinyin"] = full_pinyin(rec["name"])
        rec["notes"] = rec.pop("id_note")
        return rec
    return check


def _existing_persons(ctx: ServiceContext, households: dict[str, int]):
    """The checks against the database, once for the file: ID numbers already registered, 户号 of
    another scope, households that already have a head. ``households`` gets the 户号 → id of the
    registered ones the file names (the write links their new members)."""
    session = ctx.session

    def find(pairs: list[tuple[Row, dict]]) -> None:
        numbers = [rec["id_number"] for _r, rec in pairs]
        registered: dict[str, Person] = {}
        for part in chunks(session, numbers):
            for p in session.scalars(select(Person).where(among(session, Person.id_number, part))):
                registered[p.id_number] = p
        hh_numbers = sorted({rec["household"] for _r, rec in pairs if rec["household"]})
        known: dict[str, Household] = {}
        for part in chunks(session, hh_numbers):
            for h in session.scalars(select(Household).where(among(session, Household.number, part))):
                known[h.number] = h
        heads: dict[str, str] = {}
        if known:
            for num, name in session.execute(select(Household.number, Person.name).join(
                    Person, Person.household_id == Household.id).where(among(session, Household.number, list(known)),
                                                                        Person.relation_to_head == "户主")):
                heads.setdefault(num, name)
        for row, rec in pairs:
            other = registered.get(rec["id_number"])
            num = rec["household"]
            if other is not None:
                row.error("id_number", svc.duplicate_message(session, other), rec["id_number"])
            elif num and num in known and not ctx.actor.in_scope(session.get(Area, known[num].area_id).path):
                row.error("household", "这个户号属于您管辖范围以外的网格", num)
            elif num and rec["relation_to_head"] == "户主" and num in heads:
                row.error("relation_to_head", head_taken(heads[num]), "户主")
        households.update((k, v.id) for k, v in known.items())
    return find


PERSONS_INSERT = BulkInsert(Person.__table__, sort=itemgetter("id_number"), large_cache=True)


def _persons_write(households: dict[str, int]):
    """New households first (one per new 户号, in the first member's grid), then the persons."""

    def write(ctx: ServiceContext, pairs, valid_only: bool) -> int:
        session = ctx.session
        hh_ids = dict(households)
        now = datetime.now(UTC)
        new_hh: dict[str, dict] = {}
        for _row, rec in pairs:
            num = rec["household"]
            if num and num not in hh_ids and num not in new_hh:
                new_hh[num] = dict(area_id=rec["area_id"], number=num, address=rec.get("current_address") or "",
                                   notes="", created_by=ctx.actor.user_id, created_at=now, updated_at=now, version_id=1)
        if new_hh:
            # executemany without RETURNING (which SQLite runs row by row), then read the ids back by number
            conn = session.connection()
            bulk_insert(conn, Household.__table__, list(new_hh.values()))
            for part in chunks(session, list(new_hh)):
                hh_ids.update(conn.execute(select(Household.number, Household.id)
                                           .where(among(session, Household.number, part))).all())
        for _row, rec in pairs:
            num = rec.pop("household")
            rec["household_id"] = hh_ids.get(num) if num else None
        return PERSONS_INSERT(ctx, pairs, valid_only)
    return write


@without_gc
def import_persons(ctx: ServiceContext, path, valid_only: bool = False,
                   progress: Callable[[int, int], Any] | None = None,
                   cancel: Callable[[], bool] | None = None) -> ImportResult:
    households: dict[str, int] = {}
    spec = ImportSpec(SHEET, _person_check(ctx), _persons_write(households), unique=("id_number",),
                      existing=_existing_persons(ctx, households), permissions=(svc.P_PERSON, svc.P_IMPORT))
    return import_sheet(ctx, path, spec, valid_only=valid_only, progress=progress, cancel=cancel)


def write_template(path) -> None:
    _write_template(path, SHEET)


@without_gc
def export_persons(ctx: ServiceContext, path) -> int:
    """The persons in the actor's scope, ID numbers and phones masked unless full view is allowed."""
    from reports.masking import mask_phone

    ctx.actor.require(svc.P_VIEW)
    full = ctx.actor.can(svc.FULL_VIEW)
    grid_names = area_paths(ctx.session)    # full paths: the export imports again as it is
    hh = dict(ctx.session.execute(select(Household.id, Household.number)).all())
    q = select(Person).where(scope_filter(Person.area_id, ctx.actor), Person.status == "active").order_by(Person.id)
    rows = ([p.name, personal.reveal(ctx, p.id_number), grid_names.get(p.area_id, ""),
             PERSON_KINDS.get(p.kind, p.kind), (p.phone if full else mask_phone(p.phone)) if p.phone else "",
             p.ethnicity, p.marital_status, p.political_status, p.education, p.registered_address,
             p.current_address, hh.get(p.household_id, ""), p.relation_to_head, p.permit_type,
             p.permit_start, p.permit_end, p.inflow_reason]
            for p in ctx.session.scalars(q.execution_options(yield_per=2000)))
    return write_rows(path, SHEET, rows)


def definitions() -> list[ImporterDefinition]:
    return [definition("grid-persons", "实有人口", SHEET, import_fn=import_persons, export_fn=export_persons,
                       template_fn=write_template, permission=svc.P_IMPORT)]
