"""Faults on a township server: the network drops (or the server restarts) while a desktop works.

A small TCP proxy stands between the desktop and PostgreSQL; ``drop()`` cuts every connection and
refuses new ones, like a pulled cable or a restarting server, ``restore()`` lets them through again.
"""
from __future__ import annotations

import socket
import threading

import pytest
from PySide6.QtCore import QThreadPool
from sqlalchemy import func, select, text

from shell.config import LocalConfig
from shell.core import areas, auth
from shell.core.context import Actor, AppContext, ServiceContext
from shell.core.database import open_database
from shell.core.models import Area
from shell.errors import DatabaseError
from shell.ui.main_window import MainWindow
from tests.ui import plugins_with_testplugin

pytestmark = pytest.mark.pg
PASSWORD = "Jiedao2026"


class Proxy:
    def __init__(self, port: int):
        self.target = ("127.0.0.1", port)
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(50)
        self.port = self.server.getsockname()[1]
        self.down = False
        self.socks: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drop(self):
        self.down = True
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def restore(self):
        self.down = False

    def close(self):
        self.drop()
        self.server.close()


@pytest.fixture
def proxied(pg_empty_url):
    """(database opened through the proxy, proxy, direct URL) with a street and a user."""
    pm = plugins_with_testplugin()
    direct = open_database(pg_empty_url, pm=pm, backup=False)
    with direct.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = areas.create_area(ctx, "青石街道", "street")
        auth.create_user(ctx, "staff", "钱街道", PASSWORD, street.id, ["street_staff"])
        s.commit()
    proxy = Proxy(pg_empty_url.port or 5432)
    db = open_database(pg_empty_url.set(port=proxy.port), pm=pm, backup=False)
    yield db, proxy, direct
    proxy.close()
    db.dispose()
    direct.dispose()


def _areas(db) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count()).select_from(Area))


def test_a_change_cut_off_mid_transaction_leaves_nothing_and_the_next_one_works(proxied):
    db, proxy, direct = proxied
    before = _areas(direct)
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = areas.list_areas(s, level="street")[0]
        for n in range(3):
            areas.create_area(ctx, f"社区{n}", "community", street.id)
        s.flush()  # the rows are on the server, inside the open transaction
        proxy.drop()
        with pytest.raises(Exception) as cut:
            s.commit()
    assert _areas(direct) == before  # the server rolled the half-done transaction back
    # Should such a driver error reach a page, it is shown in Chinese, not as psycopg's English.
    from shell.ui.errors import error_text

    title, message = error_text(cut.value)
    assert title == "数据库错误" and message.startswith("与数据库服务器的连接中断了") and "数据未被修改" in message

    with pytest.raises(DatabaseError, match="无法连接数据库服务器"):
        from shell.ui.connection import ping

        ping(db.engine)
    proxy.restore()
    # Nothing restarted: the pool's pre-ping replaces the dead connections by itself.
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = areas.list_areas(s, level="street")[0]
        areas.create_area(ctx, "恢复后新建的社区", "community", street.id)
        s.commit()
    assert _areas(direct) == before + 1
    with direct.session_factory() as s:
        assert s.execute(text("SELECT COUNT(*) FROM core_areas WHERE name LIKE '社区%'")).scalar() == 0


def test_the_status_bar_shows_the_drop_and_the_reconnect(qtbot, proxied):
    db, proxy, _direct = proxied
    pm = plugins_with_testplugin()
    actor = auth.login(db.session_factory, "staff", PASSWORD, labels=auth.collect_permissions(pm))
    ctx = AppContext(db.session_factory, actor, plugin_manager=pm, database_label=db.label)
    window = MainWindow(ctx, LocalConfig(), db)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    monitor, light = window.connection_monitor, window.connection_light
    monitor.ok_interval_ms = monitor.down_interval_ms = 100
    assert light.text() == "● 已连接"

    proxy.drop()
    monitor.check_now()
    qtbot.waitUntil(lambda: "中断" in light.text(), timeout=20000)
    assert "无法连接数据库服务器" in light.toolTip()
    window.grab().save("/tmp/jiedao-connection-down.png")

    proxy.restore()
    qtbot.waitUntil(lambda: light.text() == "● 已连接", timeout=20000)
    assert "已重新连接数据库" in window.statusBar().currentMessage()
    assert monitor.failures == 0
    window.close()
    QThreadPool.globalInstance().waitForDone(5000)
