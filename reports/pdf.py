"""PDF rendering of ledgers (台账) and one-record documents (证明) with ReportLab.

Ledgers are not built as one platypus ``Table`` (superlinear: 90 s for 50,000 rows). Instead:

0. **Widths** — the first ``_MEASURE_ROWS`` rows are read ahead and the columns sized from their
   content (:func:`measure_widths`); they then go through the layout pass like the rest.
1. **Layout pass** — the row stream is consumed lazily; every cell is measured with the font's
   advance widths and wrapped at character level (CJK has no spaces; Latin words and digit runs are
   kept together when they fit; closing punctuation never starts a line). Rows are packed into pages
   and each finished page's laid-out lines are spooled to a temporary file, so memory stays flat in
   the row count and the total page count is known before anything is drawn.
2. **Draw pass** — each spooled page is drawn straight onto the canvas as PDF operators (rules, fills,
   text positioned per line), with the unit name, title and period, the repeated column header, and
   "第 X 页 共 Y 页" in the footer. The last page carries the totals row, notes and the signature block
   with room for the seal. Each finished page's content stream is compressed at once and moved to a
   second temporary file (:class:`_SpooledStream`) instead of staying in ReportLab's memory until
   ``save()``; what still grows with the page count is ReportLab's small page dictionary per page and,
   at ``save()``, the file itself, which ReportLab assembles in memory (see docs/benchmarks.md).

Both passes call ``progress(done_rows, total_rows_or_None, text)`` once per page and ``cancel()``;
a cancelled render raises :class:`Cancelled` and leaves no file at the output path (the PDF is
written to a temporary file next to it and renamed into place only when complete).
"""
from __future__ import annotations

import marshal
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, groupby, islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

from reportlab import rl_config
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream
from reportlab.pdfgen import canvas as _canvas

from reports.errors import JiedaoError

from .fonts import FontInfo, find_cjk_font
from .spec import (
    DocumentSpec,
    LedgerSpec,
    Tally,
    count_label,
    date_text,
    group_key_fn,
    make_extractor,
    period_label,
    resolve_widths,
    split_label,
    subtotal_columns,
    sum_text,
)

_first = itemgetter(0)
# Rows read ahead to measure the column widths (all of them on most ledgers; a bounded read-ahead
# keeps memory flat and the first page's progress early on a 100,000-row one).
_MEASURE_ROWS = 1000
# Data rows that go along with the tail when it does not fit under the last rows of a page.
_TAIL_ROWS = 3
_second = itemgetter(1)

# Jiedao writes binary (Flate-only) PDF streams. ReportLab's default also wraps every stream in
# ASCII85, which without the optional C accelerator costs a third of the time of a big ledger and
# makes files 25 % larger; no printer or viewer needs it. Set once, at import, for the process.
rl_config.useA85 = 0

# PDF string escaping of single-byte codes (TrueType subsets use 1-byte codes).
_ESC = [chr(i) if 32 <= i < 127 else f"\\{i:03o}" for i in range(256)]
_ESC[ord("(")] = "\\("
_ESC[ord(")")] = "\\)"
_ESC[ord("\\")] = "\\\\"


def _escape(b: bytes) -> str:
    return "".join(map(_ESC.__getitem__, b))

__all__ = ["render_pdf", "render_document", "RenderResult", "Cancelled", "wrap_text"]

ProgressFn = Callable[[int, "int | None", str], Any]
CancelFn = Callable[[], bool]


class Cancelled(JiedaoError):
    title = "已取消"

    def __init__(self, message: str = "已取消生成报表，未保存任何文件。"):
        super().__init__(message)


@dataclass(frozen=True)
class RenderResult:
    pages: int
    rows: int
    missing_chars: str = ""   # characters of the data the font cannot print (rare 生僻字), if any
    font: str = ""            # the font it was printed in (FontInfo.label), shown by the CLI and 设置 → 报表


# ----------------------------------------------------------------------------- text measuring

# Unbreakable runs: Chinese dates (2026年12月3日, 12月3日), Latin words, numbers, dates, times
# (19:18), ID, phone and order numbers (masked ones too), codes; then spaces; then one character.
_TOKEN_RE = re.compile(r"\d{4}年\d{1,2}月(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日"
                       r"|[0-9A-Za-z\u00c0-\u024f@._\-+/#%&'’*:×]+| +|.", re.S)
# A short Chinese word standing alone in a cell (大学本科, 化解情况, 入党积极分子) is not split either.
_SHORT_WORD_RE = re.compile(r"(?=.*[\u3400-\u9fff])[\u3400-\u9fff0-9A-Za-z]{2,6}")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
# Characters that must not start a line (避头) / end a line (避尾).
_NO_START = set("，。、；：？！）》」』】〕〉”’….,;:?!)%·～")
_NO_END = set("（《「『【〔〈“‘(")


class _Measure:
    """Fast advance widths for one font at one size (per-character cache)."""

    __slots__ = ("font", "size", "cw", "_g", "_dw", "_k")

    def __init__(self, font_name: str, size: float):
        self.font = pdfmetrics.getFont(font_name)
        self.size = size
        self.cw: dict[str, float] = {}
        face = self.font.face
        self._g = face.charWidths.get
        self._dw = repeat(face.defaultWidth)
        self._k = 0.001 * size

    def width(self, text: str) -> float:
        return sum(map(self._g, map(ord, text), self._dw)) * self._k

    def _sw(self, text: str, size: float | None = None) -> float:  # same signature as stringWidth
        return sum(map(self._g, map(ord, text), self._dw)) * self._k

    def char(self, ch: str) -> float:
        w = self.cw.get(ch)
        if w is None:
            w = self.cw[ch] = self._sw(ch, self.size)
        return w


