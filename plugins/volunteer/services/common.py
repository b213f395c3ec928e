"""Shared by the volunteer services: ledger tables, area checks, text rules, local dates, star
levels, audit entries, counters and the ID-number/phone checks (the busy-retry is shell.db.retry)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from shell.clock import LOCAL_TZ
from shell.core import fields
from shell.core import personal as _personal
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.core.scope import get_in_scope
from shell.errors import ConflictError, ValidationError
from shell.idnumber import IdInfo, parse_id_number

from ..models import (
    STAR_LABELS,
    STAR_THRESHOLDS_HOURS,
    Counter,
    RedemptionOrder,
    RewardItem,
    VolunteerAccount,
)
from ..rules import P_VIEW, Rules, load_rules

ACCOUNTS = cast(Table, VolunteerAccount.__table__)
ITEMS = cast(Table, RewardItem.__table__)
ORDERS = cast(Table, RedemptionOrder.__table__)
COUNTERS = cast(Table, Counter.__table__)

_ONE_DAY = timedelta(days=1)


# ============================================================================ helpers

def _area(ctx: ServiceContext, area_id: int | None, what: str = "所属社区") -> Area:
    if area_id is None:
        raise ValidationError(f"请选择{what}。", "area_id")
    area = ctx.session.get(Area, area_id)
    if area is None:
        raise ValidationError(f"{what}（编号 {area_id}）不存在。", "area_id", area_id)
    ctx.actor.require_scope(area)
    return area


def _area_of(ctx: ServiceContext, obj: Any) -> Area:
    area = ctx.session.get_one(Area, obj.area_id)
    ctx.actor.require_scope(area)
    return area


def _text(value: Any, title: str, field_: str, required: bool = True, max_len: int = 100) -> str:
    """shell.core.fields.text in this plugin's argument order; an empty optional field is ""."""
    return fields.text(value, title, field_, required=required, max_len=max_len) or ""


def local_date(dt: datetime) -> date:
    return dt.astimezone(LOCAL_TZ).date()


def local_midnight(d: date) -> datetime:
    """The UTC instant of 00:00 Shanghai time on ``d``."""
    return datetime(d.year, d.month, d.day, tzinfo=LOCAL_TZ).astimezone(UTC)


def hours_text(minutes: int) -> str:
    h, m = divmod(int(minutes or 0), 60)
    if not m:
        return f"{h}"
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def star_level(minutes: int) -> int:
    """0–5 from cumulative approved minutes: 一星 100 h, 二星 300 h, 三星 600 h, 四星 1000 h, 五星 1500 h."""
    hours = (minutes or 0) / 60
    return sum(1 for t in STAR_THRESHOLDS_HOURS if hours >= t)


def star_label(minutes: int) -> str:
    return STAR_LABELS[star_level(minutes)] or "未评星"


def _audit(ctx: ServiceContext, action: str, entity: str, entity_id: Any, summary: str, **after: Any) -> None:
    """An audit entry for a value change written with guarded statements (ledger entries, balances and
    stock are not ORM-audited rows), in the same transaction."""
    from shell.core import audit

    audit.record(ctx.session, action, entity, entity_id, summary, after=after or None)


def _next_counter(ctx: ServiceContext, name: str) -> int:
    """Increment a named counter with a guarded UPDATE (``WHERE value = :seen``); numbers are never reused."""
    s = ctx.session
    for _ in range(100):
        seen = s.execute(select(COUNTERS.c.value).where(COUNTERS.c.name == name)).scalar()
        if seen is None:
            try:
                with s.begin_nested():
                    s.execute(insert(COUNTERS).values(name=name, value=0))
            except IntegrityError:
                pass
            continue
        res = s.execute(update(COUNTERS).where(COUNTERS.c.name == name, COUNTERS.c.value == seen)
                        .values(value=seen + 1))
        if cast(CursorResult, res).rowcount == 1:
            return seen + 1
    raise ConflictError("编号发放冲突次数过多，请稍后重试。")


def current_rules(ctx: ServiceContext) -> Rules:
    """The street's points and redemption rules (settings) for a form or the counter."""
    ctx.actor.require(P_VIEW)
    return load_rules(ctx.session)


def area_name(ctx: ServiceContext, area_id: int) -> str:
    """The name of an area in the actor's scope (the counter's 爱心超市 heading)."""
    ctx.actor.require(P_VIEW)
    area = get_in_scope(ctx, Area, area_id, "辖区")
    ctx.actor.require_scope(area)
    return area.name


# ============================================================================ ID numbers

def check_id_number(raw: Any) -> IdInfo:
    """The shared validator (shell.idnumber): 15-digit numbers converted, Chinese errors."""
    return parse_id_number(raw)


def check_phone(raw: Any, required: bool = False) -> str:
    """The shared phone rule (shell.core.fields.phone); "" when empty and not required."""
    return fields.phone(raw, "phone", "联系电话", required=required) or ""


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
