"""The import engine every plugin's Excel import runs on: read, match the header, check each row,
check the file against the database, write — the same way, with the same messages, for every kind
of data.

An importer declares its sheet and says what is particular to its rows::

    SHEET = Sheet("实有房屋", (
        Column("code", "房屋编号", ("房屋编码", "房屋号"), required=True, as_text=True),
        Column("address", "地址", ("房屋地址",), required=True),
        Column("floor_area", "建筑面积", ("面积",), parse=positive_area, note="数字，单位平方米"),
    ))

    def check(row: Row) -> dict | None:          # one data row → the record to write, or None
        cleaned, errors = clean_house(row.cells, ctx)   # the aggregate's validator (plugins/<p>/validation.py)
        row.field_errors(errors)                  # each FieldError beside its column
        return cleaned

    spec = ImportSpec(SHEET, check, write=BulkInsert(House.__table__), unique=("code",), existing=known_codes)
    result = import_sheet(ctx, path, spec, valid_only=valid_only, progress=progress, cancel=cancel)

What the engine does, in order:

1. ``read_table`` — the one reader: python-calamine through ``shell.core.sheets.read_sheet`` (a formula
   without a saved result is refused with its row and column; openpyxl is only for writing).
2. ``match_header`` — header variants: each ``Column`` is found by its label or one of its
   ``aliases``, in any column order, ignoring spaces, full-width forms, ``*`` and colons. A missing
   required column is a row-1 error naming it and its other spellings.
3. For every non-blank data row a ``Row`` (``row.number`` as Excel shows it, header = 1;
   ``row.cells`` key → cell, absent columns None). A column's ``parse`` runs first (a
   ``ValidationError`` or ``ValueError`` becomes an error of that cell); then the spec's
   ``check(row)`` returns the record or adds errors with ``row.error(key, message)`` /
   ``row.field_errors(errors)``. Every error is a ``RowError(row, column label, value, message)``.
4. ``unique`` record keys repeated within the file: "与第 N 行的{label}重复".
5. ``existing(pairs)`` — the checks against the database, once for all good rows
   (``[(row, record)]``; add errors to the rows, e.g. "身份证号已登记：…").
6. All-or-nothing: with any error nothing is written, unless ``valid_only`` (the import centre's
   "只导入正确的行") — then the good rows are written and the errors still reported.
7. The write path, chosen per importer:
   - ``BulkInsert(table)`` — Core executemany straight to the driver (COPY on PostgreSQL), the
     audit columns stamped, for big registers whose rows have no side effects;
   - ``PerRow(fn)`` — ``fn(ctx, record)`` (a service call) per row inside its own savepoint, all rows
     inside one outer savepoint: a row refused by the service becomes a row error (its
     ``ValidationError.field`` names the column through ``ImportSpec.fields``), and without
     ``valid_only`` one refused row rolls the whole file back;
   - any callable ``write(ctx, pairs, valid_only) -> int`` for the rest.
8. ``progress(done, total)`` is called every ``PROGRESS_STEP`` rows and at the end; ``cancel()`` is
   asked at the same points and before the write — True raises ``ImportCancelled`` and nothing is
   written (``shell.core.transfer.run_import`` rolls the transaction back, also when the cancel
   comes after the write, before the commit).

Templates and exports: ``write_template(path, sheet)`` (bold header, ``*`` on required columns,
``note`` as a header comment, ``as_text`` columns formatted as text so Excel keeps every digit) and
``write_rows(path, sheet, rows)`` (a streamed export with the same header, so an export imports
again). ``definition(...)`` builds the ``ImporterDefinition`` the import centre lists.

Cell helpers shared by every importer: ``cell_text``, ``cell_code``, ``blank_row``, ``norm_header``;
values are checked with ``shell.core.fields`` (dates: ``fields.parse_date``, the one date parser) in
the aggregate's validator or a column's ``parse``. Bulk helpers: ``bulk_insert``, ``chunks``,
``among`` (key lookups of many values)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from shell.contracts import ImporterDefinition, ImportResult, RowError
from shell.core.fields import code_text
from shell.core.transfer import ImportCancelled
from shell.errors import ValidationError

__all__ = [
    "PROGRESS_STEP", "BulkInsert", "Column", "ImportCancelled", "ImportSpec", "PerRow", "Row", "Sheet", "among",
    "blank_row", "bulk_insert", "cell_code", "cell_text", "chunks", "definition", "import_sheet",
    "match_header", "norm_header", "read_table", "write_rows", "write_template",
]

PROGRESS_STEP = 2000
TEMPLATE_ROWS = 1000           # rows formatted as text below the header of an ``as_text`` column
TEMPLATE_AUTHOR = "街道工作台"
_MISSING: Any = object()


# --- cells -----------------------------------------------------------------------------------------
def cell_text(v: Any) -> str:
    """A cell as text: None → "", 3.0 → "3", the full-width space a space, stripped."""
    if v is None:
        return ""
    if type(v) is str:   # the common case first: this runs for every cell of a large file
        return (v.replace("\u3000", " ") if "\u3000" in v else v).strip()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).replace("\u3000", " ").strip()


def cell_code(v: Any) -> str:
    """A cell holding a number or code: full-width forms folded (Ｘ, １２３), every space dropped."""
    return code_text(cell_text(v))


def blank_row(row: Sequence[Any]) -> bool:
    for c in row:
        if c is None or c == "":
            continue
        if isinstance(c, str) and not c.replace("\u3000", " ").strip():
            continue
        return False
    return True


def norm_header(h: Any) -> str:
    """A header cell compared loosely: NFKC, without spaces, ``*``/``＊`` and colons."""
    return re.sub(r"[\s*＊:：]", "", unicodedata.normalize("NFKC", str(h or ""))).strip()


# --- the sheet ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column of an import: ``key`` (the record's field), ``label`` (the template's header and
    the column named in every error), other header spellings found in office sheets, whether the
    column must be present, and an optional ``parse(cell) -> value`` run before the row check."""

    key: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    parse: Callable[[Any], Any] | None = None
    note: str = ""                 # template: a comment on the header cell
    as_text: bool = False          # template: the column formatted as text (ID numbers, codes, phones)
    width: int | None = None       # template: column width (default from the label)


