"""Matching what an imported cell names (an area, a party organisation, a warehouse…) against the
records it may mean, the same way for every importer.

Names repeat across a street: every community has a 第一网格 and a 第一网格党支部. A cell may therefore
give a record by
- its full path, the names from the top joined with "/" (和平里社区/第一网格, 街道党工委/和平里社区党委/
  第一网格党支部), the top levels optional: any tail of the path that only one record has will do —
  the bare name included, when it is unique;
- its code, where records have one (area codes), or its id when the caller allows it.
An ambiguous name is refused with the full paths of the candidates, a missing one with an example of
what to write. Separators ("/", "／", "\\", "-", "—", ">") and spaces are ignored, so 和平里社区第一网格 and
和平里社区 / 第一网格 mean the same. Exports write ``path_text`` so an export can be imported again."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from shell.errors import ValidationError

T = TypeVar("T")
SEP = "/"
_IGNORED = re.compile(r"[\s/／\\＼\-—–>＞→·|]+")


class MatchError(ValidationError):
    """The cell names no record, or more than one; the message says which and what to write."""


def normalize(text: Any) -> str:
    if text is None:
        return ""
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    return _IGNORED.sub("", unicodedata.normalize("NFKC", str(text)))


def path_text(names: Sequence[str]) -> str:
    """The full path as exports write it and messages show it: 和平里社区/第一网格."""
    return SEP.join(n for n in names if n)


class Resolver(Generic[T]):
    """``Resolver(what, [(record, names from the top, code or None), …])``; ``find(cell)`` returns
    the record or raises ``MatchError``. ``what`` is the Chinese noun for messages (网格, 党组织)."""

    def __init__(self, what: str, candidates: Iterable[tuple[T, Sequence[str], str | None]],
                 ids: dict[str, T] | None = None):
        self.what = what
        self._by_tail: dict[str, list[tuple[T, str]]] = {}
        self._by_code: dict[str, T] = {}
        self._ids = ids or {}
        self._paths: dict[int, str] = {}
        self._example = ""
        for record, names, code in candidates:
            names = [n for n in names if n]
            full = path_text(names)
            self._paths[id(record)] = full
            if not self._example and len(names) > 1:
                self._example = full
            for start in range(len(names)):
                key = "".join(normalize(n) for n in names[start:])
                bucket = self._by_tail.setdefault(key, [])
                if all(r is not record for r, _p in bucket):
                    bucket.append((record, full))
            if code:
                self._by_code[normalize(code)] = record
        self._cache: dict[Hashable, T | MatchError] = {}

    def path_of(self, record: T) -> str:
        return self._paths.get(id(record), "")

    def find(self, cell: Any) -> T:
        """The record the cell names; ``MatchError`` when it names none or several."""
        try:
            hit = self._cache.get(cell)
        except TypeError:          # an unhashable cell value names nothing
            raise self._missing(cell) from None
        if hit is None:
            hit = self._cache[cell] = self._lookup(cell)
        if isinstance(hit, MatchError):
            raise hit
        return hit

    def _lookup(self, cell: Any) -> T | MatchError:
        text = str(cell).strip() if cell is not None else ""
        key = normalize(cell)
        if not key:
            return MatchError(f"请填写{self.what}", "", cell)
        if key in self._by_code:
            return self._by_code[key]
        if key in self._ids:
            return self._ids[key]
        found = self._by_tail.get(key, [])
        if len(found) == 1:
            return found[0][0]
        if found:
            paths = sorted(p for _r, p in found)
            listed = "、".join(f"“{p}”" for p in paths[:6]) + (f"等 {len(paths)} 个" if len(paths) > 6 else "")
            return MatchError(f"有 {len(paths)} 个{self.what}叫“{text}”：{listed}，请写完整名称（如“{paths[0]}”）"
                              + ("或编码" if self._by_code else ""), "", cell)
        return self._missing(cell)

    def _missing(self, cell: Any) -> MatchError:
        example = f"（如“{self._example}”）" if self._example else ""
        code = "或编码" if self._by_code else ""
        return MatchError(f"找不到这个{self.what}（或不在您的管辖范围内）：请写完整名称{example}{code}", "", cell)


def area_resolver(session, areas: Iterable, what: str = "网格", ids: bool = False) -> Resolver:
    """A resolver over core areas: names from the street (or the top of the tree) down, area codes,
    and (``ids``) the numeric id."""
    from sqlalchemy import select

    from shell.core.models import Area

    areas = list(areas)
    wanted = {int(x) for a in areas for x in (a.path or "").strip("/").split("/") if x}
    names = dict(session.execute(select(Area.id, Area.name).where(Area.id.in_(list(wanted)))).all()) if wanted else {}
    names.update({a.id: a.name for a in areas})

    def chain(a) -> list[str]:
        ids_ = [int(x) for x in (a.path or "").strip("/").split("/") if x] or [a.id]
        return [names.get(i, "") for i in ids_]

    return Resolver(what, [(a, chain(a), a.code) for a in areas],
                    ids={str(a.id): a for a in areas} if ids else None)


def area_paths(session) -> dict[int, str]:
    """Every area's full path text (for exports), by id."""
    from sqlalchemy import select

    from shell.core.models import Area

    rows = list(session.execute(select(Area.id, Area.name, Area.path)))
    names = {i: n for i, n, _p in rows}
    return {i: path_text([names.get(int(x), "") for x in (p or "").strip("/").split("/") if x] or [n])
            for i, n, p in rows}
