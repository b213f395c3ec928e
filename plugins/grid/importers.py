"""Excel import/export of persons (实有人口). Import reads with python-calamine, validates every row
first (row number, column, value, reason in Chinese) and writes nothing unless the whole file is
valid or the caller accepts the valid rows only; rows are inserted with Core executemany. Real office
sheets are messy: header variants, any column order, stray and full-width spaces, dates as Excel dates
or text, legacy 15-digit ID numbers, and IDs that Excel already turned into numbers."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
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
from .models import PERSON_KINDS, Household, Person


@dataclass(frozen=True)
class Col:
    key: str
    title: str                       # the template header
    aliases: tuple[str, ...] = ()
    required: bool = False


COLUMNS: tuple[Col, ...] = (
    Col("name", "姓名", ("名字", "居民姓名"), True),
    Col("id_number", "公民身份号码", ("身份证号", "身份证号码", "证件号码", "身份证", "证件号"), True),
    Col("grid", "责任网格", ("网格", "所属网格", "网格编码", "网格名称"), True),
    Col("kind", "人口类别", ("类别", "人员类别", "人口类型")),
    Col("phone", "联系电话", ("电话", "手机号", "手机", "手机号码", "联系方式", "电话号码")),
    Col("ethnicity", "民族", ()),
    Col("marital_status", "婚姻状况", ("婚姻",)),
    Col("political_status", "政治面貌", ()),
    Col("education", "学历", ("文化程度",)),
    Col("registered_address", "户籍地详址", ("户籍地址", "户籍地", "户籍所在地")),
    Col("current_address", "现住址", ("现住地详址", "现居住地址", "居住地址", "住址", "现住地址")),
    Col("household", "户号", ()),
    Col("relation_to_head", "与户主关系", ("与户主的关系", "关系")),
    Col("permit_type", "办证类型", ("证件类型（流动）",)),
    Col("permit_start", "证件起始日期", ("居住证起始日期", "办证日期")),
    Col("permit_end", "证件截止日期", ("居住证截止日期", "有效期至")),
    Col("inflow_reason", "流入原因", ()),
)
TITLES = tuple(c.title for c in COLUMNS)
# Columns copied as text when present.
TEXT_KEYS = ("ethnicity", "marital_status", "political_status", "education", "registered_address",
             "current_address", "permit_type", "inflow_reason")
KIND_BY_LABEL = {v: k for k, v in PERSON_KINDS.items()} | {"户籍": "registered", "流动": "floating",
                                                           "境外": "overseas", "常住人口": "registered"}


def _norm_header(h: Any) -> str:
    return re.sub(r"[\s*＊:：]", "", unicodedata.normalize("NFKC", str(h or ""))).strip()


def _lookup() -> dict[str, Col]:
    out = {}
    for c in COLUMNS:
        for name in (c.title,) + c.aliases:
            out[_norm_header(name)] = c
    return out


def _blank(row) -> bool:
    for c in row:
        if c is None or c == "":
            continue
        if isinstance(c, str) and not c.replace("\u3000", " ").strip():
            continue
        return False
    return True


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if type(v) is str:   # the common case first: this runs for every cell of a large file
        return (v.replace("\u3000", " ") if "\u3000" in v else v).strip()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).replace("\u3000", " ").strip()


DATE_PATTERNS = (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"), re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
                 re.compile(r"^(\d{4})(\d{2})(\d{2})$"))


def parse_date(v: Any) -> date | None:
    """Excel dates, or text in the usual spellings: 2024-01-05, 2024/1/5, 2024年1月5日, 20240105."""
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    text = unicodedata.normalize("NFKC", _cell_text(v)).replace(" ", "")
    if not text:
        return None
    for pat in DATE_PATTERNS:
        m = pat.match(text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))  # ValueError for 2024-02-30
    raise ValueError(text)


def read_rows(path: Path) -> tuple[list[Any], list[list[Any]]]:
    """Header and data rows of the first sheet (the shared reader: python-calamine, formulas' cached
    values, formulas without one refused)."""
    from shell.core.sheets import read_sheet

    rows = read_sheet(Path(path))
    if not rows:
        return [], []
    return list(rows[0]), rows[1:]


def _chunks(session, values: list) -> list[list]:
    """Lookups of many keys: one array parameter per 20,000 on PostgreSQL, IN lists of 500 on SQLite
    (a statement with thousands of placeholders costs more to prepare than to run)."""
    size = 20000 if session.get_bind().dialect.name == "postgresql" else 500
    return [values[i:i + size] for i in range(0, len(values), size)]


def _among(session, column, values: list):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import String, any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam("keys", values, type_=ARRAY(String)))
    return column.in_(values)


def _grid_index(ctx: ServiceContext):
    """The open grids and micro-grids in scope, found by full path (和平里社区/第一网格, the street
    optional), a unique bare name, the area code or the id (shell.core.matching)."""
    from shell.core.matching import area_resolver

    areas = list(ctx.session.scalars(select(Area).where(scope_filter(Area.id, ctx.actor), Area.closed_on.is_(None),
                                                        Area.level.in_(("grid", "microgrid")))))
    return area_resolver(ctx.session, areas, "网格", ids=True)


@without_gc
def import_persons(ctx: ServiceContext, path, valid_only: bool = False,
                   progress: Callable[[int, int], Any] | None = None) -> ImportResult:
    ctx.actor.require(svc.P_PERSON)
    ctx.actor.require(svc.P_IMPORT)
    result = ImportResult()
    header, data = read_rows(Path(path))
    if not header:
        result.errors.append(RowError(1, "", None, "工作表是空的：第 1 行应为表头（姓名、公民身份号码、责任网格……）"))
        return result
    lookup = _lookup()
    positions: dict[str, int] = {}
    for i, h in enumerate(header):
        col = lookup.get(_norm_header(h))
        if col is not None and col.key not in positions:
            positions[col.key] = i
    missing = [c for c in COLUMNS if c.required and c.key not in positions]
    for c in missing:
        result.errors.append(RowError(1, c.title, None, f"缺少必填列“{c.title}”（也可写作{'、'.join(c.aliases[:3])}）"))
    if missing:
        return result
    if not data:
        result.errors.append(RowError(2, "", None, "表中没有数据行"))
        return result
    grids = _grid_index(ctx)
    seen: dict[str, int] = {}
    heads: dict[str, int] = {}
    valid: list[tuple[int, dict, str | None]] = []
    pos_items = list(positions.items())
    widest = max(positions.values())
    title = {c.key: c.title for c in COLUMNS}
    text_keys = [k for k in TEXT_KEYS if k in positions]
    # Every record has the same keys (executemany needs that); absent columns stay None.
    template = dict.fromkeys(TEXT_KEYS + ("permit_start", "permit_end"))
    today = ctx.today()
    parse_id = svc.parse_id_number
    initials = svc.name_initials
    total = len(data)
    name_at = positions["name"]
    for n, row in enumerate(data):
        rowno = n + 2
        first = row[name_at] if name_at < len(row) else None
        # a row with a name is not blank; only the others need the cell-by-cell look
        if not (type(first) is str and first.strip()) and _blank(row):
            continue
        result.total_rows += 1
        errors: list[RowError] = []

        def err(key: str, value: Any, reason: str, errors: list[RowError] = errors, rowno: int = rowno) -> None:
            errors.append(RowError(rowno, title[key], value, reason))

        if len(row) > widest:
            raw = {k: row[i] for k, i in pos_items}
        else:
            width = len(row)
            raw = {k: (row[i] if i < width else None) for k, i in pos_items}
        name = _cell_text(raw["name"])
        if not name:
            err("name", raw["name"], "姓名不能为空")
        elif len(name) > 64:
            err("name", name, "姓名太长")
        info = None
        try:
            info = parse_id(raw["id_number"], today=today)
        except ValidationError as e:
            err("id_number", raw["id_number"], e.message)
        if info is not None:
            if info.number in seen:
                err("id_number", raw["id_number"], f"与第 {seen[info.number]} 行的身份证号重复")
            else:
                seen[info.number] = rowno
        grid = None
        try:
            grid = grids.find(raw["grid"])    # cached per cell value: a file names few grids, many times
        except MatchError as e:
            err("grid", raw["grid"], e.message)
        kind = "registered"
        if "kind" in raw and _cell_text(raw["kind"]):
            kind = KIND_BY_LABEL.get(_cell_text(raw["kind"]))
            if kind is None:
                err("kind", raw["kind"], "人口类别应为户籍人口、流动人口或境外人员")
        phone = None
        if "phone" in raw:
            try:
                phone = svc.check_phone(_cell_text(raw["phone"]))
            except ValidationError as e:
                err("phone", raw["phone"], e.message)
        dates = {}
        for k in ("permit_start", "permit_end"):
            if k in raw:
                try:
                    dates[k] = parse_date(raw[k])
                except ValueError:
                    err(k, raw[k], "日期格式不对：请写成 2024-01-05、2024/1/5、2024年1月5日 或 20240105")
        hh = _cell_text(raw.get("household")) or None
        rel = _cell_text(raw.get("relation_to_head")) or None
        if rel == "户主" and hh:
            if hh in heads:
                err("relation_to_head", rel, f"户号 {hh} 在第 {heads[hh]} 行已有户主")
            else:
                heads[hh] = rowno
        if errors:
            result.errors.extend(errors)
            continue
        rec = template.copy()
        rec.update(area_id=grid.id, kind=kind, status="active", id_type="111", id_number=info.number, name=name,
                   name_initials=initials(name), sex=info.sex, birth_date=info.birth_date,
                   nationality="156", phone=phone, relation_to_head=rel, key_attention=False,
                   notes=f"原 15 位身份证号 {info.converted_from} 已升位。" if info.converted_from else "")
        if dates:
            rec.update(dates)
        for k in text_keys:
            rec[k] = _cell_text(raw[k]) or None
        valid.append((rowno, rec, hh))
        if progress and n % 2000 == 0:
            progress(n, total)
    # duplicates against the database, in chunks
    numbers = [r["id_number"] for _, r, _h in valid]
    existing: dict[str, Person] = {}
    for part in _chunks(ctx.session, numbers):
        for p in ctx.session.scalars(select(Person).where(_among(ctx.session, Person.id_number, part))):
            existing[p.id_number] = p
    hh_numbers = sorted({h for _, _r, h in valid if h})
    known_hh: dict[str, Household] = {}
    for part in _chunks(ctx.session, hh_numbers):
        for h in ctx.session.scalars(select(Household).where(_among(ctx.session, Household.number, part))):
            known_hh[h.number] = h
    if known_hh:
        for num, pid in ctx.session.execute(select(Household.number, Person.id).join(
                Person, Person.household_id == Household.id).where(Household.number.in_(list(known_hh)),
                                                                    Person.relation_to_head == "户主")):
            heads.setdefault(f"db:{num}", pid)
    good = []
    for rowno, rec, num in valid:
        other = existing.get(rec["id_number"])
        if other is not None:
            result.errors.append(RowError(rowno, title["id_number"], rec["id_number"],
                                          svc.duplicate_message(ctx.session, other)))
            continue
        if num and num in known_hh and not ctx.actor.in_scope(ctx.session.get(Area, known_hh[num].area_id).path):
            result.errors.append(RowError(rowno, title["household"], num, "这个户号属于您管辖范围以外的网格"))
            continue
        if num and rec["relation_to_head"] == "户主" and f"db:{num}" in heads:
            result.errors.append(RowError(rowno, title["relation_to_head"], "户主", f"户号 {num} 已有户主"))
            continue
        good.append((rowno, rec, num))
    result.errors.sort(key=lambda e: e.row)
    result.valid_rows = len(good)
    if result.errors and not valid_only:
        return result
    # write: new households first, then persons (Core executemany)
    now = datetime.now(UTC)
    new_hh = {}
    for _, rec, num in good:
        if num and num not in known_hh and num not in new_hh:
            new_hh[num] = dict(area_id=rec["area_id"], number=num, address=rec.get("current_address") or "", notes="",
                               created_by=ctx.actor.user_id, created_at=now, updated_at=now, version_id=1)
    hh_ids = {k: v.id for k, v in known_hh.items()}
    if new_hh:
        # executemany without RETURNING (which SQLite runs row by row), then read the ids back by number
        conn = ctx.session.connection()
        bulk_insert(conn, Household.__table__, list(new_hh.values()))
        numbers = list(new_hh)
        for part in _chunks(ctx.session, numbers):
            hh_ids.update(conn.execute(select(Household.number, Household.id)
                                       .where(_among(ctx.session, Household.number, part))).all())
    rows = []
    user = ctx.actor.user_id
    for _, rec, num in good:
        rec.update(household_id=hh_ids.get(num) if num else None, created_by=user, created_at=now,
                   updated_at=now, version_id=1)
        rows.append(rec)
    rows.sort(key=lambda r: r["id_number"])   # the unique index fills in order, page after page
    conn = ctx.session.connection()
    with _large_cache(conn):
        bulk_insert(conn, Person.__table__, rows)
    ctx.session.flush()
    result.written = len(rows)
    if progress:
        progress(total, total)
    return result


IMPORT_CACHE_KIB = 131072


@contextmanager
def _large_cache(conn):
    """SQLite's page cache (2 MB by default) holds a small part of the person table's six indexes; a
    bulk insert into a populated street then rereads index pages for nearly every row. A larger
    cache for the length of the insert, then the default again."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def _driver_value(column, dialect_name: str):
    """A converter to what the database driver takes directly, or None when the value passes as is.
    SQLite gets the text forms SQLAlchemy itself stores (UTC datetimes without zone, ISO dates)."""
    from sqlalchemy import Boolean, Date

    from shell.db.base import UTCDateTime

    if dialect_name != "sqlite":
        return None
    if isinstance(column.type, UTCDateTime):
        last: list[Any] = [None, None]     # created_at/updated_at: one value for the whole file

        def dt(v):
            if v is last[0]:
                return last[1]
            last[0] = v
            last[1] = None if v is None else v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            return last[1]
        return dt
    if isinstance(column.type, Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(column.type, Boolean):
        return lambda v: None if v is None else int(v)
    return None


def bulk_insert(conn, table, rows: list[dict], chunk: int = 10000) -> None:
    """Straight to the driver — executemany on SQLite, COPY on PostgreSQL: the validated rows need no
    per-value processing by SQLAlchemy, which otherwise costs more than the insert itself. Every row
    has the same keys; on SQLite the date, datetime and boolean values are converted in place (the
    rows are spent)."""
    if not rows:
        return
    keys = list(rows[0])
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, table, keys, rows)
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys)
    sql = str(compiled)
    name = conn.dialect.name
    if compiled.positional:
        order = list(compiled.positiontup)
        getter = itemgetter(*order)
        convs = [(k, c) for k in order if (c := _driver_value(table.c[k], name)) is not None]
        for i in range(0, len(rows), chunk):
            part = rows[i:i + chunk]
            if convs:
                # only the few dates and flags need converting (in place); the tuple is built in C
                for r in part:
                    for k, c in convs:
                        r[k] = c(r[k])
            if len(order) == 1:
                conn.exec_driver_sql(sql, [(getter(r),) for r in part])
            else:
                conn.exec_driver_sql(sql, [getter(r) for r in part])
    else:
        for i in range(0, len(rows), chunk):
            conn.exec_driver_sql(sql, rows[i:i + chunk])