@dataclass(frozen=True)
class Sheet:
    """The columns of one kind of import, in template order; ``title`` names the sheet."""

    title: str
    columns: tuple[Column, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.columns)

    def label(self, key: str) -> str:
        for c in self.columns:
            if c.key == key:
                return c.label
        return key

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)


def read_table(path) -> tuple[list[Any], list[list[Any]]]:
    """Header and data rows of the first sheet (python-calamine; see ``shell.core.sheets``)."""
    from shell.core.sheets import read_sheet

    rows = read_sheet(Path(path))
    if not rows:
        return [], []
    return list(rows[0]), rows[1:]


def match_header(header: Sequence[Any], columns: Sequence[Column]) -> tuple[dict[str, int], list[RowError]]:
    """Each column's position (the first header cell that names it); row-1 errors for the required
    columns not found."""
    lookup: dict[str, Column] = {}
    for c in columns:
        for name in (c.label,) + c.aliases:
            lookup.setdefault(norm_header(name), c)
    positions: dict[str, int] = {}
    for i, h in enumerate(header):
        col = lookup.get(norm_header(h))
        if col is not None and col.key not in positions:
            positions[col.key] = i
    errors = []
    for c in columns:
        if c.required and c.key not in positions:
            also = f"（也可写作{'、'.join(c.aliases[:3])}）" if c.aliases else ""
            errors.append(RowError(1, c.label, None, f"缺少必填列“{c.label}”{also}"))
    return positions, errors


