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
import itertools
import re
from collections import defaultdict

import openpyxl
import pdfplumber
import pytest
from pypdf import PdfReader
from sqlalchemy import select

import reports.pdf as pdf_mod
from reports.spec import DocumentSpec, LedgerSpec, make_extractor
from reports.xlsx import HEADER_ROW
from shell.core import auth
from shell.core.context import Actor, ServiceContext
from shell.core.models import Area
from shell.core.reporting import available_reports, generate
from shell.errors import NotFound, OutOfScope
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
from shell.testing import ALL_BUILTINS

from ..test_personal_data import _report_params

# Tokens a line break must never fall inside (defined here, independently of the renderer's own
# tokenizer): ISO and Chinese dates, times, and runs of digits/letters (ID, phone, order numbers,
# codes, masked numbers with their asterisks).
TOKEN = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}:\d{2}(?::\d{2})?"
                   r"|[0-9A-Za-z*][0-9A-Za-z*.\-/]*[0-9A-Za-z*]")
SHORT_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")
CLOSING = tuple("，。、；：？！）》」』】”")
LOOKS_NUMERIC = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|\d{4}-\d{1,2}-\d{1,2}(?: \d{1,2}:\d{2}(?::\d{2})?)?")


ASKED_FOR_AREA: set[str] = set()  # reports printed for one community (a required 辖区 parameter)
SOURCE_ROWS = 25  # rows of each ledger whose tokens are looked for, whole, on the printed lines


def _print_every_report(db, pm, actor, tmp, breaks=None):
    """Every report the actor may print, as PDF (and XLSX for ledgers): {id: (spec, files, tokens)}
    with ``tokens`` the date/number/code tokens of the first rows' cells, as the PDF should print
    them (masked as the ledger masks). Reports whose record lies outside the actor's scope are
    left out (the demo's stock-take is of the street's reserve)."""
    current = [""]
    orig = pdf_mod.wrap_text

    def recording_wrap(text, avail, m):
        lines = orig(text, avail, m)
        if len(lines) > 1:
            breaks[current[0]].append((text, [t for t, _w in lines]))
        return lines

    out = {}
    if breaks is not None:
        pdf_mod.wrap_text = recording_wrap
    try:
        for _plugin, definition in available_reports(pm, actor):
            with db.session_factory() as s:
                params = _report_params(s, definition, False)
                if params is None:
                    continue  # the demo street has no such record
                try:
                    spec = definition.builder(ServiceContext(s, actor), params)  # its labels and columns
                except (OutOfScope, NotFound):
                    continue
                tokens = set()
                if isinstance(spec, LedgerSpec):
                    extract = make_extractor(spec.columns, spec.mask_ids)
                    for row in itertools.islice(spec.rows, SOURCE_ROWS):
                        for text in extract(row):
                            tokens.update(t for t in TOKEN.findall(text) if len(t) >= 5)
                s.rollback()
            current[0] = definition.id
            dest = tmp / actor.username
            dest.mkdir(exist_ok=True)
            files = {"pdf": dest / f"{definition.id}.pdf"}
            generate(db.session_factory, actor, definition, params, files["pdf"])
            if isinstance(spec, LedgerSpec):
                files["xlsx"] = dest / f"{definition.id}.xlsx"
                generate(db.session_factory, actor, definition, params, files["xlsx"])
            out[definition.id] = (spec, files, tokens)
            if any(p.kind == "area" and params.get(p.name) for p in definition.parameters):
                ASKED_FOR_AREA.add(definition.id)
    finally:
        pdf_mod.wrap_text = orig
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory, sqlite_templates):
    tmp = tmp_path_factory.mktemp("every-report")
    pm = make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)
    db = sqlite_templates.open(tmp / "street.sqlite", ALL_BUILTINS, demo=True, pm=pm)
    with db.session_factory() as s:
        street = s.scalars(select(Area).where(Area.level == "street")).first()
        community = s.scalars(select(Area).where(Area.level == "community").order_by(Area.id)).first()
        areas = {"street": (street.name, street.path), "community": (community.name, community.path)}
    yield db, pm, tmp, areas
    db.dispose()


