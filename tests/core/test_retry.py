"""shell.db.retry: what counts as busy, the service guard, and the retry loop (commit once, roll back
every failed attempt, the Chinese BusyError after the last)."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from shell.core.context import Actor
from shell.db import retry
from shell.errors import BusyError, DatabaseError


class _Orig(Exception):
    def __init__(self, text: str, sqlstate: str | None = None):
        super().__init__(text)
        self.sqlstate = sqlstate


def _op(text: str, sqlstate: str | None = None) -> OperationalError:
    return OperationalError("UPDATE x", {}, _Orig(text, sqlstate))


@pytest.mark.parametrize("exc, busy", [
    (_op("database is locked"), True), (_op("database is busy"), True), (_op("database table is locked"), True),
    (_op("could not serialize access", "40001"), True), (_op("deadlock detected", "40P01"), True),
    (_op("could not obtain lock", "55P03"), True), (_op("no such table: x"), False),
    (_op("unique violation", "23505"), False), (ValueError("database is locked"), True), (ValueError("x"), False),
])
def test_is_busy(exc, busy):
    assert retry.is_busy(exc) is busy


def test_volunteer_keeps_the_names():
    from plugins.volunteer import services as sv

    assert sv.BusyError is BusyError and issubclass(BusyError, DatabaseError)
    assert sv.run_with_retry is retry.run_with_retry
    assert sv._is_busy is retry.is_busy and sv._guard_busy is retry.guard_busy


def test_guard_busy_translates_only_busy_errors():
    @retry.guard_busy
    def write(ctx, exc):
        """doc kept"""
        raise exc

    assert write.__doc__ == "doc kept"
    with pytest.raises(BusyError) as err:
        write(None, _op("database is locked"))
    assert err.value.message == retry.BUSY_MESSAGE and "数据库正忙" in str(err.value)
    with pytest.raises(OperationalError):
        write(None, _op("no such table: x"))


class _Session:
    def __init__(self, log: list[str]):
        self.log = log
        self.info: dict = {}

    def commit(self):
        self.log.append("commit")

    def rollback(self):
        self.log.append("rollback")

    def close(self):
        self.log.append("close")


@pytest.fixture
def no_sleep(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(retry.time, "sleep", waits.append)
    return waits


def test_run_with_retry_retries_then_commits(no_sleep):
    log: list[str] = []
    calls = []

    def fn(ctx, n, *, extra):
        calls.append((ctx.actor.username, n, extra))
        if len(calls) < 3:
            raise _op("database is locked")
        return "done"

    got = retry.run_with_retry(lambda: _Session(log), Actor.system(), fn, 7, extra="x")
    assert got == "done" and calls == [("system", 7, "x")] * 3
    assert log == ["rollback", "close", "rollback", "close", "commit", "close"]
    assert no_sleep == [0.05, 0.1]


def test_run_with_retry_gives_up_in_chinese(no_sleep):
    log: list[str] = []

    def fn(ctx):
        raise _op("deadlock detected", "40P01")

    with pytest.raises(BusyError, match="数据库正忙"):
        retry.run_with_retry(lambda: _Session(log), Actor.system(), fn, attempts=3)
    assert log.count("rollback") == 3 and "commit" not in log and len(no_sleep) == 2


def test_run_with_retry_passes_other_errors_at_once(no_sleep):
    log: list[str] = []

    def fn(ctx):
        raise ValueError("bad")

    with pytest.raises(ValueError):
        retry.run_with_retry(lambda: _Session(log), Actor.system(), fn)
    assert log == ["rollback", "close"] and no_sleep == []


def test_run_with_retry_retries_a_guarded_busy_error(no_sleep):
    log: list[str] = []
    tries = []

    def fn(ctx):
        tries.append(1)
        raise BusyError("积分账户正被同时修改，请稍后重试。")

    with pytest.raises(BusyError, match="积分账户"):   # the service's own message reaches the caller
        retry.run_with_retry(lambda: _Session(log), Actor.system(), fn, attempts=2)
    assert len(tries) == 2