class Row:
    """One data row while it is checked: ``number`` as Excel shows it, ``cells`` key → cell value
    (None for columns the file does not have, and ``present`` the keys it does have), ``errors``."""

    __slots__ = ("cells", "errors", "number", "present", "sheet")

    def __init__(self, number: int, cells: dict[str, Any], sheet: Sheet, present: frozenset[str]):
        self.number = number
        self.cells = cells
        self.sheet = sheet
        self.present = present
        self.errors: list[RowError] = []

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, key: str, message: str, value: Any = _MISSING) -> None:
        """An error of this row's ``key`` column; the value shown is the cell unless given."""
        if value is _MISSING:
            value = self.cells.get(key)
        self.errors.append(RowError(self.number, self.sheet.label(key), value, message))

    def field_errors(self, errors: Iterable[Any], fields: Mapping[str, str] | None = None) -> None:
        """A validator's ``FieldError``s (``field``, ``message``, ``value``) beside their columns;
        ``fields`` maps a validator's field name to the column key where they differ."""
        for e in errors:
            key = (fields or {}).get(e.field, e.field)
            value = e.value if getattr(e, "value", None) is not None else self.cells.get(key)
            self.error(key, e.message, value)

    def parse(self, key: str, fn: Callable[[Any], Any], default: Any = None) -> Any:
        """``fn(cell)``; a ``ValidationError``/``ValueError`` becomes this cell's error (→ ``default``)."""
        try:
            return fn(self.cells.get(key))
        except ValidationError as e:
            self.error(key, e.message)
        except ValueError:
            self.error(key, f"{self.sheet.label(key)}格式不对")
        return default


# --- write paths -------------------------------------------------------------------------------------
Pairs = list[tuple[Row, dict]]


@dataclass(frozen=True)
class BulkInsert:
    """Core executemany straight to the driver (COPY on PostgreSQL) into ``table``; the audit columns
    (created_by, created_at, updated_at, version_id) stamped unless ``stamp`` is False; ``sort`` orders
    the records first (a unique index filled in key order is cheaper); ``large_cache`` gives SQLite a
    bigger page cache for the insert (tables with many indexes)."""

    table: Any
    stamp: bool = True
    sort: Callable[[dict], Any] | None = None
    large_cache: bool = False

    def __call__(self, ctx, pairs: Pairs, valid_only: bool) -> int:
        rows = [rec for _row, rec in pairs]
        if not rows:
            return 0
        stamps = None
        if self.stamp:   # the same for every row: converted and bound once, not merged into each record
            now = datetime.now(UTC)
            stamps = {"created_by": ctx.actor.user_id, "created_at": now, "updated_at": now, "version_id": 1}
        if self.sort is not None:
            rows.sort(key=self.sort)
        conn = ctx.session.connection()
        if self.large_cache:
            with large_cache(conn):
                bulk_insert(conn, self.table, rows, constants=stamps)
        else:
            bulk_insert(conn, self.table, rows, constants=stamps)
        ctx.session.flush()
        return len(rows)


@dataclass(frozen=True)
class PerRow:
    """``fn(ctx, record)`` per row (a service call, with its side effects and audit), each row in a
    savepoint, the file in one more: a ``ValidationError`` (or another ``JiedaoError``) refuses the
    row, named by its ``field`` (mapped through ``fields`` to a column key). One refused row without
    ``valid_only`` rolls every row back."""

    fn: Callable[[Any, dict], Any]
    fields: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, ctx, pairs: Pairs, valid_only: bool, progress=None, cancel=None) -> int:
        from shell.errors import JiedaoError

        session = ctx.session
        outer = session.begin_nested()
        written = 0
        refused = False
        try:
            for i, (row, rec) in enumerate(pairs):
                sp = session.begin_nested()
                try:
                    self.fn(ctx, rec)
                    sp.commit()
                    written += 1
                except JiedaoError as e:
                    sp.rollback()
                    refused = True
                    fld = getattr(e, "field", None) or ""
                    key = self.fields.get(fld, fld)
                    value = getattr(e, "value", None)
                    row.error(key, str(getattr(e, "message", e)), rec.get(key) if value is None else value)
                if (i + 1) % PROGRESS_STEP == 0:
                    _tick(progress, cancel, i + 1, len(pairs))
            if refused and not valid_only:
                outer.rollback()
                return 0
            outer.commit()
        except BaseException:
            if outer.is_active:
                outer.rollback()
            raise
        return written


