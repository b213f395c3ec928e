"""Every registered report, printed on the demo street, passes the mechanical part of an inspection
(issue 18, "How it is checked"): the signature block once, no page holding only the tail, documents
on one sheet, no date/time/number/code token broken across lines, numbers and dates in Excel.

The list is derived, not hand-picked: the ``register_reports`` hook of every built-in plugin plus the
core reports, as ``shell.core.reporting.available_reports`` lists them. A report added tomorrow is
checked the day it is added. The demo street is built once for the module; one process renders all.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict

import openpyxl
import pdfplumber
import pytest
from pypdf import PdfReader
from sqlalchemy import select

import reports.pdf as pdf_mod
from reports.spec import DocumentSpec, LedgerSpec
from reports.xlsx import HEADER_ROW
from shell.core import auth
from shell.core.context import Actor, ServiceContext
from shell.core.demo import create_demo
from shell.core.models import Area
from shell.core.reporting import available_reports, generate
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager

from ..test_personal_data import _report_params

# Tokens a line break must never fall inside (defined here, independently of the renderer's own
# tokenizer): ISO and Chinese dates, times, and runs of digits/letters (ID, phone, order numbers,
# codes, masked numbers with their asterisks).
TOKEN = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}:\d{2}(?::\d{2})?"
                   r"|[0-9A-Za-z*][0-9A-Za-z*.\-/]*[0-9A-Za-z*]")
SHORT_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")
CLOSING = tuple("，。、；：？！）》」』】”")
LOOKS_NUMERIC = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|\d{4}-\d{1,2}-\d{1,2}(?: \d{1,2}:\d{2}(?::\d{2})?)?")


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Every report rendered once as PDF (and XLSX for ledgers) by a user holding every right,
    street-wide; with each report's spec and every line break the PDF renderer made."""
    tmp = tmp_path_factory.mktemp("every-report")
    pm = make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)
    db = create_demo(tmp / "street.sqlite", pm=pm)
    with db.session_factory() as s:
        street = s.scalars(select(Area).where(Area.level == "street")).first()
    admin = Actor(user_id=None, username="admin", display_name="管理员",
                  permissions=frozenset(auth.collect_permissions(pm)), scope_paths=(street.path,))
    breaks: dict[str, list] = defaultdict(list)
    current = [""]
    orig = pdf_mod.wrap_text

    def recording_wrap(text, avail, m):
        lines = orig(text, avail, m)
        if len(lines) > 1:
            breaks[current[0]].append((text, [t for t, _w in lines]))
        return lines

    out = {}
    pdf_mod.wrap_text = recording_wrap
    try:
        for _plugin, definition in available_reports(pm, admin):
            with db.session_factory() as s:
                params = _report_params(s, definition, False)
                if params is None:
                    continue  # the demo street has no such record (a stock-take)
                spec = definition.builder(ServiceContext(s, admin), params)  # its labels and columns
                s.rollback()
            current[0] = definition.id
            files = {"pdf": tmp / f"{definition.id}.pdf"}
            generate(db.session_factory, admin, definition, params, files["pdf"])
            if isinstance(spec, LedgerSpec):
                files["xlsx"] = tmp / f"{definition.id}.xlsx"
                generate(db.session_factory, admin, definition, params, files["xlsx"])
            out[definition.id] = (spec, files)
    finally:
        pdf_mod.wrap_text = orig
        db.dispose()
    return out, breaks


@functools.cache
def _pages(path) -> tuple[list[str], int]:
    """(each page's text without spaces, the number of rules and frames drawn on the last page)."""
    texts = [(p.extract_text() or "").replace(" ", "") for p in PdfReader(str(path)).pages]
    with pdfplumber.open(path) as pdf:
        last = pdf.pages[-1]
        return texts, len(last.rects) + len(last.lines)


def test_every_report_was_printed(printed):
    out, _ = printed
    ids = set(out)
    assert len(ids) >= 28, sorted(ids)
    assert {"grid.events", "partybuilding.development", "volunteer.certificate",
            "partybuilding.transfer_letter", "core.audit"} <= ids


def test_the_signature_block_is_printed_once_and_never_alone(printed):
    out, _ = printed
    problems = []
    for rid, (spec, files) in out.items():
        if not isinstance(spec, LedgerSpec) or not spec.signature:
            continue
        pages, rules = _pages(files["pdf"])
        label = spec.signature[0] + "："
        where = [k for k, text in enumerate(pages) if label in text]
        if [len(pages) - 1] != where or pages[-1].count(label) != 1:
            problems.append(f"{rid}: “{label}” on pages {[k + 1 for k in where]} of {len(pages)}")
        elif rules == 0:  # the tail page draws no table (rules) at all: it holds only the tail
            problems.append(f"{rid}: the last page holds only the tail")
    assert not problems, "\n".join(problems)


