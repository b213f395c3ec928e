"""Database-wide settings: norms and rules declared by ``register_settings`` (and the core's own),
stored JSON-encoded in ``core_settings``; a missing row means the declared default."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shell.contracts import SettingDefinition
from shell.core.context import ServiceContext
from shell.core.models import Setting
from shell.core.rules import CORE_SETTINGS as CORE_SETTINGS  # declared as data, registered by the core plugin
from shell.errors import ValidationError

# Flags that are not user-editable norms.
DEMO_FLAG = "core.demo"


def definitions(pm=None) -> dict[str, SettingDefinition]:
    """key → definition from every plugin's ``register_settings``, the core's first; without a
    manager, the core's own declarations."""
    if pm is None:
        return {d.key: d for d in CORE_SETTINGS}
    from shell.hooks import call_each

    return {d.key: d for _name, d in call_each(pm, "register_settings")}


def get_value(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Setting, key)
    return default if row is None else row.value


def get(session: Session, definition: SettingDefinition) -> Any:
    return get_value(session, definition.key, definition.default)


def core(session: Session, key: str) -> Any:
    d = next(d for d in CORE_SETTINGS if d.key == key)
    return get(session, d)


def coerce(definition: SettingDefinition, value: Any) -> Any:
    """Check and convert a value typed by a user; raise ValidationError in Chinese."""
    kind = definition.kind
    try:
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            value = int(str(value).strip()) if not isinstance(value, int) else value
        elif kind == "float":
            value = float(value)
        elif kind == "bool":
            if isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "是", "on")
            value = bool(value)
        elif kind == "choice":
            if value not in {c for c, _ in definition.choices}:
                raise ValueError
        else:
            value = "" if value is None else str(value).strip()
    except (TypeError, ValueError):
        raise ValidationError(f"“{definition.title}”的值“{value}”格式不正确。", definition.key, value) from None
    if kind in ("int", "float"):
        if definition.minimum is not None and value < definition.minimum:
            raise ValidationError(f"“{definition.title}”不能小于 {definition.minimum:g}（填写的是 {value}）。", definition.key,
                                  value)
        if definition.maximum is not None and value > definition.maximum:
            raise ValidationError(f"“{definition.title}”不能大于 {definition.maximum:g}（填写的是 {value}）。", definition.key,
                                  value)
    return value


def set_value(ctx: ServiceContext, definition: SettingDefinition, value: Any) -> Any:
    ctx.actor.require("core.settings.manage")
    value = coerce(definition, value)
    row = ctx.session.get(Setting, definition.key)
    if row is None:
        ctx.session.add(Setting(key=definition.key, value=value, updated_by=ctx.actor.user_id))
    else:
        row.value, row.updated_by = value, ctx.actor.user_id
    ctx.session.flush()
    return value


def set_flag(session: Session, key: str, value: Any) -> None:
    """Internal flags (demo marker …): no permission check, callers are the CLI and bootstrap."""
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def all_values(session: Session, defs: Iterable[SettingDefinition]) -> dict[str, Any]:
    stored = {r.key: r.value for r in session.scalars(select(Setting))}
    return {d.key: stored.get(d.key, d.default) for d in defs}