@pytest.fixture(scope="module")
def printed(demo):
    """Every report rendered once as PDF (and XLSX for ledgers) by a user holding every right,
    street-wide; with each report's spec and every line break the PDF renderer made."""
    db, pm, tmp, areas = demo
    admin = Actor(user_id=None, username="admin", display_name="管理员",
                  permissions=frozenset(auth.collect_permissions(pm)), scope_paths=(areas["street"][1],))
    breaks: dict[str, list] = defaultdict(list)
    out = _print_every_report(db, pm, admin, tmp, breaks)
    return {rid: (spec, files) for rid, (spec, files, _t) in out.items()}, breaks, out


@pytest.fixture(scope="module")
def printed_by_community(demo):
    """The same, by a community worker holding every right but for one community only."""
    db, pm, tmp, areas = demo
    worker = Actor(user_id=None, username="community", display_name="李社区",
                   permissions=frozenset(auth.collect_permissions(pm)), scope_paths=(areas["community"][1],))
    return _print_every_report(db, pm, worker, tmp), areas


@functools.cache
def _pages(path) -> tuple[list[str], int]:
    """(each page's text without spaces, the number of rules and frames drawn on the last page)."""
    texts = [(p.extract_text() or "").replace(" ", "") for p in PdfReader(str(path)).pages]
    with pdfplumber.open(path) as pdf:
        last = pdf.pages[-1]
        return texts, len(last.rects) + len(last.lines)


def test_every_report_was_printed(printed):
    out, _, _ = printed
    ids = set(out)
    assert len(ids) >= 28, sorted(ids)
    assert {"grid.events", "partybuilding.development", "volunteer.certificate",
            "partybuilding.transfer_letter", "core.audit"} <= ids


def test_the_signature_block_is_printed_once_and_never_alone(printed):
    out, _, _ = printed
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
    out, _, _ = printed
    docs = {rid: files for rid, (spec, files) in out.items() if isinstance(spec, DocumentSpec)}
    assert {"volunteer.certificate", "partybuilding.transfer_letter"} <= set(docs)
    pages = {rid: len(_pages(files["pdf"])[0]) for rid, files in docs.items()}
    assert all(n == 1 for n in pages.values()), pages
    specs = {rid: spec for rid, (spec, _files) in out.items() if isinstance(spec, DocumentSpec)}
    assert {rid for rid, spec in specs.items() if not spec.seal} >= {"volunteer.receipt", "emergency.issue_note"}
    for rid, files in docs.items():
        text = _pages(files["pdf"])[0][0]
        # a certificate or letter carries the seal area on that sheet; a receipt only signatures
        assert ("盖章" in text) is specs[rid].seal, rid
        for label in specs[rid].signature:
            assert label in text, (rid, label)


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
    out, breaks, _ = printed
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
    out, _, _ = printed
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
            if first.startswith("合计") and spec.totals is not None:
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


def _lines(path, pages=3) -> list[str]:
    """The printed lines of the first pages (pdfplumber, spaces removed): a table row's cells share
    a line, so a token printed whole is a substring of one line and a token broken is of none."""
    with pdfplumber.open(path) as pdf:
        return [ln["text"].replace(" ", "") for page in pdf.pages[:pages] for ln in page.extract_text_lines()]


def test_printed_cells_hold_their_tokens_whole(printed, printed_by_community):
    """Independently of the renderer's own wrapping (the test above): every date, number and code of
    the first rows' cells is found whole on one printed line of the PDF (pdfplumber words against
    the source values), for the street user and the community worker."""
    problems, checked = [], 0
    for out in (printed[2], printed_by_community[0]):
        for rid, (_spec, files, tokens) in out.items():
            if not tokens:
                continue
            lines = _lines(files["pdf"])
            text = "\n".join(lines)
            for tok in sorted(tokens):
                checked += 1
                if tok.replace(" ", "") not in text:
                    continue  # a row beyond the pages looked at
                if not any(tok.replace(" ", "") in ln for ln in lines):
                    problems.append(f"{rid}: “{tok}” is split across printed lines")
    assert not problems, "\n".join(problems[:20])
    assert checked > 500


