"""Text helpers for searching Chinese names (no Qt: services and views both use them).

A name is found by a part of it, by its pinyin initials ("zs" → 张三) and by its full pinyin ("zhang",
"zhangsan", "zhangs" → 张三). The services store both spellings beside the name (``initials`` /
``name_initials`` and ``name_pinyin``) and search them by prefix through an index; ``matches_name`` is
the same rule for lists held in memory."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ID_LIKE = re.compile(r"^\d{6,17}[\dXx]?$")
PINYIN_MAX = 255                 # the stored full pinyin's column width (a 64-character name fits)

_READINGS: dict[str, tuple[str, str]] | None = None

# Surnames read otherwise than the character's first reading (曾国藩 is Zeng, not Ceng): the first
# character of a name is taken from here for the full pinyin. The initials stay per character as
# they always were (stored initials keep matching).
SURNAME_READINGS = {"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
                    "盖": "ge", "乐": "yue", "缪": "miao", "翟": "zhai", "覃": "qin", "召": "shao", "种": "chong",
                    "秘": "bi", "长": "chang", "繁": "po", "句": "gou", "薄": "bo", "卜": "bu", "藏": "zang",
                    "员": "yun", "黑": "he", "折": "she", "万俟": "moqi", "尉迟": "yuchi"}


def _readings() -> dict[str, tuple[str, str]]:
    """Character → (first letter, toneless syllable) of its first reading, from pypinyin's own
    character table (pinyin_dict.json) read directly: importing pypinyin also loads its phrase
    dictionary and trains its segmenter (≈0.5 s), which per-character spelling never uses. ü is
    written v, as every pinyin input method types it (吕 → lv)."""
    global _READINGS
    if _READINGS is None:
        import importlib.util
        import json
        import os

        spec = importlib.util.find_spec("pypinyin")
        assert spec is not None and spec.submodule_search_locations  # a dependency, installed as a package
        folder = spec.submodule_search_locations[0]
        with open(os.path.join(folder, "pinyin_dict.json"), encoding="utf8") as fp:
            raw = json.load(fp)
        table = {}
        for code, readings in raw.items():
            first = unicodedata.normalize("NFD", readings.split(",", 1)[0]).replace("u\u0308", "v")
            syllable = "".join(c for c in first if c.isascii() and c.isalpha()).lower()
            if syllable:
                table[chr(int(code))] = (syllable[0], syllable)
        _READINGS = table
    return _READINGS


@lru_cache(maxsize=4096)
def pinyin_initials(text: str) -> str:
    """"张三" → "zs"; other characters are kept, lower-cased ("李A" → "la").

    pypinyin loads its dictionaries on first import (a few hundred ms), so it is imported here,
    not at start-up."""
    if not text:
        return ""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")).replace(" ", "").lower()


@lru_cache(maxsize=65536)
def name_initials(name: str) -> str:
    """Pinyin initials of a name ("张三" → "zs"), character by character; bulk imports meet the same
    names and characters over and over, hence the caches. A character outside pypinyin's table
    (e.g. the "·" in 阿依古丽·买买提) goes to ``pinyin_initials``, which keeps it as typed."""
    table = _READINGS or _readings()
    out = []
    for ch in name or "":
        if ch.isascii():
            if ch.isalnum():
                out.append(ch.lower())
        else:
            reading = table.get(ch)
            out.append(reading[0] if reading is not None else pinyin_initials(ch))
    return "".join(out)


@lru_cache(maxsize=65536)
def name_syllables(name: str) -> tuple[str, ...]:
    """The name's pinyin a character at a time ("张小明" → ("zhang", "xiao", "ming")); Latin letters
    and digits are kept lower-cased as one piece each, anything else (·, spaces) is left out."""
    table = _READINGS or _readings()
    out: list[str] = []
    name = name or ""
    start = 0
    if len(name) >= 2:
        if name[:2] in SURNAME_READINGS:
            out.append(SURNAME_READINGS[name[:2]])
            start = 2
        elif name[0] in SURNAME_READINGS:
            out.append(SURNAME_READINGS[name[0]])
            start = 1
    for ch in name[start:]:
        if ch.isascii():
            if ch.isalnum():
                out.append(ch.lower())
        else:
            reading = table.get(ch)
            if reading is not None:
                out.append(reading[1])
    return tuple(out)


def name_pinyin(name: str) -> str:
    """The full pinyin stored for search ("张三" → "zhangsan"), cut to the column's width."""
    return "".join(name_syllables(name))[:PINYIN_MAX]


def pinyin_query(text: str) -> str:
    """What a typed query is compared with: lower case, no spaces or apostrophes ("Zhang San",
    "xi'an" → "zhangsan", "xian"), ü typed as v or u: → v. Empty when it is not Latin letters."""
    t = re.sub(r"[\s'’]", "", text or "").lower().replace("ü", "v").replace("u:", "v")
    return t if t.isascii() and t.isalpha() else ""


def looks_like_id_number(text: str) -> bool:
    """Digits (with a trailing X) long enough to be part of a 身份证号 rather than a name."""
    return bool(_ID_LIKE.match(text.strip()))


def matches_name(name: str, query: str) -> bool:
    """True when ``query`` is part of ``name``, part of its pinyin initials, or the start of its full
    pinyin from any character on ("zhang", "xiaoming" and "ming" find 张小明; case-insensitive)."""
    query = query.strip().lower()
    if not query:
        return True
    if query in (name or "").lower():
        return True
    q = pinyin_query(query)
    if not query.isascii() and not q:
        return False
    if query in pinyin_initials(name or ""):
        return True
    if not q:
        return False
    syllables = name_syllables(name or "")
    return any("".join(syllables[i:]).startswith(q) for i in range(len(syllables)))