def wrap_text(text: str, avail: float, m: _Measure) -> list[tuple[str, float]]:
    """Wrap ``text`` into lines no wider than ``avail`` points; returns [(line, width)].

    CJK wraps between any two characters; dates, times, numbers, codes and Latin words
    (``_TOKEN_RE``) stay together when they fit on a line (otherwise they are broken by character,
    which column widths from :func:`measure_widths` avoid); closing punctuation (；，。） …) never
    starts a line and opening punctuation never ends one (simple 禁则); a last line of one lone
    Chinese character takes a second one with it. Explicit newlines are kept.
    """
    out: list[tuple[str, float]] = []
    sw = m._sw
    for para in text.split("\n"):
        w = sw(para)
        if w <= avail:
            out.append((para, w))
            continue
        start = len(out)
        line = ""
        lw = 0.0
        last = ""  # the last token put on the line
        for tok in _TOKEN_RE.findall(para):
            tw = m.char(tok) if len(tok) == 1 else sw(tok)
            if lw + tw <= avail:
                line += tok
                lw += tw
                last = tok
                continue
            if tok[0] == " ":
                if line:
                    out.append((line, lw))
                line, lw, last = "", 0.0, ""
                continue
            carry = ""
            if line:
                if tok in _NO_START and len(line) > len(last) and last and line[-1] not in _NO_START:
                    carry = last  # move the last token (a character, a date …) down with the punctuation
                    line = line[:-len(last)]
                    lw = sw(line)
                elif tok in _NO_START and line[-1] in _NO_START:
                    # a second closing mark ("）；"): the run of them and the token before it go down
                    # together, so neither mark starts the next line
                    run = len(line) - len(line.rstrip("".join(_NO_START)))
                    head = line[:-run]
                    before = _TOKEN_RE.findall(head)[-1:] if head else []
                    if before and len(head) > len(before[0]):
                        carry = before[0] + line[-run:]
                        line = head[:-len(before[0])]
                        lw = sw(line)
                elif line[-1] in _NO_END and len(line) > 1:
                    carry = line[-1]
                    line = line[:-1]
                    lw = sw(line)
                out.append((line.rstrip(" "), sw(line.rstrip(" ")) if line.endswith(" ") else lw))
            tok = carry + tok
            tw = sw(tok)
            if tw <= avail:
                line, lw, last = tok, tw, tok
                continue
            # A token wider than the cell (longer than any the column was measured on): break it
            # after a "_" or "/" when it has one (an identifier, a path), else by character;
            # still no line starting with closing punctuation.
            line, lw, last = "", 0.0, ""
            for ch in tok:
                cw = m.char(ch)
                if lw + cw > avail and line and ch not in _NO_START:
                    soft = max(line.rfind("_"), line.rfind("/"))
                    if 0 < soft < len(line) - 1:
                        out.append((line[:soft + 1], sw(line[:soft + 1])))
                        line = line[soft + 1:]
                        lw = sw(line)
                    else:
                        out.append((line, lw))
                        line, lw = "", 0.0
                line += ch
                lw += cw
        if line or not out:
            line = line.rstrip(" ")
            out.append((line, sw(line)))
        if len(out) - start > 1:
            last, prev = out[-1][0], out[-2][0]
            if len(last) == 1 and _CJK_RE.match(last) and len(prev) > 2 and _CJK_RE.match(prev[-1]) \
                    and sw(prev[-1] + last) <= avail:
                out[-2:] = [(prev[:-1], sw(prev[:-1])), (prev[-1] + last, sw(prev[-1] + last))]
    return out


def unbreakable_width(text: str, m: _Measure) -> float:
    """The width of the widest run of ``text`` that :func:`wrap_text` keeps on one line: a token
    of ``_TOKEN_RE`` with the closing punctuation after it, or the whole text when it is a short
    Chinese word."""
    best = 0.0
    sw = m._sw
    for para in text.split("\n"):
        if _SHORT_WORD_RE.fullmatch(para):
            best = max(best, sw(para))
            continue
        toks = _TOKEN_RE.findall(para)
        for k, tok in enumerate(toks):
            if len(tok) > 1 and tok[0] != " " or len(toks) == 1:
                if k + 1 < len(toks) and toks[k + 1] in _NO_START:
                    tok += toks[k + 1]
                best = max(best, sw(tok))
    return best