def _tick(progress, cancel, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
    if cancel is not None and cancel():
        raise ImportCancelled()


# --- the run -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportSpec:
    """One import: its ``sheet``; ``check(row) -> record | None``; ``write`` (``BulkInsert``, ``PerRow``
    or ``write(ctx, pairs, valid_only) -> int``); the record keys that must not repeat within the
    file (``unique``, each also a column key for the message); ``existing(pairs)`` for the checks
    against the database; the permissions the actor needs; ``empty_hint`` for the empty-sheet
    message (default: the required columns)."""

    sheet: Sheet
    check: Callable[[Row], dict | None]
    write: Callable[..., int]
    unique: tuple[str, ...] = ()
    existing: Callable[[Pairs], None] | None = None
    permissions: tuple[str, ...] = ()
    empty_hint: str = ""


def _records_of(rows: list[list[Any]], positions: dict[str, int], sheet: Sheet) -> Iterable[tuple[int, dict]]:
    """(index, key → cell) of the data rows that are not blank."""
    keys = [c.key for c in sheet.columns]
    absent = dict.fromkeys(k for k in keys if k not in positions)
    pos_items = list(positions.items())
    widest = max(positions.values()) if positions else -1
    pkeys = [k for k, _i in pos_items]
    all_keys = pkeys + list(absent)          # the file's columns, then the absent ones as None
    nones = (None,) * len(absent)
    getter = itemgetter(*[i for _k, i in pos_items]) if len(pos_items) > 1 else None   # the cells, picked in C
    # a row whose first required cell holds text is not blank: only the others need the cell-by-cell look
    first = next((positions[c.key] for c in sheet.columns if c.required and c.key in positions), None)
    for n, row in enumerate(rows):
        lead = row[first] if first is not None and first < len(row) else None
        if not (type(lead) is str and lead.strip()) and blank_row(row):
            continue
        if len(row) > widest and getter is not None:
            cells = dict(zip(all_keys, getter(row) + nones, strict=True))   # one dict, built in C
        else:
            width = len(row)
            cells = {k: (row[i] if i < width else None) for k, i in pos_items}
            if absent:
                cells.update(absent)
        yield n, cells


def import_sheet(ctx, path, spec: ImportSpec, *, valid_only: bool = False,
                 progress: Callable[[int, int], Any] | None = None,
                 cancel: Callable[[], bool] | None = None) -> ImportResult:
    """Check every row of the file at ``path``, then write per ``spec.write`` — nothing when any row
    is bad unless ``valid_only``. See the module docstring for the steps."""
    for code in spec.permissions:
        ctx.actor.require(code)
    sheet = spec.sheet
    result = ImportResult()
    header, data = read_table(path)
    if not header:
        hint = spec.empty_hint or "、".join(c.label for c in sheet.columns if c.required)
        result.errors.append(RowError(1, "", None, f"工作表是空的：第 1 行应为表头（{hint}……）"))
        return result
    positions, header_errors = match_header(header, sheet.columns)
    if header_errors:
        result.errors.extend(header_errors)
        return result
    if not data:
        result.errors.append(RowError(2, "", None, "表中没有数据行"))
        return result
    present = frozenset(positions)
    parsers = [(c.key, c.parse) for c in sheet.columns if c.parse is not None and c.key in positions]
    unique = spec.unique
    seen: list[tuple[str, dict[Any, int]]] = [(k, {}) for k in unique]
    check = spec.check
    total = len(data)
    good: Pairs = []
    bad: list[Row] = []
    rows = 0
    for n, cells in _records_of(data, positions, sheet):
        row = Row(n + 2, cells, sheet, present)
        rows += 1
        for key, parse in parsers:
            cells[key] = row.parse(key, parse)
        rec = check(row)
        if rec is not None and not row.errors:
            for key, firsts in seen:
                value = rec.get(key)
                if value is None or value == "":
                    continue
                first = firsts.get(value)
                if first is not None:
                    row.error(key, f"与第 {first} 行的{sheet.label(key)}重复")
                else:
                    firsts[value] = row.number
        if rec is None or row.errors:
            bad.append(row)
        else:
            good.append((row, rec))
        if n % PROGRESS_STEP == 0 and n:
            _tick(progress, cancel, n, total)
    result.total_rows = rows
    if spec.existing is not None and good:
        spec.existing(good)
        bad.extend(r for r, _rec in good if r.errors)
        good = [(r, rec) for r, rec in good if not r.errors]
    result.valid_rows = len(good)
    for row in bad:
        result.errors.extend(row.errors)
    if result.errors and not valid_only:
        result.errors.sort(key=lambda e: e.row)
        return result
    _tick(None, cancel, total, total)
    write = spec.write
    if isinstance(write, PerRow):
        result.written = write(ctx, good, valid_only, progress, cancel)
    else:
        result.written = write(ctx, good, valid_only)
    refused = [r for r, _rec in good if r.errors]     # rows the write path refused (a service's rules)
    for r in refused:
        result.errors.extend(r.errors)
    result.valid_rows = len(good) - len(refused)
    result.errors.sort(key=lambda e: e.row)
    if progress is not None:
        progress(total, total)
    return result


# --- templates and exports ---------------------------------------------------------------------------
def write_template(path, sheet: Sheet, example: Sequence[Any] | None = None) -> None:
    """An empty import template: bold header (``*`` on required columns), notes as header comments,
    ``as_text`` columns formatted as text, and an optional example row."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet.title
    ws.append([c.label + ("*" if c.required else "") for c in sheet.columns])
    if example is not None:
        ws.append(list(example))
    for i, c in enumerate(sheet.columns, start=1):
        letter = get_column_letter(i)
        ws[f"{letter}1"].font = Font(bold=True)
        ws.column_dimensions[letter].width = c.width or max(12, len(c.label) * 2 + 4)
        if c.note:
            ws[f"{letter}1"].comment = Comment(c.note, TEMPLATE_AUTHOR)
        if c.as_text:   # codes and numbers as text, so Excel keeps every digit
            for r in range(2, TEMPLATE_ROWS + 2):
                ws[f"{letter}{r}"].number_format = "@"
    wb.save(str(path))


def write_rows(path, sheet: Sheet, rows: Iterable[Sequence[Any]]) -> int:
    """An export: the sheet's header, then ``rows`` (values in column order), streamed; the count."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet.title)
    ws.append(list(sheet.labels))
    n = 0
    for r in rows:
        ws.append(list(r))
        n += 1
    wb.save(str(path))
    return n


def definition(kind: str, title: str, sheet: Sheet, *, import_fn=None, export_fn=None, template_fn=None,
               permission: str | None = None) -> ImporterDefinition:
    """The import centre's entry for an engine importer (its columns are the sheet's labels)."""
    return ImporterDefinition(kind=kind, title=title, import_fn=import_fn, export_fn=export_fn,
                              template_fn=template_fn, permission=permission, columns=sheet.labels)


# --- bulk helpers ------------------------------------------------------------------------------------
LOOKUP_CHUNK = 20000


def chunks(session, values: list) -> list[list]:
    """Lookups of many keys, 20,000 per statement: each is one parameter (``among``), so the
    statement costs the same to prepare for 1 key or 20,000 (an IN list of thousands of placeholders
    costs more to compile and prepare than to run)."""
    return [values[i:i + LOOKUP_CHUNK] for i in range(0, len(values), LOOKUP_CHUNK)]


def among(session, column, values: list):
    """``column IN values`` with one parameter: ``= ANY(array)`` on PostgreSQL, ``IN (SELECT value
    FROM json_each(?))`` on SQLite (the column's index is used for each value)."""
    from sqlalchemy import String, bindparam

    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import any_
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam("keys", values, type_=ARRAY(String)))
    import json

    from sqlalchemy import func, select

    each = func.json_each(bindparam("keys", json.dumps(values, ensure_ascii=False), type_=String)).table_valued("value")
    return column.in_(select(each.c.value))


