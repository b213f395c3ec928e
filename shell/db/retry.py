"""Busy-retry for contended writes (moved from the volunteer plugin, where the points counter first
needed it): a write that meets another desktop's lock becomes a Chinese ``BusyError`` and, run
through ``run_with_retry``, is retried in a fresh transaction with a short back-off. Nothing
half-done is ever committed."""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from shell.clock import utcnow
from shell.core.context import Actor, ServiceContext
from shell.errors import BusyError

__all__ = ["BUSY_MESSAGE", "BusyError", "guard_busy", "is_busy", "run_with_retry"]

BUSY_MESSAGE = "数据库正忙（其他电脑正在办理同类业务），本次操作没有生效，请稍后重试。"

F = TypeVar("F", bound=Callable[..., Any])


def is_busy(exc: BaseException) -> bool:
    """A lock timeout (SQLite) or a serialization failure / deadlock / lock-not-available (PostgreSQL)."""
    orig = getattr(exc, "orig", exc)
    text = str(orig).lower()
    code = getattr(orig, "sqlstate", None)
    return ("database is locked" in text or "database is busy" in text or "database table is locked" in text
            or code in ("40001", "40P01", "55P03"))


def guard_busy(fn: F) -> F:
    """Turn a lock timeout / serialization failure inside a service into a BusyError (Chinese, retryable)."""

    @functools.wraps(fn)
    def wrapper(ctx, *args, **kwargs):
        try:
            return fn(ctx, *args, **kwargs)
        except (OperationalError, DBAPIError) as exc:
            if is_busy(exc):
                raise BusyError(BUSY_MESSAGE) from exc
            raise
    return wrapper  # type: ignore[return-value]


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
            if not (isinstance(exc, BusyError) or is_busy(exc)):
                raise
            if attempt == attempts - 1:
                if isinstance(exc, BusyError):
                    raise
                raise BusyError(BUSY_MESSAGE) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    raise ValueError("run_with_retry needs attempts ≥ 1")
