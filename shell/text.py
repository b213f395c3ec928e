"""Text helpers for searching Chinese names (no Qt: services and views both use them)."""
from __future__ import annotations

import re
from functools import lru_cache

_ID_LIKE = re.compile(r"^\d{6,17}[\dXx]?$")


@lru_cache(maxsize=4096)
def pinyin_initials(text: str) -> str:
    """"张三" → "zs"; other characters are kept, lower-cased ("李A" → "la").

    pypinyin loads its dictionaries on first import (a few hundred ms), so it is imported here,
    not at start-up."""
    if not text:
        return ""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")).replace(" ", "").lower()


def looks_like_id_number(text: str) -> bool:
    """Digits (with a trailing X) long enough to be part of a 身份证号 rather than a name."""
    return bool(_ID_LIKE.match(text.strip()))


def matches_name(name: str, query: str) -> bool:
    """True when ``query`` is part of ``name`` or of its pinyin initials (case-insensitive)."""
    query = query.strip().lower()
    if not query:
        return True
    if query in (name or "").lower():
        return True
    return query.isascii() and query in pinyin_initials(name or "")
