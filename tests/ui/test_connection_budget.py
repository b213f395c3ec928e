"""Connection budget (issue 15.8): an engine built as the desktop builds it never holds more than two
server connections, however many task-runner threads want one, and keeps one once idle. What the
server sees is counted in pg_stat_activity (application_name 'jiedao', this database)."""
from __future__ import annotations

import os
import threading
import time

import pytest
from PySide6.QtCore import QThreadPool
from sqlalchemy import text

from shell.core import settings
from shell.core.context import Actor, AppContext
from shell.core.database import open_database
from shell.db import engine as engine_mod
from shell.db.engine import check_connection
from shell.errors import ConnectionsBusy, DatabaseError
from shell.ui.connection import ConnectionMonitor
from shell.ui.tasks import run_in_pool, run_task
from tests import tls_cluster

pytestmark = pytest.mark.pg


def server_count(admin, database: str) -> int:
    with admin.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'jiedao' "
                                 "AND datname = :d"), {"d": database}).scalar()


@pytest.fixture
def desktop(pg_empty_url, monkeypatch):
    monkeypatch.setattr(engine_mod, "POOL_IDLE_S", 0.5)  # a short idle setting; the desktop's is 30 s
    db = open_database(pg_empty_url, backup=False, connection_budget=True)  # exactly as shell/ui/app.py opens it
    yield db
    db.dispose()


@pytest.fixture
def many_threads():
    pool = QThreadPool.globalInstance()
    before = pool.maxThreadCount()
    pool.setMaxThreadCount(8)  # a desktop with 8 cores: eight jobs at once
    yield
    pool.waitForDone(10_000)
    pool.setMaxThreadCount(before)


def test_a_desktop_engine_holds_two_connections_busy_and_one_idle(qtbot, desktop, pg_server, many_threads):
    name = desktop.url.database
    app_ctx = AppContext(desktop.session_factory, Actor.system())
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], server_count(pg_server, name))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    def page(*, progress=None):  # a page or a report: reads in one session, holding it a while
        with app_ctx.service(commit=False) as ctx:
            settings.get_value(ctx.session, settings.DEMO_FLAG, False)
            ctx.session.execute(text("SELECT pg_sleep(0.15)"))
        return True

    def nested(*, progress=None):  # a dialog that holds a session and opens a second on its thread
        with app_ctx.service(commit=False) as outer:
            outer.session.execute(text("SELECT 1"))
            with app_ctx.service(commit=False) as inner:
                inner.session.execute(text("SELECT pg_sleep(0.05)"))
        return True

    results = []
    handles = [run_task(None, "生成报表", page, show_after_ms=60_000) for _ in range(4)]
    handles.append(run_task(None, "打开对话框", nested, show_after_ms=60_000))
    for _ in range(4):
        run_in_pool(page, lambda ok, r: results.append((ok, r)))
    monitor = ConnectionMonitor(desktop.engine, ok_interval_ms=50)
    qtbot.waitUntil(lambda: all(h.is_finished for h in handles) and len(results) == 4, timeout=30_000)
    monitor.stop()
    stop.set()
    sampler.join()
    assert [h.error for h in handles] == [None] * 5 and all(ok for ok, _ in results), results
    assert peak[0] == 2, f"the server saw {peak[0]} connections from one desktop"
    qtbot.waitUntil(lambda: server_count(pg_server, name) <= 1, timeout=5_000)
    assert desktop.engine.pool.open_connections() == 1
    with app_ctx.service(commit=False) as ctx:  # the kept one still works
        assert ctx.session.execute(text("SELECT 1")).scalar() == 1
    assert server_count(pg_server, name) == 1


def test_a_thread_finding_both_in_use_waits_then_says_so(pg_empty_url):
    eng = engine_mod.make_engine(pg_empty_url, pool_timeout=0.3, budget=True)
    try:
        first, second = eng.connect(), eng.connect()
        threading.Timer(0.1, first.close).start()
        with eng.connect() as third:  # waits for the first to come back
            assert third.execute(text("SELECT 1")).scalar() == 1
        held = eng.connect()
        t = time.monotonic()
        with pytest.raises(ConnectionsBusy) as err:
            eng.connect()
        assert time.monotonic() - t >= 0.25
        assert "连接都在处理其他操作" in err.value.message and "请等正在进行的操作完成后再试" in err.value.message
        held.close()
        second.close()
    finally:
        eng.dispose()


@pytest.fixture
def small_server():
    """A throwaway server with room for 4 connections (tests/tls_cluster.py), so filling it disturbs no one."""
    why = tls_cluster.unavailable()
    if why is not None:
        if os.environ.get("JIEDAO_REQUIRE_PG") == "1":
            pytest.fail(f"JIEDAO_REQUIRE_PG=1 but the test cluster cannot be made: {why}")
        pytest.skip(f"test cluster cannot be made: {why} (JIEDAO_REQUIRE_PG=1 makes this fail)")
    cluster = tls_cluster.start(max_connections=4, extra_conf="superuser_reserved_connections = 0")
    yield f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/postgres"
    cluster.stop()


def test_a_full_server_leaves_a_desktop_working_on_its_one_connection(small_server):
    """When the township has filled max_connections, a desktop that has a connection waits for it
    instead of failing; one that has none is told in Chinese that the server is full."""
    eng = engine_mod.make_engine(small_server, pool_timeout=5, budget=True)
    others = engine_mod.make_engine(small_server, budget=True)
    fillers = []
    try:
        first = eng.connect()
        first.execute(text("SELECT 1"))
        fillers = [others.pool._creator() for _ in range(3)]   # the rest of the server's room
        threading.Timer(0.3, first.close).start()
        t = time.monotonic()
        with eng.connect() as second:                           # server full: waits for ours
            assert second.execute(text("SELECT 1")).scalar() == 1
        assert 0.25 <= time.monotonic() - t < 5
        assert eng.pool.open_connections() == 1
        with pytest.raises(DatabaseError) as err:
            check_connection(small_server)
        assert "连接数已满（max_connections）" in err.value.message, err.value.message
    finally:
        for f in fillers:
            f.close()
        eng.dispose()
        others.dispose()
