"""SQL pieces the plugins share."""
from __future__ import annotations

from sqlalchemy import Boolean, String, and_, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement


class StartsWith(ColumnElement):
    """``column`` starts with ``prefix``, written so the column's index serves it. SQLite's LIKE is
    case-insensitive and cannot use a plain index; its GLOB (case-sensitive) can. PostgreSQL's
    LIKE 'x%' uses an index only in a C-collated database or through a ``varchar_pattern_ops`` index,
    which the plugins' migrations add for the columns they search this way (g0003, v0004, p0003)."""

    type = Boolean()
    # Not cached: the pattern is written into the statement when it is compiled (a cached statement
    # would keep the first prefix it was compiled with).
    inherit_cache = False
    _is_implicitly_boolean = True   # a condition in itself: no "= 1" appended on SQLite (it hid the index)

    def __init__(self, column, prefix: str):
        self.column, self.prefix = column, prefix


@compiles(StartsWith)
def _starts_with_default(element, compiler, **kw):
    return compiler.process(element.column.startswith(element.prefix, autoescape=True), **kw)


@compiles(StartsWith, "postgresql")
def _starts_with_postgresql(element, compiler, **kw):
    # LIKE's function is not leakproof, so under row-level security (a secured server, issue 15.3)
    # PostgreSQL may not use it as an index condition before the policy: the search would scan.
    # The range in the pattern operators (leakproof, served by the varchar_pattern_ops index) can;
    # LIKE stays as the exact test. U+10FFFF sorts after every character of a real prefix's tail.
    column, prefix = element.column, element.prefix
    cond = and_(column.op("~>=~", is_comparison=True)(literal(prefix, String())),
                column.op("~<~", is_comparison=True)(literal(prefix + "\U0010ffff", String())),
                column.startswith(prefix, autoescape=True))
    return compiler.process(cond, **kw)


@compiles(StartsWith, "sqlite")
def _starts_with_sqlite(element, compiler, **kw):
    pattern = "".join(f"[{c}]" if c in "*?[" else c for c in element.prefix) + "*"   # GLOB's wildcards, literally
    return compiler.process(element.column.op("GLOB", is_comparison=True)(literal(pattern)), **kw)


def spelled(initials, pinyin, text: str) -> ColumnElement:
    """A name typed in Latin letters: the start of its pinyin initials ("zs") or of its full pinyin
    ("zhang", "zhangsan"), each served by its column's index (two prefix scans, OR-ed). Letters
    mixed with digits ("li2") can only be initials. ``text`` is what the user typed, spaces and all."""
    from sqlalchemy import or_

    from shell.text import pinyin_query

    t = "".join(text.split()).lower()
    full = pinyin_query(t)
    if not full:
        return StartsWith(initials, t)
    return or_(StartsWith(initials, t), StartsWith(pinyin, full))
