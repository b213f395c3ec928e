"""Shared by the volunteer services: ledger tables, area checks, text rules, local dates, star
levels, the busy-retry, audit entries, counters and the ID-number/phone checks."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from shell.clock import LOCAL_TZ, utcnow
from shell.core import personal as _personal
from shell.core.context import Actor, ServiceContext
from shell.core.models import Area
from shell.errors import ConflictError, DatabaseError, ValidationError
from shell.idnumber import IdInfo, parse_id_number

from ..models import (
    STAR_LABELS,
    STAR_THRESHOLDS_HOURS,
    Counter,
    RedemptionOrder,
    RewardItem,
    VolunteerAccount,
)

ACCOUNTS = cast(Table, VolunteerAccount.__table__)
ITEMS = cast(Table, RewardItem.__table__)
ORDERS = cast(Table, RedemptionOrder.__table__)
COUNTERS = cast(Table, Counter.__table__)

_ONE_DAY = timedelta(days=1)
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8})$")


class BusyError(DatabaseError):
    """The database stayed locked by another desktop; nothing was written. Safe to retry."""

    title = "数据库正忙"


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
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationError(f"请填写{title}。", field_, value)
    if len(text) > max_len:
        raise ValidationError(f"{title}太长（{len(text)} 字，最多 {max_len} 字）。", field_, value)
    return text


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


def _is_busy(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    text = str(orig).lower()
    code = getattr(orig, "sqlstate", None)
    return ("database is locked" in text or "database is busy" in text or "database table is locked" in text
            or code in ("40001", "40P01", "55P03"))


def _guard_busy(fn):
    """Turn a lock timeout / serialization failure into a BusyError (Chinese, retryable)."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args, **kwargs):
        try:
            return fn(ctx, *args, **kwargs)
        except (OperationalError, DBAPIError) as exc:
            if _is_busy(exc):
                raise BusyError("数据库正忙（其他电脑正在办理同类业务），本次操作没有生效，请稍后重试。") from exc
            raise
    return wrapper


def run_with_retry(session_factory, actor: Actor, fn: Callable[..., Any], *args: Any, attempts: int = 6,
                   clock: Callable[[], datetime] = utcnow, **kwargs: Any) -> Any:
    """Run ``fn(ctx, *args, **kwargs)`` in its own transaction and commit; when the database is busy
    (SQLite lock timeout, PostgreSQL serialization failure or deadlock) roll back and try again with
    a short back-off. After the last attempt the BusyError reaches the caller; nothing half-done is
    ever committed."""
    delay = 0.05
    for attempt in range(attempts):
        session = session_factory()
        try:
            result = fn(ServiceContext(session, actor, clock), *args, **kwargs)
            session.commit()
            return result
        except (OperationalError, DBAPIError, BusyError) as exc:
            session.rollback()
            if not (isinstance(exc, BusyError) or _is_busy(exc)):
                raise
            if attempt == attempts - 1:
                if isinstance(exc, BusyError):
                    raise
                raise BusyError("数据库正忙（其他电脑正在办理同类业务），本次操作没有生效，请稍后重试。") from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


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


# ============================================================================ ID numbers

def check_id_number(raw: Any) -> IdInfo:
    """The shared validator (shell.idnumber): 15-digit numbers converted, Chinese errors."""
    return parse_id_number(raw)


def check_phone(raw: Any, required: bool = False) -> str:
    text = "" if raw is None else str(raw).strip().replace(" ", "")
    if not text:
        if required:
            raise ValidationError("请填写联系电话。", "phone", raw)
        return ""
    if not PHONE_RE.match(text):
        raise ValidationError(f"联系电话“{raw}”格式不正确（手机 11 位，座机如 0571-87654321）。", "phone", raw)
    return text


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
