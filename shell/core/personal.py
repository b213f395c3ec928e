"""Personal data leaving the service layer (DOMAIN.md §7, ARCHITECTURE "Personal data").

Columns that hold ID numbers say so in the model: ``mapped_column(..., info={"personal": "id"})``
(``"phone"`` is understood too). Then:

- every public service function (module level, first parameter ``ctx``) of a plugin's ``services``
  is a boundary (``guard_services(globals())`` at the end of the module): what it returns leaves
  masked for everyone — ORM rows that hold or lead to personal numbers as read-only
  ``MaskedRecord`` views (the live row is never touched, so nothing masked can be flushed back;
  writing to a view raises), dataclass rows as masked copies. A service called by another service
  gets the live rows; only the outermost call masks. Searching by a full number still works: the
  query compares in SQL, only the result is masked.
- ``full_value(ctx, …)`` is the one way to hand out a full number on screen (查看完整号码): needs
  ``core.personal.full_view`` and writes one ``view_full_id`` audit row; such a service is marked
  ``@raw``.
- ``reveal(ctx, value)`` is one value for a printed document or an export: full for a holder of the
  right (the session is marked and ``took_full(session)`` makes the report engine / export runner
  audit the print or export as one with full numbers — one row per file), masked otherwise.
- ``resubmitted(stored, submitted)`` lets an edit service recognise a masked number a form sent
  back (unchanged) and refuse any other text with ``*`` in it.
"""
from __future__ import annotations

import contextvars
import dataclasses
import functools
from collections.abc import Callable
from typing import Any

from shell.errors import ValidationError

FULL_VIEW = "core.personal.full_view"
INFO_KEY = "personal"
KINDS = ("id", "phone")
# Field names of plain result rows (dataclasses) that hold personal numbers, by kind.
_ROW_FIELDS = {"id_number": "id", "owner_id_number": "id", "member_id_number": "id",
               "volunteer_id_number": "id"}
_FULL_MARK = "jiedao.personal_full"
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("jiedao_personal_depth", default=0)


def mask(value: Any, kind: str) -> Any:
    from reports.masking import mask_id, mask_phone

    if value is None or value == "":
        return value
    return mask_id(value) if kind == "id" else mask_phone(value)


def can_see_full(actor) -> bool:
    return bool(actor is not None and actor.can(FULL_VIEW))


def personal_columns(cls) -> dict[str, str]:
    """{attribute: kind} of a mapped class's columns marked ``info={"personal": kind}``."""
    cached = cls.__dict__.get("_jiedao_personal")
    if cached is not None:
        return cached
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy.exc import NoInspectionAvailable

    try:
        mapper = sa_inspect(cls)
    except NoInspectionAvailable:
        found: dict[str, str] = {}
    else:
        found = {a.key: a.columns[0].info[INFO_KEY] for a in mapper.column_attrs
                 if a.columns[0].info.get(INFO_KEY) in KINDS}
    try:
        cls._jiedao_personal = found
    except (AttributeError, TypeError):
        pass
    return found


def table_columns(table: str) -> dict[str, str]:
    """{column: kind} of the personal columns of the mapped table named ``table`` (audit entries
    name their table, not their class)."""
    from shell.db.base import Base

    for mapper in Base.registry.mappers:
        if getattr(mapper.local_table, "name", None) == table:
            return personal_columns(mapper.class_)
    return {}


def _is_mapped(obj: Any) -> bool:
    return hasattr(type(obj), "__mapper__")


_REACH: dict[type, bool] = {}


def reaches_personal(cls) -> bool:
    """Whether rows of ``cls`` hold personal numbers or lead to rows that do (relationships)."""
    found = _REACH.get(cls)
    if found is None:
        from sqlalchemy import inspect as sa_inspect

        seen, todo = {cls}, [cls]
        found = False
        while todo and not found:
            c = todo.pop()
            found = bool(personal_columns(c))
            for rel in sa_inspect(c).relationships:
                if rel.mapper.class_ not in seen:
                    seen.add(rel.mapper.class_)
                    todo.append(rel.mapper.class_)
        _REACH[cls] = found
    return found


class MaskedRecord:
    """A read-only view of an ORM row with its personal columns masked. Related rows reached through
    it are masked views too. Writing to it raises: a masked value can never reach the database."""

    __slots__ = ("_jd_obj", "_jd_fields")

    def __init__(self, obj: Any):
        object.__setattr__(self, "_jd_obj", obj)
        object.__setattr__(self, "_jd_fields", personal_columns(type(obj)))

    @property  # type: ignore[misc]  # read-only on purpose: the view never changes class
    def __class__(self):  # isinstance(view, Person) stays true for the views' type checks
        return type(object.__getattribute__(self, "_jd_obj"))

    def __getattr__(self, name: str) -> Any:
        obj = object.__getattribute__(self, "_jd_obj")
        value = getattr(obj, name)
        kind = object.__getattribute__(self, "_jd_fields").get(name)
        if kind:
            return mask(value, kind)
        return _mask_deep(value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError("脱敏后的记录只能查看，不能修改：请通过相应的保存功能修改。")

    def __delattr__(self, name: str) -> None:
        raise TypeError("脱敏后的记录只能查看，不能修改。")

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, MaskedRecord) or type(other) is MaskedRecord:
            other = object.__getattribute__(other, "_jd_obj")
        return object.__getattribute__(self, "_jd_obj") == other

    def __hash__(self) -> int:
        return hash(object.__getattribute__(self, "_jd_obj"))

    def __repr__(self) -> str:
        obj = object.__getattribute__(self, "_jd_obj")
        return f"<脱敏 {type(obj).__name__} id={getattr(obj, 'id', None)}>"