def test_documents_are_one_sheet(printed):
    out, _ = printed
    docs = {rid: files for rid, (spec, files) in out.items() if isinstance(spec, DocumentSpec)}
    assert {"volunteer.certificate", "partybuilding.transfer_letter"} <= set(docs)
    pages = {rid: len(_pages(files["pdf"])[0]) for rid, files in docs.items()}
    assert all(n == 1 for n in pages.values()), pages
    for rid, files in docs.items():
        text = _pages(files["pdf"])[0][0]
        assert "盖章" in text, rid  # the seal area is on that sheet


def _break_offsets(text: str, lines: list[str]) -> list[int]:
    """Offsets in ``text`` where a new line began (the wrapper drops spaces at a break)."""
    offsets, pos = [], 0
    for k, line in enumerate(lines):
        while pos < len(text) and text[pos] in " \n" and not text.startswith(line, pos):
            pos += 1
        if k:
            offsets.append(pos)
        assert text.startswith(line, pos), (text, lines)
        pos += len(line)
    return offsets


def test_no_cell_is_broken_inside_a_date_number_or_code(printed):
    out, breaks = printed
    problems = []
    for rid, calls in breaks.items():
        spec = out[rid][0]
        titles = {c.title for c in spec.columns} if isinstance(spec, LedgerSpec) else set()
        for text, lines in calls:
            cuts = _break_offsets(text, lines)
            spans = [m.span() for m in TOKEN.finditer(text)]
            if text not in titles and SHORT_WORD.fullmatch(text):
                spans.append((0, len(text)))  # a short word alone in a cell (大学本科)
            for cut in cuts:
                inside = [text[a:b] for a, b in spans if a < cut < b]
                if inside:
                    problems.append(f"{rid}: “{text}” → {lines} breaks inside “{inside[0]}”")
                    break
            if any(line.startswith(CLOSING) for line in lines[1:]):
                problems.append(f"{rid}: “{text}” → {lines}: a line starts with closing punctuation")
    assert not problems, "\n".join(problems[:20])


def test_excel_numeric_columns_hold_numbers_and_totals_match(printed):
    out, _ = printed
    problems = []
    typed_cells = 0
    for rid, (spec, files) in out.items():
        if "xlsx" not in files:
            continue
        ws = openpyxl.load_workbook(files["xlsx"], read_only=True).worksheets[0]
        rows = list(ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
        numeric = [i for i, c in enumerate(spec.columns) if c.kind != "text"]
        sums, lasts, highs = defaultdict(float), {}, {}
        for r in rows:
            if not r:
                continue  # the blank row above the signature line
            first = "" if r[0] is None else str(r[0])
            for i in numeric:
                v = r[i] if i < len(r) else None
                kind = spec.columns[i].kind
                if isinstance(v, str) and LOOKS_NUMERIC.fullmatch(v.strip()):
                    problems.append(f"{rid}: column “{spec.columns[i].title}” holds the text “{v}”")
                elif kind in ("date", "datetime") and v is not None and not isinstance(v, (str, dt.date)):
                    problems.append(f"{rid}: date column “{spec.columns[i].title}” holds {v!r}")
                elif isinstance(v, (int, float, dt.date)):
                    typed_cells += 1
                    if isinstance(v, (int, float)) and not first.startswith(("小计", "合计")):
                        sums[i] += v
                        lasts[i] = v
                        highs[i] = max(highs.get(i, v), v)
            if first == "合计" and spec.totals is not None:
                for i in numeric:
                    v = r[i] if i < len(r) else None
                    # a sum; or a closing balance (结余: the last row's); or a tree's root row,
                    # which counts every organisation below it (党员数 of the 党工委)
                    # (no rows in the column: a balance carried over, nothing to add up)
                    if isinstance(v, (int, float)) and i in lasts and all(abs(x - v) > 0.005 for x in
                                                           (sums[i], lasts.get(i, 0), highs.get(i, 0))):
                        problems.append(f"{rid}: 合计 of “{spec.columns[i].title}” is {v}, the rows sum to {sums[i]}")
    assert not problems, "\n".join(problems[:20])
    assert typed_cells > 1000