def _header(files) -> tuple[str, list[str]]:
    """(the PDF's first page text without spaces, the XLSX header rows' texts)."""
    first = _pages(files["pdf"])[0][0]
    rows = []
    if "xlsx" in files:
        ws = openpyxl.load_workbook(files["xlsx"], read_only=True).worksheets[0]
        for r in ws.iter_rows(min_row=1, max_row=HEADER_ROW - 1, values_only=True):
            rows.append("".join(str(c) for c in r if c).replace(" ", ""))
    return first, rows


def _party(rid: str) -> bool:
    return rid.startswith("partybuilding.")


def test_the_header_names_the_actors_unit_and_scope(printed, printed_by_community):
    """Street-wide the ledgers are issued by the street office (the Party ones by the 党工委) and say
    范围：<street>; for a community worker, by the community (its 党委 / 党总支) and 范围：<community>
    — on the PDF's first page and in the workbook's header rows."""
    out_street = printed[2]
    out_comm, areas = printed_by_community
    street, community = areas["street"][0], areas["community"][0]
    assert len(out_comm) >= 20, sorted(out_comm)
    problems = []
    for who, out, place in (("street", out_street, street), ("community", out_comm, community)):
        for rid, (spec, files, _t) in out.items():
            if not isinstance(spec, LedgerSpec):
                continue
            first, xrows = _header(files)
            unit = spec.unit_name.replace(" ", "")
            if f"填报单位：{unit}" not in first:
                problems.append(f"{who} {rid}: the PDF does not print 填报单位：{unit}")
            if not any(f"填报单位：{unit}" in r for r in xrows):
                problems.append(f"{who} {rid}: the workbook does not print 填报单位：{unit}")
            if _party(rid):
                if not unit.startswith("中共") or any(w in unit for w in ("办事处", "党支部", "党小组")):
                    problems.append(f"{who} {rid}: a Party ledger headed by “{unit}”")
            elif who == "street" and "办事处" not in unit and rid not in ASKED_FOR_AREA:
                problems.append(f"{who} {rid}: street-wide but headed by “{unit}”")
            if who == "community" and community not in unit:
                problems.append(f"{who} {rid}: a {community} worker's ledger headed by “{unit}”")
            if not spec.scope:
                problems.append(f"{who} {rid}: no printed scope")
                continue
            if place not in spec.scope and not (rid in ASKED_FOR_AREA and community in spec.scope):
                problems.append(f"{who} {rid}: scope “{spec.scope}” does not name {place}")
            scope = f"范围：{spec.scope}".replace(" ", "")
            if scope not in first or not any(scope in r for r in xrows):
                problems.append(f"{who} {rid}: “{scope}” missing under the title")
            if spec.period and not spec.period.startswith("截至") and "统计期间：" not in first:
                problems.append(f"{who} {rid}: a period ledger without 统计期间")
            if spec.period.startswith("截至") and "统计期间" in first:
                problems.append(f"{who} {rid}: a snapshot printed as 统计期间")
    assert not problems, "\n".join(problems[:30])


def test_dates_in_the_header_are_in_one_chinese_style(printed):
    """年月日 without leading zeros, 至 between the ends; no ISO date in a header's period."""
    problems = []
    for rid, (spec, _files) in printed[0].items():
        if isinstance(spec, LedgerSpec) and spec.period:
            if re.search(r"\d{4}-\d{2}-\d{2}|年0\d月|月0\d日| 至 ", spec.period):
                problems.append(f"{rid}: period “{spec.period}”")
    assert not problems, problems