_ROW_CACHE: dict[type, tuple[tuple[str, str | None], ...]] = {}


def _mask_row(row: Any) -> Any:
    """A dataclass row: its ID-number fields masked, records and lists inside it masked views."""
    fields = _ROW_CACHE.get(type(row))
    if fields is None:
        fields = _ROW_CACHE[type(row)] = tuple((f.name, _ROW_FIELDS.get(f.name)) for f in dataclasses.fields(row))
    changes = {}
    for name, kind in fields:
        value = getattr(row, name)
        if kind:
            if value:
                changes[name] = mask(value, kind)
        elif not (value is None or isinstance(value, (str, int, float, bool))):
            new = _mask_deep(value)
            if new is not value:
                changes[name] = new
    return dataclasses.replace(row, **changes) if changes else row


def _mask_deep(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, bytes)):
        return value
    if type(value) is MaskedRecord:
        return value
    if _is_mapped(value):
        return MaskedRecord(value) if reaches_personal(type(value)) else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _mask_row(value)
    if isinstance(value, (list, tuple)):
        items = [_mask_deep(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value  # nothing personal inside: the same list / named tuple / Row
        if isinstance(value, list):
            return items
        make = getattr(type(value), "_make", None)
        if hasattr(value, "_fields") and make is not None:
            return make(items)  # a named tuple keeps its names
        return tuple(items)
    if isinstance(value, dict):
        out = {k: _mask_deep(v) for k, v in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    return value


def masked(result: Any) -> Any:
    """``result`` as it may leave the service layer: ORM rows holding (or leading to) personal
    numbers as read-only ``MaskedRecord`` views, dataclass rows as masked copies; whoever looks
    (lists and records mask for everyone; the full number is a separate, audited request)."""
    return _mask_deep(result)


def protect(ctx, result: Any) -> Any:
    """The boundary of a service: its result masked (``masked``), unless it is called by another
    service (which works on the live rows; its own caller's boundary masks them)."""
    if _depth.get() > 0:
        return result
    return _mask_deep(result)


def _service_boundary(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def inner(ctx, *args, **kwargs):
        token = _depth.set(_depth.get() + 1)
        try:
            result = fn(ctx, *args, **kwargs)
        finally:
            _depth.reset(token)
        return protect(ctx, result)

    inner.__personal_boundary__ = True  # type: ignore[attr-defined]  # a marker read by tests and protect()
    return inner


def guard_services(namespace: dict) -> None:
    """Make every public service function of a module (module-level, first parameter ``ctx``) a
    masking boundary. Called at the end of each plugin's ``services.py``, so a service written
    tomorrow is covered the day it is written."""
    import inspect

    module = namespace.get("__name__")
    for name, fn in list(namespace.items()):
        if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module:
            continue
        if getattr(fn, "__personal_boundary__", False) or getattr(fn, "__personal_raw__", False):
            continue
        params = list(inspect.signature(fn).parameters)
        if params and params[0] == "ctx":
            namespace[name] = _service_boundary(fn)


def raw(fn: Callable) -> Callable:
    """Mark a service whose result must not be masked (it returns the full number on purpose, after
    checking the right and auditing: the 查看完整号码 action)."""
    fn.__personal_raw__ = True  # type: ignore[attr-defined]  # a marker read by the boundary
    return fn


def full_value(ctx, value: Any, entity: str, entity_id: Any, summary: str) -> Any:
    """The one way to show a full number on screen: needs the right, written to the audit log."""
    from shell.core import audit

    ctx.actor.require(FULL_VIEW)
    audit.record(ctx.session, "view_full_id", entity, entity_id, summary)
    ctx.session.flush()
    return value


def unmasked(obj: Any) -> Any:
    """The live row behind a ``MaskedRecord`` (for report builders and exporters, which decide per
    value with ``reveal``); anything else as it is."""
    return object.__getattribute__(obj, "_jd_obj") if type(obj) is MaskedRecord else obj


def reveal(ctx, value: Any, kind: str = "id") -> Any:
    """One personal value for a printed document or an export: full for a holder of the right (the
    session remembers it, so the print or export is audited as one with full numbers), masked
    otherwise. ``value`` may be a record and ``kind`` its attribute: ``reveal(ctx, volunteer,
    "id_number")``."""
    if not isinstance(value, (str, type(None))):
        obj = unmasked(value)
        attr = kind
        kind = personal_columns(type(obj)).get(attr, "id")
        value = getattr(obj, attr)
    if not can_see_full(ctx.actor):
        return mask(value, kind)
    if value:
        ctx.session.info[_FULL_MARK] = True
    return value


def took_full(session) -> bool:
    """Whether something on this session revealed a full number (and clears the mark)."""
    return bool(session.info.pop(_FULL_MARK, False))


def resubmitted(stored: Any, submitted: Any, kind: str = "id", field: str = "id_number") -> bool:
    """True when ``submitted`` is the masked form of ``stored`` (a form sent back what it was shown:
    unchanged). Any other text with ``*`` in it is refused, so a star never reaches the database."""
    text = "" if submitted is None else str(submitted).strip()
    if "*" not in text:
        return False
    if stored and text == mask(stored, kind):
        return True
    label = "身份证号码" if kind == "id" else "电话号码"
    raise ValidationError(f"{label}“{text}”是脱敏显示的号码：请输入完整号码，或保持原样不修改。", field, text)