IMPORT_CACHE_KIB = 131072


@contextmanager
def large_cache(conn):
    """SQLite's page cache (2 MB by default) holds a small part of a big table's indexes; a bulk
    insert into a populated register then rereads index pages for nearly every row. A larger cache
    for the length of the insert, then the default again."""
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
    from sqlalchemy import Date

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
        return date.isoformat          # None is skipped by the caller
    # Boolean: sqlite3 binds True/False as 1/0 itself (bool is an int), as SQLAlchemy stores them
    return None


def bulk_insert(conn, table, rows: list[dict], chunk: int = 10000, constants: Mapping[str, Any] | None = None) -> None:
    """Straight to the driver — executemany on SQLite, COPY on PostgreSQL: the validated rows need no
    per-value processing by SQLAlchemy, which otherwise costs more than the insert itself. Every row
    has the same keys; ``constants`` are more columns with one value for every row (the audit
    stamps), converted once and appended to each row's tuple. On SQLite the date, datetime and
    boolean values are converted in place (the rows are spent)."""
    if not rows:
        return
    consts = dict(constants or {})
    keys = [k for k in rows[0] if k not in consts]
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, table, keys, rows, tuple(consts.values()), list(consts))
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys + list(consts))
    name = conn.dialect.name
    if compiled.positional and set(compiled.positiontup) == set(keys) | set(consts):
        order = [k for k in compiled.positiontup if k not in consts]
        tail = tuple(v if v is None or (c := _driver_value(table.c[k], name)) is None else c(v)
                     for k, v in consts.items())
        sql = _insert_sql(conn, table, order + list(consts))
        getter = itemgetter(*order)
        convs = [(k, c) for k in order if (c := _driver_value(table.c[k], name)) is not None]
        for i in range(0, len(rows), chunk):
            part = rows[i:i + chunk]
            if convs:
                # only the few dates need converting (in place); the tuple is built in C
                for r in part:
                    for k, c in convs:
                        v = r[k]
                        if v is not None:
                            r[k] = c(v)
            if len(order) == 1:
                conn.exec_driver_sql(sql, [(getter(r),) + tail for r in part])
            elif tail:
                conn.exec_driver_sql(sql, [getter(r) + tail for r in part])
            else:
                conn.exec_driver_sql(sql, [getter(r) for r in part])
    else:
        if consts:
            for r in rows:
                r.update(consts)
        sql = str(compiled)
        for i in range(0, len(rows), chunk):
            conn.exec_driver_sql(sql, rows[i:i + chunk])


def _insert_sql(conn, table, keys: list[str]) -> str:
    """INSERT INTO table (the keys' columns, in this order) VALUES (?, …) — qmark, as sqlite3 takes it."""
    preparer = conn.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(table.c[k].name) for k in keys)
    return f"INSERT INTO {preparer.format_table(table)} ({columns}) VALUES ({', '.join('?' * len(keys))})"


def _copy_rows(conn, table, keys: list[str], rows: list[dict], tail: tuple = (), tail_keys: Sequence[str] = ()) -> None:
    """PostgreSQL: COPY … FROM STDIN on the transaction's own connection (several times faster than
    executemany); psycopg adapts dates, aware datetimes and booleans itself. The ids come from the
    table's sequence as with INSERT. ``tail`` (for ``tail_keys``) ends every row."""
    preparer = conn.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(table.c[k].name) for k in [*keys, *tail_keys])
    getter = itemgetter(*keys)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN") as copy:
            if len(keys) == 1:
                for r in rows:
                    copy.write_row((getter(r),) + tail)
            else:
                for r in rows:
                    copy.write_row(getter(r) + tail)