def header_min_width(title: str, m: _Measure) -> float:
    """A column header may wrap between characters, but short titles stay on one line (性别, 负责人)
    and longer ones wrap into balanced lines (化解/情况), never leaving one character alone."""
    n = len(title)
    word = unbreakable_width(title, m) if not _CJK_RE.search(title) else 0.0
    if n <= 3:
        return max(word, m._sw(title))
    per = -(-n // 2) if n <= 10 else -(-n // 3)
    return max(word, max(m._sw(title[k:k + per]) for k in range(0, n, per)))


def measure_widths(spec: LedgerSpec, sample: list, font: FontInfo, total: float, fs: float,
                   pad: float) -> list[float]:
    """Column widths in points from the content: every column at least its longest unbreakable
    token (and its header's minimum), then the rest shared by how much each column's text wants,
    the columns' declared widths (``Column.width``) sharing out what is left over.

    ``sample`` are the first rows of the stream (the renderer reads them ahead; a 100,000-row
    ledger is measured on them, not re-read)."""
    cols = spec.columns
    n = len(cols)
    m = _Measure(font.regular_name, fs)
    mb = _Measure(font.bold_name, fs)
    hint = resolve_widths(cols, total, mm)
    texts: list[set] = [set() for _ in cols]
    extract = make_extractor(cols, spec.mask_ids)
    for row in sample:
        for i, t in enumerate(extract(row)):
            if t:
                texts[i].add(t)
    if spec.totals is not None and not callable(spec.totals) and spec.totals != "auto":
        for i, t in enumerate(make_extractor(cols, False)(spec.totals)):
            if t and not (i == 0 and _CJK_RE.match(t)):
                texts[i].add(t)
    mins, wants = [], []
    for i, c in enumerate(cols):
        lo = header_min_width(c.title, mb)
        hi = lo
        sw = m._sw
        for t in texts[i]:
            w = sw(t) if "\n" not in t else max(map(sw, t.split("\n")))
            if w > hi:
                hi = w
            if c.wrap and w > lo:  # a text no wider than the minimum cannot raise it
                lo = max(lo, unbreakable_width(t, m))
        if not c.wrap:
            lo = max(lo, min(hi, total * 0.3))
        mins.append(lo + 2 * pad + 0.5)
        wants.append(min(max(hi, lo) + 2 * pad + 0.5, max(lo + 2 * pad, total * 0.45)))
    smin = sum(mins)
    if smin >= total:  # too many columns even at their minimum: shrink them alike
        return [w * total / smin for w in mins]
    extra = total - smin
    need = [w - lo for w, lo in zip(wants, mins, strict=True)]
    sneed = sum(need)
    if sneed > extra:
        # Share the room out by water-filling, weighted by the declared widths: a column gets what
        # its text wants up to a common level × its weight, so columns of short values (网格,
        # 户籍地) are whole on one line and the long texts (地址, 备注) share what remains.
        weight = [max(h, 1.0) for h in hint]
        order = sorted(range(n), key=lambda k: need[k] / weight[k])
        left, wsum = extra, sum(weight)
        give = [0.0] * n
        for k in order:
            level = left / wsum
            g = min(need[k], level * weight[k])
            give[k] = g
            left -= g
            wsum -= weight[k]
        return [lo + g for lo, g in zip(mins, give, strict=True)]
    widths = list(wants)
    rest = extra - sneed
    # what is left: to the columns declared wide (hint), never pulling one below its content
    grow = [max(h - w, 0.0) for h, w in zip(hint, widths, strict=True)]
    sgrow = sum(grow)
    if sgrow > 0:
        widths = [w + rest * g / sgrow for w, g in zip(widths, grow, strict=True)]
    else:
        widths = [w + rest * h / total for w, h in zip(widths, hint, strict=True)]
    return widths


# ----------------------------------------------------------------------------- PDF text encoding

class _Encoder:
    """Turns text into PDF show-text operators for one TrueType font within one document,
    caching the encoded form of repeated strings (男/女, 汉族, grid names …)."""

    def __init__(self, font_name: str, doc):
        self.font = pdfmetrics.getFont(font_name)
        self.doc = doc
        self.names: list[str] = []
        self.cache: dict[str, list[tuple[int, str]]] = {}
        self.charmap: dict[str, tuple[int, str]] = {}  # char → (subset, escaped 1-byte code)

    def parts(self, text: str) -> list[tuple[int, str]]:
        p = self.cache.get(text)
        if p is not None:
            return p
        cm = self.charmap
        try:
            items = [cm[ch] for ch in text]
        except KeyError:  # first use of a character: let ReportLab assign it a subset slot
            self.font.splitString(text, self.doc)
            A = self.font.state[self.doc].assignments
            for ch in text:
                if ch not in cm:
                    n = A.get(ord(ch) if ch != "\xa0" else 32, 0)
                    cm[ch] = (n >> 8, _ESC[n & 255])
            items = [cm[ch] for ch in text]
        p = [(sub, "".join(map(_second, grp))) for sub, grp in groupby(items, _first)]
        if len(self.cache) > 20000:
            self.cache.clear()
        self.cache[text] = p
        return p

    def name(self, subset: int) -> str:
        names = self.names
        while len(names) <= subset:
            names.append(self.font.getSubsetInternalName(len(names), self.doc))
        return names[subset]


class _TextWriter:
    """Accumulates one BT…ET block of positioned lines.

    Each line is emitted as ``1 0 0 1 x y Tm`` followed by a cached "Tf … Tj" string for its text
    (the font operator is repeated per line, which keeps the cache independent of drawing order)."""

    def __init__(self, regular: _Encoder, bold: _Encoder, fake_bold: bool):
        self.regular = regular
        self.bold = bold
        self.fake_bold = fake_bold
        self.ops: list[str] = []
        self.tr = 0
        self._shows: dict[tuple[float, bool], dict[str, str]] = {}

    def begin(self):
        self.ops.append("BT")
        self.tr = 0

    def end(self) -> list[str]:
        if self.tr:
            self.ops.append("0 Tr")
        self.ops.append("ET")
        ops = self.ops
        self.ops = []
        return ops

    def set_bold(self, bold: bool):
        want_tr = 2 if (bold and self.fake_bold) else 0
        if want_tr != self.tr:
            self.ops.append(f"{want_tr:d} Tr")
            self.tr = want_tr

    def shower(self, size: float, bold: bool) -> Callable[[str], str]:
        """A function text → show-text operators, cached per text."""
        cache = self._shows.setdefault((size, bold), {})
        get = cache.get
        enc = self.bold if (bold and not self.fake_bold) else self.regular
        sz = f"{size:.2f}"

        def show(text: str) -> str:
            r = get(text)
            if r is None:
                r = " ".join(f"{enc.name(sub)} {sz} Tf ({esc}) Tj" for sub, esc in enc.parts(text))
                if len(cache) > 30000:
                    cache.clear()
                cache[text] = r
            return r
        return show

    def line(self, x: float, y: float, text: str, size: float, bold: bool = False):
        if not text:
            return
        self.set_bold(bold)
        self.ops.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm {self.shower(size, bold)(text)}")


# ----------------------------------------------------------------------------- output handling

@contextmanager
def _atomic_output(out) -> Iterator[str]:
    """Yield a temporary path; on success move it to ``out`` (a path or a binary file object)."""
    if isinstance(out, (str, os.PathLike)):
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", suffix=".part", dir=target.parent)
        os.close(fd)
        try:
            yield tmp
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    else:
        fd, tmp = tempfile.mkstemp(suffix=".pdf")
        os.close(fd)
        try:
            yield tmp
            with open(tmp, "rb") as fh:
                shutil.copyfileobj(fh, out)
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# ----------------------------------------------------------------------------- page streams on disk

class _SpooledStream(PDFStream):
    """A page content stream that is already Flate-compressed and lives in a temporary file until
    the document is written.

    ReportLab keeps every finished page (``PDFPage.stream``, the uncompressed operators, ≈ 20 KB for
    a full ledger page) in memory until ``save()`` and compresses them only then: ≈ +20 MB per 1,000
    pages. :func:`_spool_last_page` compresses each page as soon as ``showPage()`` has closed it and
    moves the bytes to disk, so only the small page dictionaries stay in memory; ``format`` reads the
    bytes back while ReportLab writes the file. Output is identical to ``pageCompression=1``."""

    __Comment__ = "page stream"

    def __init__(self, spool: BinaryIO, offset: int, length: int):
        super().__init__(PDFDictionary({"Filter": PDFArray([PDFName("FlateDecode")])}), content=b"")
        self.spool, self.offset, self.length = spool, offset, length

    def format(self, document):
        self.spool.seek(self.offset)
        self.content = self.spool.read(self.length)
        try:
            return super().format(document)
        finally:
            self.content = b""


def _spool_last_page(doc, spool: BinaryIO) -> None:
    page = doc.Pages.pages[-1]
    data = zlib.compress(page.stream.encode("utf8") if isinstance(page.stream, str) else page.stream)
    spool.seek(0, os.SEEK_END)
    offset = spool.tell()
    spool.write(data)
    page.Contents = _SpooledStream(spool, offset, len(data))
    page.stream = None


# ----------------------------------------------------------------------------- ledger layout

# Row styles in the spool.
_NORMAL, _BOLD, _GROUP, _EMPTY, _TOTAL = 0, 1, 2, 3, 4  # _TOTAL: a bold row spanning the table


class _Geometry:
    def __init__(self, spec: LedgerSpec, font: FontInfo, sample: list | None = None):
        self.page_w, self.page_h = landscape(A4) if spec.orientation == "landscape" else A4
        self.ml = self.mr = 12 * mm
        self.mt = 11 * mm
        self.mb = 13 * mm
        self.table_w = self.page_w - self.ml - self.mr
        self.fs = fs = float(spec.font_size)
        self.leading = fs * 1.28
        self.pad_x = 2.2
        self.pad_top = 2.6
        self.pad_bottom = 1.6
        face = pdfmetrics.getFont(font.regular_name).face
        self.ascent = fs * min(max(face.ascent, 700), 1000) / 1000.0
        self.descent = fs * min(max(-face.descent, 100), 300) / 1000.0
        self.widths = measure_widths(spec, sample or [], font, self.table_w, fs, self.pad_x)
        xs = [self.ml]
        for w in self.widths:
            xs.append(xs[-1] + w)
        xs[-1] = self.ml + self.table_w
        self.xs = xs
        self.title_fs = 16.0
        self.sub_fs = 10.0
        self.foot_fs = 9.0

    def row_height(self, nlines: int) -> float:
        return self.pad_top + self.ascent + (nlines - 1) * self.leading + self.descent + self.pad_bottom


class _LedgerLayout:
    """Layout pass: rows → pages of positioned lines, spooled to a temporary file."""

    def __init__(self, spec: LedgerSpec, font: FontInfo, g: _Geometry):
        self.spec = spec
        self.g = g
        self.m = _Measure(font.regular_name, g.fs)
        self.mb = _Measure(font.bold_name, g.fs)
        self.mt = _Measure(font.bold_name, g.title_fs)
        self.ms = _Measure(font.regular_name, g.sub_fs)
        cols = spec.columns
        self.avail = [max(w - 2 * g.pad_x, g.fs) for w in g.widths]
        self.aligns = [c.align for c in cols]
        self.wraps = [c.wrap for c in cols]
        self._short: dict = {}
        self.left = [c.align == "left" for c in cols]
        face = self.m.font.face
        # an upper bound of any glyph's advance: a text shorter than avail/bound surely fits
        self.bound = max(face.charWidths.values(), default=1000) * g.fs / 1000.0
        self.heights = [g.row_height(k) for k in range(40)]
        # Page header: title, then unit (left) and period (right) — one line or two.
        self.title_lines = wrap_text(spec.title, g.table_w, self.mt)
        self.scope_lines = wrap_text(f"范围：{spec.scope}", g.table_w, self.ms) if spec.scope else []
        unit = f"填报单位：{spec.unit_name}" if spec.unit_name else ""
        period = period_label(spec.period)
        self.unit_text, self.period_text = unit, period
        uw, pw = self.ms.width(unit), self.ms.width(period)
        self.sub_two_lines = uw + pw + 10 * mm > g.table_w
        self.unit_lines = wrap_text(unit, g.table_w, self.ms) if unit else []
        self.period_w = pw
        y = g.page_h - g.mt
        y -= len(self.title_lines) * g.title_fs * 1.3
        y -= len(self.scope_lines) * g.sub_fs * 1.35
        y -= 2 * mm
        nsub = (len(self.unit_lines) + (1 if period else 0)) if self.sub_two_lines else (1 if (unit or period) else 0)
        self.sub_top = y
        y -= nsub * g.sub_fs * 1.35
        y -= 1.5 * mm
        self.table_top = y
        # Column header (bold, centred, wrapped).
        self.header_cells = []
        hl = 1
        for i, c in enumerate(cols):
            lines = wrap_text(c.title, self.avail[i], self.mb)
            hl = max(hl, len(lines))
            self.header_cells.append(lines)
        self.header_h = g.row_height(hl)
        self.body_top = self.table_top - self.header_h
        self.body_bottom = g.mb + 6 * mm  # footer line lives below
        self.body_h = self.body_top - self.body_bottom

    # -- cells
    def cell_lines(self, i: int, text: str, m: _Measure) -> list[tuple[float, str]]:
        if text == "":
            return []
        if len(text) <= 12:  # short values repeat a lot (性别, 民族, 网格 …): cache their layout
            key = (i, text, m is self.m)
            r = self._short.get(key)
            if r is None:
                r = self._short[key] = self._cell_lines(i, text, m)
                if len(self._short) > 50000:
                    self._short.clear()
            return r
        return self._cell_lines(i, text, m)

    def _cell_lines(self, i: int, text: str, m: _Measure) -> list[tuple[float, str]]:
        avail = self.avail[i]
        if "\n" not in text:
            w = m._sw(text)
            if w <= avail:
                return [(self._dx(i, w), text)]
            if not self.wraps[i]:
                return [(0.0, self._truncate(text, avail, m))]
        elif not self.wraps[i]:
            return [(0.0, self._truncate(text.replace("\n", " "), avail, m))]
        return [(self._dx(i, w), t) for t, w in wrap_text(text, avail, m)]

    def _dx(self, i: int, w: float) -> float:
        a = self.aligns[i]
        if a == "left":
            return 0.0
        free = self.avail[i] - w
        return free if a == "right" else free / 2.0

    def _truncate(self, text: str, avail: float, m: _Measure) -> str:
        ell = "…"
        limit = avail - m.char(ell)
        out, w = "", 0.0
        for ch in text:
            cw = m.char(ch)
            if w + cw > limit:
                return out + ell
            out += ch
            w += cw
        return out

    def layout_normal(self, cells: list[str]) -> tuple:
        """Hot path of :meth:`layout_row` for ordinary rows."""
        short = self._short
        get = short.get
        avail = self.avail
        left = self.left
        bound = self.bound
        m = self.m
        lines = []
        n = 1
        i = 0
        for t in cells:
            if not t:
                r = ()
            elif len(t) <= 12:
                r = get((i, t, True))
                if r is None:
                    r = short[(i, t, True)] = self._cell_lines(i, t, m)
                    if len(short) > 50000:
                        short.clear()
            elif left[i] and len(t) * bound <= avail[i] and "\n" not in t:
                r = ((0.0, t),)
            else:
                r = self._cell_lines(i, t, m)
            if len(r) > n:
                n = len(r)
            lines.append(r)
            i += 1
        heights = self.heights
        h = heights[n] if n < len(heights) else self.g.row_height(n)
        return (_NORMAL, h, lines)

    def layout_row(self, cells: list[str], style: int) -> tuple:
        m = self.mb if style == _BOLD else self.m
        lines = [self.cell_lines(i, t, m) for i, t in enumerate(cells)]
        n = max(1, max(len(x) for x in lines))
        return (style, self.g.row_height(n), lines)

    def layout_span(self, text: str, style: int) -> tuple:
        """A row spanning the whole table width (group header, "无数据")."""
        m = self.mb if style in (_GROUP, _TOTAL) else self.m
        avail = self.g.table_w - 2 * self.g.pad_x
        lines = wrap_text(text, avail, m)
        if style == _EMPTY:
            placed = [((avail - w) / 2.0, t) for t, w in lines]
            n = len(lines) + 2
        else:
            placed = [(0.0, t) for t, w in lines]
            n = len(lines)
        return (style, self.g.row_height(n), [placed])

    # -- tail (notes + signature + seal)
    def tail(self) -> tuple[float, list[tuple[float, str]], list[tuple[str, float]]]:
        g = self.g
        notes: list[tuple[float, str]] = []
        for k, note in enumerate(self.spec.notes):
            prefix = "注：" if k == 0 else "　　"
            if len(self.spec.notes) > 1:
                prefix = ("注：" if k == 0 else "　　") + f"{k + 1}. "
            for t, _w in wrap_text(prefix + note, g.table_w, self.m):
                notes.append((0.0, t))
        h = 3 * mm + len(notes) * g.leading
        sig = []
        if self.spec.signature:
            per = g.table_w / len(self.spec.signature)
            for label in self.spec.signature:
                text = f"{label}：" if "日期" not in label else f"{label}：　　　年　　月　　日"
                sig.append((text, per))
            h += 8 * mm + g.sub_fs
        if self.spec.seal_space:
            h += 26 * mm
        return h, notes, sig


def _split_row(row: tuple, fit_lines: int, g: _Geometry) -> tuple[tuple, tuple]:
    style, _h, cells = row
    first = [c[:fit_lines] for c in cells]
    rest = [c[fit_lines:] for c in cells]
    n2 = max(1, max((len(c) for c in rest), default=1))
    return (style, g.row_height(fit_lines), first), (style, g.row_height(n2), rest)


def _layout_pages(spec: LedgerSpec, L: _LedgerLayout, spool: BinaryIO, progress, cancel, seen: set,
                  rows=None):
    """Consume the rows; write each page's rows to ``spool``; return (pages, rows, page_row_counts)."""
    g = L.g
    extract = make_extractor(spec.columns, spec.mask_ids)
    gkey = group_key_fn(spec.group_by)
    sub_cols = subtotal_columns(spec)
    want_sub = bool(spec.subtotals)
    tally = Tally(spec)
    body_h = L.body_h
    page: list[tuple] = []
    used = 0.0
    pages = 0
    nrows = 0
    page_rows: list[int] = []
    rows_on_page = 0
    dumps = marshal.dumps
    write = spool.write

    def dump(obj, _f=None):
        b = dumps(obj)
        write(len(b).to_bytes(4, "little"))
        write(b)

    seen_update = seen.update

    def flush():
        nonlocal page, used, pages, rows_on_page
        if cancel is not None and cancel():
            raise Cancelled()
        dump(page, spool)
        pages += 1
        page_rows.append(rows_on_page)
        page, used, rows_on_page = [], 0.0, 0
        if progress is not None:
            progress(nrows, None, f"正在排版：已处理 {nrows} 行，{pages} 页")

    def place(row: tuple):
        nonlocal used
        while True:
            h = row[1]
            if used + h <= body_h + 0.01:
                page.append(row)
                used += h
                return
            if page:
                flush()
                continue
            # Taller than a whole page: split its lines across pages.
            fit = int((body_h - g.pad_top - g.ascent - g.descent - g.pad_bottom) // g.leading) + 1
            first, row = _split_row(row, max(1, fit), g)
            page.append(first)
            used += first[1]
            flush()

    cur_group = _missing = object()
    sub_count = 0
    sub_sums = [0] * len(spec.columns)

    def subtotal_row():
        label = count_label("小计", sub_count, spec.count_unit)
        if not sub_cols:  # a count only: one line across the table, not squeezed into the first column
            return L.layout_span(label, _TOTAL)
        cells = [""] * len(spec.columns)
        cells[0] = label
        split_label(cells, set(sub_cols), spec.columns)
        for ci in sub_cols:
            cells[ci] = sum_text(spec.columns[ci], sub_sums[ci])
        return L.layout_row(cells, _BOLD)

    layout_row = L.layout_normal
    for row in (spec.rows if rows is None else rows):
        if gkey is not None:
            k = gkey(row)
            if k != cur_group:
                if cur_group is not _missing and want_sub:
                    place(subtotal_row())
                cur_group = k
                tally.groups += 1
                sub_count = 0
                sub_sums = [0] * len(spec.columns)
                place(L.layout_span("" if k is None else str(k), _GROUP))
            sub_count += 1
            for ci in sub_cols:
                v = row[ci] if not hasattr(row, "get") else row.get(spec.columns[ci].key or spec.columns[ci].title)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    sub_sums[ci] += v
        if tally.keys:
            tally.add(row)
        cells = extract(row)
        for t in cells:
            seen_update(t)
        r = layout_row(cells)
        nrows += 1
        if used + r[1] <= body_h + 0.01:  # fast path of place()
            page.append(r)
            used += r[1]
            rows_on_page += 1
            continue
        place(r)
        rows_on_page += 1
    if gkey is not None and cur_group is not _missing and want_sub:
        place(subtotal_row())
    if nrows == 0:
        place(L.layout_span(spec.empty_text or "无数据", _EMPTY))
    # The tail — totals row, notes, signature and seal room — is kept together and drawn once, on
    # the last page. When it does not fit under the last rows, the last rows move with it to a new
    # page (never a page holding only the tail, unless it cannot share a page with any row).
    tail_rows = []
    tally.count = nrows
    cells, spanned = tally.totals()
    if cells is not None:
        seen_update("".join(cells))
        tail_rows.append(L.layout_span(cells[0], _TOTAL) if spanned else L.layout_row(cells, _BOLD))
    tail_h = L.tail()[0] + sum(r[1] for r in tail_rows)
    if used + tail_h > body_h + 0.01:
        carry: list[tuple] = []
        carry_h = 0.0
        if pages or len(page) > 1:
            while page:
                r = page[-1]
                if carry and r[0] != _GROUP and sum(c[0] in (_NORMAL, _EMPTY) for c in carry) >= _TAIL_ROWS:
                    break  # a few data rows moved (and their group header, if it ends the page)
                if carry_h + r[1] + tail_h > body_h + 0.01 or len(page) == 1 and not pages:
                    break
                carry.insert(0, page.pop())
                carry_h += r[1]
        moved = sum(1 for r in carry if r[0] == _NORMAL)
        rows_on_page -= moved
        if page:
            flush()
        page, used, rows_on_page = carry, carry_h, moved
    for r in tail_rows:
        place(r)
    page.append(("tail", 0 if page else 2))  # 2: a page holding only the tail (no table)
    flush()
    return pages, nrows, page_rows


# ----------------------------------------------------------------------------- ledger drawing

def _draw_ledger_page(c, L: _LedgerLayout, tw: _TextWriter, rows: list, pno: int, npages: int):
    g = L.g
    fs = g.fs
    code: list[str] = ["q"]
    tail = None
    if rows and rows[-1][0] == "tail":
        tail = rows[-1][1]
        rows = rows[:-1]
    only_tail = tail == 2  # the one marker a page gets: draw the tail there, exactly once

    # --- backgrounds and rules
    x0, x1 = g.ml, g.ml + g.table_w
    top = L.table_top
    fills = []
    hlines = []
    vsegs = []  # (y_top, y_bottom) ranges where column rules are drawn
    y = top
    if not only_tail:
        fills.append(f"{x0:.2f} {top - L.header_h:.2f} {g.table_w:.2f} {L.header_h:.2f} re")
        y = top - L.header_h
        hlines.append(y)
        seg_top = top
        for r in rows:
            h = r[1]
            if r[0] in (_GROUP, _EMPTY, _TOTAL):
                if seg_top is not None and seg_top > y:
                    vsegs.append((seg_top, y))
                seg_top = None
                if r[0] == _GROUP:
                    fills.append(f"{x0:.2f} {y - h:.2f} {g.table_w:.2f} {h:.2f} re")
            elif seg_top is None:
                seg_top = y
            y -= h
            hlines.append(y)
        if seg_top is not None and seg_top > y:
            vsegs.append((seg_top, y))
        code.append("0.90 g")
        code.extend(fills)
        code.append("f 0 g")
        path = [f"{x0:.2f} {yy:.2f} m {x1:.2f} {yy:.2f} l" for yy in hlines[:-1]]
        inner = g.xs[1:-1]
        for a, b in vsegs:
            for x in inner:
                path.append(f"{x:.2f} {a:.2f} m {x:.2f} {b:.2f} l")
        code.append("0.4 w")
        code.extend(path)
        code.append("S")
        # outer frame, slightly heavier
        code.append(f"0.9 w {x0:.2f} {y:.2f} {g.table_w:.2f} {top - y:.2f} re S")
    code.append("0.25 w")  # stroke width for simulated bold text

    # --- text
    tw.begin()
    # page header
    ty = g.page_h - g.mt - g.title_fs
    for t, w in L.title_lines:
        tw.line(g.ml + (g.table_w - w) / 2.0, ty, t, g.title_fs, bold=True)
        ty -= g.title_fs * 1.3
    sy = ty + g.title_fs - g.sub_fs * 1.1
    for t, w in L.scope_lines:  # the printed scope, centred under the title
        tw.line(g.ml + (g.table_w - w) / 2.0, sy, t, g.sub_fs)
        sy -= g.sub_fs * 1.35
    sy = L.sub_top - g.sub_fs
    if L.sub_two_lines:
        for _dx, t in [(0, t) for t, _w in L.unit_lines]:
            tw.line(g.ml, sy, t, g.sub_fs)
            sy -= g.sub_fs * 1.35
        if L.period_text:
            tw.line(g.ml, sy, L.period_text, g.sub_fs)
    else:
        if L.unit_text:
            tw.line(g.ml, sy, L.unit_text, g.sub_fs)
        if L.period_text:
            tw.line(x1 - L.period_w, sy, L.period_text, g.sub_fs)
    # column header
    pad_x, asc, lead = g.pad_x, g.ascent, g.leading
    if not only_tail:
        for i, lines in enumerate(L.header_cells):
            n = len(lines)
            block = asc + (n - 1) * lead + g.descent
            by = top - (L.header_h - block) / 2.0 - asc
            cx = g.xs[i] + pad_x
            av = L.avail[i]
            for t, w in lines:
                tw.line(cx + (av - w) / 2.0, by, t, fs, bold=True)
                by -= lead
        # body
        y = top - L.header_h
        xs = [x + pad_x for x in g.xs[:-1]]
        show_n = tw.shower(fs, False)
        show_b = tw.shower(fs, True)
        ap = tw.ops.append
        fmt = "1 0 0 1 %.2f %.2f Tm %s"
        for style, h, cells in rows:
            by0 = y - g.pad_top - asc
            bold = style == _BOLD or style == _GROUP or style == _TOTAL
            tw.set_bold(bold)
            show = show_b if bold else show_n
            if style == _EMPTY:
                by0 -= lead
            if style >= _GROUP:
                by = by0
                for dx, t in cells[0]:
                    if t:
                        ap(fmt % (x0 + pad_x + dx, by, show(t)))
                    by -= lead
            else:
                for cx, lines in zip(xs, cells, strict=True):
                    by = by0
                    for dx, t in lines:
                        ap(fmt % (cx + dx, by, show(t)))
                        by -= lead
            y -= h
    # tail: notes, signature, seal room
    if tail is not None:
        ty = (y if not only_tail else L.table_top) - 3 * mm - asc
        _h, notes, sig = L.tail()
        for dx, t in notes:
            tw.line(x0 + dx, ty, t, fs)
            ty -= lead
        if sig:
            ty -= 7 * mm
            sx = x0
            for text, per in sig:
                tw.line(sx, ty, text, g.sub_fs)
                sx += per
    # footer
    foot = f"第 {pno} 页 共 {npages} 页"
    fw = pdfmetrics.stringWidth(foot, L.m.font.fontName, g.foot_fs)
    tw.line((g.page_w - fw) / 2.0, g.mb - g.foot_fs * 0.2, foot, g.foot_fs)
    code.extend(tw.end())
    code.append("Q")
    c.addLiteral("\n".join(code))


def render_pdf(spec: LedgerSpec, out, progress: ProgressFn | None = None, cancel: CancelFn | None = None,
               font_path: str | os.PathLike | None = None) -> RenderResult:
    """Render a ledger to PDF at ``out`` (a path or a binary file object).

    Raises ``FontNotFound`` when no usable Chinese font exists and ``Cancelled`` when ``cancel()``
    returned True (no file is left at ``out``).
    """
    required = spec.title + spec.unit_name + spec.period + spec.scope + "".join(c.title for c in spec.columns)
    required += "".join(spec.signature) + (spec.empty_text or "")
    font = find_cjk_font(font_path, required=required)
    # The first rows are read ahead to measure the columns; the rest stream through as before.
    stream = iter(spec.rows)
    sample = list(islice(stream, _MEASURE_ROWS))
    g = _Geometry(spec, font, sample)
    L = _LedgerLayout(spec, font, g)
    seen: set = set()
    with tempfile.TemporaryFile(prefix="jiedao-ledger-") as spool, \
            tempfile.TemporaryFile(prefix="jiedao-pages-") as page_spool:
        npages, nrows, page_rows = _layout_pages(spec, L, spool, progress, cancel, seen,
                                                 chain(sample, stream))
        spool.seek(0)
        with _atomic_output(out) as tmp:
            c = _canvas.Canvas(tmp, pagesize=(g.page_w, g.page_h), pageCompression=1,
                               initialFontName=font.regular_name, initialFontSize=g.fs)
            c.setTitle(f"{spec.unit_name} {spec.title}".strip())
            c.setAuthor(spec.unit_name or "街道工作台")
            c.setCreator("街道工作台 Jiedao")
            c.setSubject(spec.period or "")
            doc = c._doc
            regular = _Encoder(font.regular_name, doc)
            bold = _Encoder(font.bold_name, doc) if not font.fake_bold else regular
            tw = _TextWriter(regular, bold, font.fake_bold)
            done = 0
            loads = marshal.loads
            read = spool.read
            for p in range(1, npages + 1):
                if cancel is not None and cancel():
                    raise Cancelled()
                rows = loads(read(int.from_bytes(read(4), "little")))
                _draw_ledger_page(c, L, tw, rows, p, npages)
                c.showPage()
                _spool_last_page(doc, page_spool)
                done += page_rows[p - 1]
                if progress is not None:
                    progress(done, nrows, f"正在生成第 {p}/{npages} 页")
            if cancel is not None and cancel():
                raise Cancelled()
            c.save()
    cmap = L.m.font.face.charToGlyph
    missing = "".join(sorted(ch for ch in seen if not ch.isspace() and ord(ch) not in cmap))
    return RenderResult(pages=npages, rows=nrows, missing_chars=missing, font=font.label)


# ----------------------------------------------------------------------------- documents

# Ways to fit a document on one sheet, tried in order: (spacing factor, font factor). Spacing shrinks
# first; the font never below 85 % (a 12.5 pt body stays above 10.5 pt, still legible on paper).
_DOC_FIT = ((1.0, 1.0), (0.75, 1.0), (0.5, 1.0), (0.35, 0.94), (0.25, 0.88), (0.2, 0.85))


def render_document(doc: DocumentSpec, out, font_path: str | os.PathLike | None = None) -> RenderResult:
    """Render a one-record document (e.g. 志愿服务证明) on A4 portrait: title, number, a fields
    grid, body paragraphs, an optional items table, the issuer with room for the seal, signature
    lines and the date.

    A document that fits one sheet is laid out on one sheet: the spacing shrinks first, then the
    font within limits (``_DOC_FIT``). Only one that truly cannot fit runs on, numbered
    "第 X 页 共 Y 页", with the issuer, seal and date kept together with the last paragraph."""
    required = doc.title + doc.number + "".join(lbl for lbl, _ in doc.fields) + "".join(doc.signature)
    font = find_cjk_font(font_path, required=required)
    if doc.parts:
        with _atomic_output(out) as tmp:
            _build_parts(doc, font, tmp)
        return RenderResult(pages=1, rows=0)
    with _atomic_output(out) as tmp:
        pages = 0
        for space, size in _DOC_FIT:
            pages = _build_document(doc, font, tmp, space, size, 0)
            if pages == 1:
                break
        else:  # it truly runs on: number its pages (the footer lives in the margin, layout unchanged)
            pages = _build_document(doc, font, tmp, space, size, pages)
    return RenderResult(pages=pages, rows=len(doc.items.rows) if doc.items else 0, font=font.label)


def _build_document(doc: DocumentSpec, font: FontInfo, path: str, space: float, size: float,
                    numbered: int) -> int:
    """Lay the document out at ``space``/``size`` factors into ``path``; return its page count.
    ``numbered``: the known page total to print in the footer (0: no footer)."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    R = font.regular_name
    B = font.bold_name if not font.fake_bold else font.regular_name

    def st(name, fsize, align=TA_LEFT, font_name=R, leading=None, **kw):
        fsize *= size
        lead = (leading * size) if leading else fsize * 1.5
        return ParagraphStyle(name, fontName=font_name, fontSize=fsize, leading=lead,
                              alignment=align, wordWrap="CJK", **kw)

    def gap(h):
        return Spacer(1, h * space)

    s_unit = st("unit", 11, TA_CENTER)
    s_num = st("num", 10.5, TA_RIGHT)
    s_label = st("label", 11, TA_CENTER, B)
    s_value = st("value", 11)
    s_body = st("body", 12.5, TA_JUSTIFY, leading=18.75 + 5.25 * space, firstLineIndent=25 * size)
    s_small = st("small", 10)
    s_right = st("right", 12, TA_RIGHT, leading=20)

    def P(text, style):
        return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), style)

    width, height = A4
    lm = rm = 25 * mm
    frame_w = width - lm - rm - 12  # the frame's own padding (6 pt a side): wider content never fits
    story: list = []
    if doc.unit_name:
        story.append(P(doc.unit_name, s_unit))
        story.append(gap(2 * mm))
    title_fs = 22 * size

    class _Title(Flowable):
        """Title drawn with fake bold when no bold face exists."""

        def wrap(self, aw, ah):
            self.aw = aw
            return aw, title_fs + 6 + 6 * space

        def draw(self):
            cv = self.canv
            cv.saveState()
            t = cv.beginText()
            t.setFont(B, title_fs)
            if font.fake_bold:
                cv.setLineWidth(0.6)
                t.setTextRenderMode(2)
            # letter-spaced title, as official certificates print it
            spaced = doc.title if len(doc.title) > 8 else "  ".join(doc.title)
            w = pdfmetrics.stringWidth(spaced, B, title_fs)
            t.setTextOrigin((self.aw - w) / 2.0, 4 + 4 * space)
            t.textOut(spaced)
            cv.drawText(t)
            cv.restoreState()

    story.append(_Title())
    story.append(gap(3 * mm))
    if doc.number:
        story.append(P(f"编号：{doc.number}", s_num))
    story.append(gap(4 * mm))
    pad = 3 + 3 * space

    if doc.fields:
        data = []
        pairs = list(doc.fields)
        two_per_row = len(pairs) > 3 and all(len(str(v or "")) <= 18 for _, v in pairs)
        lw = 26 * mm
        if two_per_row:
            vw = (frame_w - 2 * lw) / 2
            for i in range(0, len(pairs), 2):
                a = pairs[i]
                b = pairs[i + 1] if i + 1 < len(pairs) else ("", "")
                data.append([P(a[0], s_label), P(a[1], s_value), P(b[0], s_label), P(b[1], s_value)])
            colw = [lw, vw, lw, vw]
        else:
            data = [[P(k, s_label), P(v, s_value)] for k, v in pairs]
            colw = [lw, frame_w - lw]
        t = Table(data, colWidths=colw)
        style = [("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                 ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                 ("TOPPADDING", (0, 0), (-1, -1), pad - 1), ("BOTTOMPADDING", (0, 0), (-1, -1), pad)]
        for ci in range(0, len(colw), 2):
            style.append(("BACKGROUND", (ci, 0), (ci, -1), colors.Color(0.93, 0.93, 0.93)))
        t.setStyle(TableStyle(style))
        story.append(t)
        story.append(gap(6 * mm))

    for para in doc.body:
        story.append(P(para, s_body))
    if doc.body:
        story.append(gap(4 * mm))

    if doc.items is not None:
        it = doc.items
        if it.title:
            story.append(P(it.title, st("ititle", 11, TA_LEFT, B)))
            story.append(gap(2 * mm))
        extract = make_extractor(it.columns, True)
        widths = resolve_widths(it.columns, frame_w, mm)
        head = [P(c.title, st("ih", 9.5, TA_CENTER, B, leading=13)) for c in it.columns]
        aligns = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT}
        cstyles = [st(f"ic{i}", 9.5, aligns[c.align], leading=13) for i, c in enumerate(it.columns)]
        rows = [head] + [[P(t, cstyles[i]) for i, t in enumerate(extract(r))] for r in it.rows]
        if not it.rows:
            rows.append([P("无数据", st("ie", 9.5, TA_CENTER))] + [""] * (len(it.columns) - 1))
        if it.totals is not None:
            rows.append([P(t, cstyles[i]) for i, t in enumerate(make_extractor(it.columns, False)(it.totals))])
        t = Table(rows, colWidths=widths, repeatRows=1)
        ts = [("GRID", (0, 0), (-1, -1), 0.5, colors.black),
              ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
              ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
              ("TOPPADDING", (0, 0), (-1, -1), 1 + 2 * space), ("BOTTOMPADDING", (0, 0), (-1, -1), 1 + 2 * space)]
        if not it.rows:
            ts.append(("SPAN", (0, 1), (-1, 1)))
        t.setStyle(TableStyle(ts))
        story.append(t)
        story.append(gap(5 * mm))

    for k, note in enumerate(doc.notes):
        story.append(P(("注：" if k == 0 else "　　") + note, s_small))

    # issuer block: signature lines on the left, issuer + seal room + date on the right
    closing: list = [gap(8 * mm)]
    if doc.signature:
        sig = [[P(f"{lbl}：", s_value), ""] for lbl in doc.signature]
        # the label column as wide as the longest label (“党支部书记：” does not wrap before its colon)
        lab_w = max([22 * mm] + [pdfmetrics.stringWidth(f"{lbl}：", R, s_value.fontSize) + 13 for lbl in doc.signature])
        st_sig = Table(sig, colWidths=[lab_w, 45 * mm], rowHeights=[(7 + 3 * space) * mm * size] * len(sig))
        st_sig.setStyle(TableStyle([("LINEBELOW", (1, 0), (1, -1), 0.6, colors.black),
                                    ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
        sig_cell: Any = st_sig
    else:
        sig_cell = ""
    right = []
    for line_ in doc.issuer:
        right.append(P(line_, s_right))
    if doc.seal:
        right.append(P("（盖章）", st("seal", 10, TA_RIGHT, textColor=colors.Color(0.35, 0.35, 0.35))))
    right.append(gap(4 * mm))
    right.append(P(date_text(doc.date) if doc.date else "　　　　年　　月　　日", s_right))
    block = Table([[sig_cell, right]], colWidths=[frame_w * 0.45, frame_w * 0.55])
    block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                               ("TOPPADDING", (0, 0), (-1, -1), 0),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    closing.append(block)
    if doc.seal:
        # room for the round seal over the issuer and date (a 4 cm seal overlaps the text above)
        closing.append(Spacer(1, 12 * mm))
    # The seal block never stands alone: it keeps the last paragraph (or table, or note) with it.
    while story and isinstance(story[-1], Spacer):
        closing.insert(0, story.pop())
    if story and len(story) > 1:
        closing.insert(0, story.pop())
    story.append(KeepTogether(closing))

    count = [0]

    def on_page(cv, _d):
        count[0] += 1
        if numbered:
            cv.saveState()
            cv.setFont(R, 9)
            cv.drawCentredString(width / 2.0, 12 * mm, f"第 {count[0]} 页 共 {numbered} 页")
            cv.restoreState()

    d = SimpleDocTemplate(path, pagesize=A4, leftMargin=lm, rightMargin=rm, topMargin=(14 + 14 * space) * mm,
                          bottomMargin=(16 + 6 * space) * mm, title=f"{doc.title} {doc.number}".strip(),
                          author=(doc.issuer[0] if doc.issuer else doc.unit_name) or "街道工作台",
                          creator="街道工作台 Jiedao")
    d.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return count[0]


# Font scales tried for a multi-part form until its parts fit one sheet.
_PARTS_FIT = (1.0, 0.94, 0.88, 0.82, 0.76, 0.7)


def _build_parts(doc: DocumentSpec, font: FontInfo, path: str) -> None:
    """A multi-part form (存根 / 介绍信 / 回执) on one A4 portrait sheet: the parts one under the
    other, each with its title and ``doc.number``, separated by dashed 骑缝 lines with the number
    printed on each line (the cut goes through it, so each part keeps half of it and the halves can
    be matched). Text is wrapped by :func:`wrap_text` (numbers and dates kept whole, no line starting
    with "，"). Spare height is shared among the parts by ``weight``. The font shrinks
    (``_PARTS_FIT``) until every part fits; a form that does not fit even then is refused."""
    R = font.regular_name
    B = font.bold_name if not font.fake_bold else font.regular_name
    width, height = A4
    lm = rm = 20 * mm
    top, bottom = 12 * mm, 12 * mm
    cut = 9 * mm            # height reserved for each 骑缝 line
    aw = width - lm - rm
    parts = list(doc.parts)
    avail = height - top - bottom - cut * (len(parts) - 1)

    def block(text: str, fn: str, size: float, align: str, indent: bool = False, after: float = 0.0,
              grey: bool = False):
        m = _Measure(fn, size)
        lines = wrap_text(("　　" if indent else "") + text, aw, m)
        return (fn, size, align, lines, size * 1.6, after, grey)

    def height_of(b) -> float:
        return len(b[3]) * b[4] + b[5]

    def layout(k: float):
        laid = []
        for part in parts:
            head = [block(part.title, B, 15 * k, "center", after=1 * mm)]
            if doc.number:
                head.append(block(doc.number, R, 10 * k, "right", after=1 * mm))
            if part.salutation:
                head.append(block(part.salutation, R, 11.5 * k, "left"))
            head += [block(p, R, 11.5 * k, "left", indent=True, after=0.5 * mm) for p in part.body]
            closing = ([block("（盖章）", R, 9.5 * k, "right", grey=True)] if part.seal else [])
            closing += [block(line, R, 11.5 * k, "right") for line in part.closing]
            footer = [block(line, R, 9.5 * k, "left") for line in part.footer]
            need = sum(map(height_of, head + closing + footer)) + (3 * mm if closing else 0) + (1 * mm if footer else 0)
            laid.append((head, closing, footer, need))
        return laid

    for k in _PARTS_FIT:
        laid = layout(k)
        if sum(n for *_x, n in laid) <= avail:
            break
    else:
        raise JiedaoError(f"“{doc.title}”的各联在一张 A4 纸上放不下，请精简内容。")
    spare = avail - sum(n for *_x, n in laid)
    weights = sum(p.weight for p in parts) or 1.0
    c = _canvas.Canvas(path, pagesize=A4, pageCompression=1)
    c.setTitle(f"{doc.title} {doc.number}".strip())
    c.setAuthor(doc.unit_name or "街道工作台")
    c.setCreator("街道工作台 Jiedao")

    def draw(b, y_top: float) -> float:
        fn, size, align, lines, lead, after, grey = b
        c.setFont(fn, size)
        c.setFillGray(0.35 if grey else 0)
        y = y_top
        for text, w in lines:
            y -= lead
            base = y + (lead - size) / 2 + size * 0.15
            x = lm if align == "left" else (lm + aw - w if align == "right" else lm + (aw - w) / 2)
            c.drawString(x, base, text)
        c.setFillGray(0)
        return y - after

    y = height - top
    for idx, (part, (head, closing, footer, need)) in enumerate(zip(parts, laid, strict=True)):
        bottom_y = y - need - spare * part.weight / weights
        cur = y
        for b in head:
            cur = draw(b, cur)
        # the footer at the bottom of the part, the closing block above it (room for the seal above that)
        fy = bottom_y + sum(map(height_of, footer))
        cur = fy
        for b in footer:
            cur = draw(b, cur)
        cur = fy + (1 * mm if footer else 0) + sum(map(height_of, closing))
        for b in closing:
            cur = draw(b, cur)
        y = bottom_y
        if idx < len(parts) - 1:
            line_y = y - cut / 2
            label = f"（骑缝）{doc.number}" if doc.number else "（骑缝）"
            fs = 10.5
            tw = pdfmetrics.stringWidth(label, B, fs)
            x0 = (width - tw) / 2
            c.saveState()
            c.setDash(4, 3)
            c.setLineWidth(0.6)
            c.line(8 * mm, line_y, x0 - 2 * mm, line_y)
            c.line(x0 + tw + 2 * mm, line_y, width - 8 * mm, line_y)
            c.setFont(B, fs)
            # the number sits on the cut: each part keeps half of it
            c.drawString(x0, line_y - fs * 0.35, label)
            c.restoreState()
            y -= cut
    c.showPage()
    c.save()