def _copy_rows(conn, table, keys: list[str], rows: list[dict]) -> None:
    """PostgreSQL: COPY … FROM STDIN on the transaction's own connection (several times faster than
    executemany); psycopg adapts dates, aware datetimes and booleans itself. The ids come from the
    table's sequence as with INSERT."""
    preparer = conn.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(table.c[k].name) for k in keys)
    getter = itemgetter(*keys)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(getter(r) if len(keys) > 1 else (getter(r),))


GRID_NOTE = "填网格的完整名称（社区/网格，街道可写可不写），如：和平里社区/第一网格；或填网格编码"


def write_template(path) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "实有人口"
    ws.append([c.title + ("*" if c.required else "") for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws["B1"].comment = Comment("请把本列设为“文本”格式，否则 Excel 会把 18 位号码变成科学计数法并丢失末几位。", "街道工作台")
    ws["C1"].comment = Comment(GRID_NOTE, "街道工作台")
    for col in ("B", "E", "L"):
        for r in range(2, 1002):
            ws[f"{col}{r}"].number_format = "@"
    for i, c in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = 22 if c.key in ("id_number", "current_address") else 14
    wb.save(str(path))


@without_gc
def export_persons(ctx: ServiceContext, path) -> int:
    """The persons in the actor's scope, ID numbers and phones masked unless full view is allowed."""
    from openpyxl import Workbook

    from reports.masking import mask_phone

    ctx.actor.require(svc.P_VIEW)
    full = ctx.actor.can(svc.FULL_VIEW)
    grid_names = area_paths(ctx.session)    # full paths: the export imports again as it is
    hh = dict(ctx.session.execute(select(Household.id, Household.number)).all())
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("实有人口")
    ws.append(list(TITLES))
    q = select(Person).where(scope_filter(Person.area_id, ctx.actor), Person.status == "active").order_by(Person.id)
    n = 0
    for p in ctx.session.scalars(q.execution_options(yield_per=2000)):
        ws.append([p.name, personal.reveal(ctx, p.id_number), grid_names.get(p.area_id, ""),
                   PERSON_KINDS.get(p.kind, p.kind), (p.phone if full else mask_phone(p.phone)) if p.phone else "",
                   p.ethnicity, p.marital_status, p.political_status, p.education, p.registered_address,
                   p.current_address, hh.get(p.household_id, ""), p.relation_to_head, p.permit_type,
                   p.permit_start, p.permit_end, p.inflow_reason])
        n += 1
    wb.save(str(path))
    return n


def definitions() -> list[ImporterDefinition]:
    return [ImporterDefinition(kind="grid-persons", title="实有人口", import_fn=import_persons,
                               export_fn=export_persons, template_fn=write_template, permission=svc.P_IMPORT,
                               columns=TITLES)]
