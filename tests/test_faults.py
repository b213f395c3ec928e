"""Faults in the middle of work, made for real: the network drops or the server ends the session,
a page of the SQLite file is damaged, the disk fills up. Each is explained in Chinese (what happened,
what to do), the CLI exits 2, the desktop titles it, and nothing half-done is left behind.

A small TCP proxy stands between the desktop and PostgreSQL; ``drop()`` cuts every connection and
refuses new ones, like a pulled cable or a restarting server, ``restore()`` lets them through again.
``pg_terminate_backend`` from an admin connection ends a session as a server restart or an
administrator does; a real stop and start runs on a throwaway cluster (initdb in a temporary folder,
its own port, about 2 s) — the machine's server itself is never stopped: other tests use it.
"""
from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from sqlalchemy import func, select, text

from shell import cli
from shell.config import LocalConfig
from shell.core import areas, auth, maintenance
from shell.core.context import Actor, AppContext, ServiceContext
from shell.core.database import open_database
from shell.core.models import Area
from shell.errors import ConnectionLost, DatabaseCorrupt, DatabaseError, DiskFull
from shell.plugins import make_plugin_manager
from shell.testing import ALL_BUILTINS
from shell.ui.main_window import MainWindow
from tests.ui import plugins_with_testplugin

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


@pytest.mark.pg
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
        with pytest.raises(ConnectionLost) as cut:  # explained by the engine, not psycopg's English
            s.commit()
    assert _areas(direct) == before  # the server rolled the half-done transaction back
    from shell.ui.errors import error_text

    title, message = error_text(cut.value)
    assert title == "数据库连接中断" and message.startswith("与数据库服务器的连接中断了") and "数据未被修改" in message

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


@pytest.mark.pg
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


# --- PostgreSQL: the server ends the session (restart, administrator) --------------------------
def _terminate_sessions(pg_server, database: str) -> int:
    """End every session on ``database`` as a restarting server would; returns how many."""
    with pg_server.connect() as conn:
        return len(conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
            {"d": database}).all())


def _street(s):
    return areas.list_areas(s, level="street")[0]


@pytest.fixture
def pg_street(pg_db):
    with pg_db.session_factory() as s:
        areas.create_area(ServiceContext(s, Actor.system()), "青石街道", "street")
        s.commit()
    return pg_db


@pytest.mark.pg
@pytest.mark.parametrize("when", ["after a write", "after a read"])
def test_a_session_ended_by_the_server_is_explained_and_the_next_call_reconnects(pg_server, pg_street, when):
    db = pg_street
    before = _areas(db)
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = _street(s)
        if when == "after a write":
            areas.create_area(ctx, "社区甲", "community", street.id)
            s.flush()
        assert _terminate_sessions(pg_server, db.url.database) >= 1
        with pytest.raises(ConnectionLost) as cut:
            areas.create_area(ctx, "社区乙", "community", street.id)
            s.commit()
        s.rollback()
    message = cut.value.message
    assert "连接中断" in message and "没有完成" in message and "数据未被修改" in message and "自动重新连接" in message
    assert "terminating" not in message and "OperationalError" not in message
    from shell.ui.errors import error_text

    assert error_text(cut.value) == ("数据库连接中断", message)
    # The dead connection was thrown away: the next write reconnects by itself and goes through.
    with db.session_factory() as s:
        areas.create_area(ServiceContext(s, Actor.system()), "恢复后新建的社区", "community", _street(s).id)
        s.commit()
    assert _areas(db) == before + 1


@pytest.mark.pg
def test_idle_connections_ended_by_the_server_are_replaced_without_an_error(pg_server, pg_street):
    """Between two calls the pool's pre-ping finds the dead connection and opens a new one: the
    explanation of lost connections must not get in its way."""
    db = pg_street
    before = _areas(db)
    assert _terminate_sessions(pg_server, db.url.database) >= 1  # the pooled, idle connection
    with db.session_factory() as s:
        areas.create_area(ServiceContext(s, Actor.system()), "社区丙", "community", _street(s).id)
        s.commit()
    assert _areas(db) == before + 1


# --- SQLite: a damaged page ---------------------------------------------------------------------

DEMO_PASSWORD = "demo1234"


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory, sqlite_templates):
    """The small demo with every built-in plugin (residents to damage, exporters to fill a disk): a
    copy of the run's template, for this module to damage."""
    return sqlite_templates.copy(tmp_path_factory.mktemp("faults") / "demo.sqlite", ALL_BUILTINS, demo=True)


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("JIEDAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JIEDAO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("JIEDAO_PASSWORD", DEMO_PASSWORD)
    monkeypatch.delenv("JIEDAO_DATABASE_URL", raising=False)
    monkeypatch.delenv("JIEDAO_DEBUG", raising=False)
    monkeypatch.setattr(cli, "make_pm", lambda: make_plugin_manager(entry_points=False))
    monkeypatch.setattr(cli, "run_app", lambda database=None: 0)


def _cli(capsys, *argv) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "程序内部错误" not in err
    return code, err


def damage(path: Path, table: str) -> int:
    """Overwrite the interior pages and the middle half of the leaf pages of ``table`` with junk,
    as a failing disk or a copy cut short would: the header and the other tables stay readable."""
    con = sqlite3.connect(path)
    try:
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        try:
            pages = con.execute("SELECT pageno, pagetype FROM dbstat WHERE name = ? ORDER BY pageno",
                                (table,)).fetchall()
        except sqlite3.OperationalError:  # a SQLite built without the dbstat table: its root page only
            pages = [(con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0],
                      "internal")]
    finally:
        con.close()
    leaves = [p for p, kind in pages if kind == "leaf"]
    hit = [p for p, kind in pages if kind == "internal"] + leaves[len(leaves) // 4: 3 * len(leaves) // 4]
    assert hit and 1 not in hit, pages
    with open(path, "r+b") as fh:
        for page in hit:
            fh.seek((page - 1) * page_size)
            fh.write(b"\xde\xad" * (page_size // 2))
    return len(hit)


@pytest.fixture
def damaged(demo_template, tmp_path):
    """(damaged file, its newest automatic backup): the office's file with a damaged residents table."""
    folder = tmp_path / "办公室"
    folder.mkdir()
    path = folder / "jiedao.sqlite"
    shutil.copy(demo_template, path)
    db = open_database(path, pm=make_plugin_manager(entry_points=False), backup=False)
    older = maintenance.auto_backup(db, force=True)
    newest = maintenance.auto_backup(db, force=True)
    db.dispose()
    assert maintenance.auto_backups(path) == [newest] + ([older] if older != newest else [])
    damage(path, "grid_persons")
    return path, newest


def _assert_restore_advice(message: str, path: Path, backup: Path) -> None:
    assert "已经损坏" in message and str(path) in message, message
    assert f'jiedao db restore "{backup}" --db "{path}"' in message
    assert "设置 → 数据库 → 从备份恢复" in message
    assert "malformed" not in message and "DatabaseError" not in message


def test_a_damaged_page_read_or_written_in_the_middle_of_work_names_the_backup_to_restore(damaged):
    from plugins.grid import services as grid
    from shell.ui.errors import error_text

    path, backup = damaged
    pm = make_plugin_manager(entry_points=False)
    db = open_database(path, pm=pm)  # opens as before: the damage is deeper than the schema
    try:
        actor = auth.login(db.session_factory, "admin", DEMO_PASSWORD, labels=auth.collect_permissions(pm))
        with db.session_factory() as s:
            ctx = ServiceContext(s, actor)
            street = areas.list_areas(s, level="street")[0]    # other tables are still fine
            with pytest.raises(DatabaseCorrupt) as read:
                grid.list_persons(ctx, limit=500)
            s.rollback()
            grids = [a for a in areas.list_areas(s) if a.level == "grid"]
            with pytest.raises(DatabaseCorrupt) as write:
                grid.register_person(ctx, area_id=grids[0].id, name="新居民", id_number="11010519491231002X")
                s.commit()
            s.rollback()
        assert street is not None
        for err in (read.value, write.value):
            _assert_restore_advice(err.message, path, backup)
            assert error_text(err) == ("数据库文件已损坏", err.message)
    finally:
        db.dispose()


def test_the_cli_explains_a_damaged_page_exits_2_and_its_restore_command_works(damaged, cli_env, capsys, tmp_path):
    path, backup = damaged
    out = tmp_path / "residents.xlsx"
    code, err = _cli(capsys, "export", "grid-persons", out, "--db", path, "--user", "admin")
    assert code == 2 and err.startswith("错误：")
    _assert_restore_advice(err, path, backup)
    assert not out.exists()
    # The advice is exact: run the command it gives, and the same export works again.
    command = next(line for line in err.splitlines() if line.startswith("jiedao db restore"))
    argv = [a.strip('"') for a in command.split()[1:]]  # the test paths hold no spaces
    assert " " not in str(path) + str(backup)
    code, err = _cli(capsys, *argv, "--yes")
    assert code == 0, err
    code, err = _cli(capsys, "export", "grid-persons", out, "--db", path, "--user", "admin")
    assert code == 0, err and out.exists()


def test_without_automatic_backups_the_message_says_where_they_would_be(demo_template, tmp_path, cli_env, capsys):
    path = tmp_path / "jiedao.sqlite"
    shutil.copy(demo_template, path)
    damage(path, "grid_persons")
    code, err = _cli(capsys, "export", "grid-persons", tmp_path / "r.xlsx", "--db", path, "--user", "admin")
    assert code == 2 and "已经损坏" in err and "没有找到自动备份" in err and str(tmp_path / "backups") in err


# --- a full disk ----------------------------------------------------------------------------------
@pytest.fixture
def tiny_disk(tmp_path):
    """A 12 MB tmpfs (root only); None where mounting is not allowed (the RLIMIT_FSIZE test then runs)."""
    mnt = tmp_path / "U盘"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(folder: Path) -> Path:
    """Write a filler file until the disk refuses any more."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as fh:
        for size in (1 << 16, 512):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError:
                pass
    return filler


def _checksums(path: Path) -> tuple[str, int, int]:
    con = sqlite3.connect(path)
    try:
        return (con.execute("PRAGMA integrity_check").fetchone()[0],
                con.execute("SELECT count(*) FROM core_areas").fetchone()[0],
                con.execute("SELECT count(*) FROM core_audit_log").fetchone()[0])
    finally:
        con.close()


BIG_WRITE = 400  # areas in one transaction: far more pages than the WAL already holds


def big_write(db) -> None:
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = areas.list_areas(s, level="street")[0]
        for n in range(BIG_WRITE):
            areas.create_area(ctx, f"满盘社区{n:04d}" + "长" * 40, "community", street.id)
        s.commit()


def test_a_full_disk_refuses_the_write_in_chinese_and_leaves_the_database_intact(demo_template, tiny_disk, tmp_path,
                                                                                 cli_env, capsys):
    if tiny_disk is None:  # not root, or no mount in this container: never a silent skip
        import warnings

        warnings.warn("mount -t tmpfs not permitted: the full disk is made with RLIMIT_FSIZE instead", stacklevel=2)
        _file_size_limit_case(demo_template, tmp_path)
        return
    path = tiny_disk / "jiedao.sqlite"
    shutil.copy(demo_template, path)
    pm = make_plugin_manager(entry_points=False)
    db = open_database(path, pm=pm, backup=False)
    try:
        before = _checksums(path)
        filler = fill(tiny_disk)
        with pytest.raises(DiskFull) as full:
            big_write(db)
        message = full.value.message
        assert "磁盘空间不足" in message and str(path) in message and "没有保存" in message and "数据库未被改动" in message
        assert f"文件夹“{tiny_disk}”所在的磁盘" in message and "腾出空间" in message
        assert "disk is full" not in message
        from shell.ui.errors import error_text

        assert error_text(full.value) == ("磁盘空间不足", message)

        # A backup, an export and a report onto the full disk: exit 2, named, no half file left.
        code, err = _cli(capsys, "db", "backup", "--db", path)
        assert code == 2 and "磁盘空间不足" in err and str(tiny_disk / "backups") in err, err
        assert not any(p.name.endswith(".part") for p in (tiny_disk / "backups").iterdir())
        from shell.ui.app import _auto_backup  # the desktop's backup on start and exit: a status-bar warning

        warning = _auto_backup(db)
        assert warning.startswith("⚠ 自动备份失败：磁盘空间不足") and str(tiny_disk / "backups") in warning, warning
        assert list((tiny_disk / "backups").iterdir()) == []
        # An export and a report from a database elsewhere onto the full disk (a USB stick, say).
        elsewhere = tmp_path / "jiedao.sqlite"
        shutil.copy(demo_template, elsewhere)
        for argv, out in ((["export", "grid-persons"], tiny_disk / "实有人口.xlsx"),
                          (["report", "grid.persons", "--out"], tiny_disk / "实有人口台账.xlsx")):
            code, err = _cli(capsys, *argv, out, "--db", elsewhere, "--user", "admin")
            assert code == 2 and "磁盘空间不足" in err and str(out) in err and "没有留下写了一半的文件" in err, err
            assert sorted(p.name for p in tiny_disk.iterdir() if p.is_file()) == ["filler.bin", "jiedao.sqlite",
                                                                               "jiedao.sqlite-shm", "jiedao.sqlite-wal"]

        filler.unlink()
        assert _checksums(path) == before  # nothing half-written, the file is whole
        big_write(db)  # space freed: the same write goes through
        assert _checksums(path)[1] == before[1] + BIG_WRITE
    finally:
        db.dispose()


_FSIZE_SCRIPT = r"""
import json, resource, sys
from shell.core.database import open_database
from shell.core.demo import create_demo
from shell.ui.errors import error_text
from shell.plugins import make_plugin_manager
from tests.test_faults import big_write
db = open_database(sys.argv[1], pm=make_plugin_manager(entry_points=False), backup=False)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
try:
    big_write(db)
    print(json.dumps(["written", ""]))
except Exception as exc:
    print(json.dumps([type(exc).__name__, error_text(exc)[1]], ensure_ascii=False))
"""


def test_a_file_size_limit_refuses_the_write_in_chinese(demo_template, tmp_path):
    """Where no small disk can be mounted: a file-size limit makes the same write fail (EFBIG; Python
    ignores SIGXFSZ), and the database is intact afterwards."""
    _file_size_limit_case(demo_template, tmp_path)


def _file_size_limit_case(demo_template, tmp_path):
    import json

    path = tmp_path / "jiedao.sqlite"
    shutil.copy(demo_template, path)
    open_database(path, pm=make_plugin_manager(entry_points=False), backup=False).dispose()
    before = _checksums(path)
    limit = 128 * 1024  # the write-ahead log of the big write outgrows it (the file itself is not written)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", _FSIZE_SCRIPT, str(path), str(limit)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    kind, message = json.loads(done.stdout.strip().splitlines()[-1])
    assert kind == "DiskFull", (kind, message)
    assert str(path) in message and "没有保存" in message and "腾出空间" in message
    assert _checksums(path) == before


def test_the_desktop_shows_a_damaged_page_titled_with_the_restore_advice(qtbot, damaged):
    """实有人口 on the damaged file: a box titled 数据库文件已损坏 says what to restore, instead of an
    empty list with 共 0 人 and the error only in the log."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    path, backup = damaged
    pm = make_plugin_manager(entry_points=False)
    db = open_database(path, pm=pm)
    actor = auth.login(db.session_factory, "admin", DEMO_PASSWORD, labels=auth.collect_permissions(pm))
    ctx = AppContext(db.session_factory, actor, plugin_manager=pm, database_label=db.label)
    window = MainWindow(ctx, LocalConfig(), db)
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    qtbot.waitExposed(window)
    try:
        window.open_page("grid.residents")

        def box():
            return next((w for w in QApplication.topLevelWidgets()
                         if isinstance(w, QMessageBox) and w.objectName() == "error-box" and w.isVisible()), None)

        qtbot.waitUntil(lambda: box() is not None, timeout=10000)
        shown = box()
        assert shown.windowTitle() == "数据库文件已损坏"
        _assert_restore_advice(shown.text(), path, backup)
        shown.grab().save("/tmp/jiedao-damaged-database.png")
        qtbot.mouseClick(shown.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: box() is None, timeout=5000)
    finally:
        window.close()
        QThreadPool.globalInstance().waitForDone(5000)
        db.dispose()


# --- PostgreSQL: a real restart, on a throwaway cluster (the machine's server is never touched) ----
def _pg_bin(tool: str) -> str | None:
    import glob

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), reverse=True)
    return found[0] if found else shutil.which(tool)


class ThrowawayCluster:
    def __init__(self, folder: Path):
        import socket as _socket

        self.folder = folder
        with _socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(folder, "postgres")
        self._run(_pg_bin("initdb"), "-D", folder / "data", "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")
        self.options = f"-p {self.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"

    def _run(self, *argv):
        subprocess.run([*self.as_postgres, *map(str, argv)], check=True, capture_output=True, timeout=60)

    def ctl(self, action: str) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", self.folder / "data", "-m", "fast", "-w", "-l", self.folder / "log",
                  "-o", self.options, action)

    @property
    def url(self):
        from sqlalchemy.engine import make_url

        return make_url(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres")


@pytest.fixture
def throwaway_pg(tmp_path_factory):
    from tests.conftest import REQUIRE_PG

    if _pg_bin("initdb") is None or _pg_bin("pg_ctl") is None:
        if REQUIRE_PG:
            pytest.fail("JIEDAO_REQUIRE_PG=1 but initdb/pg_ctl are not installed: the restart test cannot run")
        pytest.skip("initdb/pg_ctl not installed (set JIEDAO_REQUIRE_PG=1 to make this fail)")
    folder = Path(tempfile.mkdtemp(prefix="jdpg-"))  # short: the socket path must fit in 107 bytes
    try:
        cluster = ThrowawayCluster(folder)
        cluster.ctl("start")
        yield cluster
    finally:
        try:
            cluster.ctl("stop")
        except Exception:  # noqa: BLE001 - already stopped, or never started
            pass
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.pg
def test_a_real_server_restart_is_explained_and_work_goes_on_afterwards(throwaway_pg):
    import time

    started = time.monotonic()
    db = open_database(throwaway_pg.url, backup=False)
    try:
        with db.session_factory() as s:
            areas.create_area(ServiceContext(s, Actor.system()), "青石街道", "street")
            s.commit()
        before = _areas(db)
        with db.session_factory() as s:
            ctx = ServiceContext(s, Actor.system())
            areas.create_area(ctx, "重启前的社区", "community", _street(s).id)
            s.flush()
            throwaway_pg.ctl("stop")           # the server goes down in the middle of the work
            with pytest.raises(ConnectionLost) as cut:
                s.commit()
            s.rollback()
        assert "连接中断" in cut.value.message and "数据未被修改" in cut.value.message
        with pytest.raises(DatabaseError) as down:  # while it is down: refused, in Chinese
            with db.session_factory() as s:
                areas.list_areas(s)
        assert down.value.message.startswith("无法连接数据库服务器")
        throwaway_pg.ctl("start")
        with db.session_factory() as s:        # back: the pool reconnects by itself
            areas.create_area(ServiceContext(s, Actor.system()), "重启后的社区", "community", _street(s).id)
            s.commit()
        assert _areas(db) == before + 1
    finally:
        db.dispose()
    assert time.monotonic() - started < 20


# --- what is NOT converted: the errors services catch and act on ----------------------------------
def test_errors_the_services_rely_on_pass_unchanged(db):
    """A unique violation stays an IntegrityError, a lock wait that gave up stays the driver's busy
    error (services retry it), a stale version stays StaleDataError: only faults are explained."""
    from sqlalchemy.exc import IntegrityError, OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    from shell.core.models import Setting

    with db.engine.connect() as conn:
        conn.execute(text("INSERT INTO core_settings (key, value, created_at, updated_at, version_id) "
                          "VALUES ('fault.test', '1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"))
        conn.commit()
        with pytest.raises(IntegrityError):
            conn.execute(text("INSERT INTO core_settings (key, value, created_at, updated_at, version_id) "
                              "VALUES ('fault.test', '2', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"))
        conn.rollback()

    with db.engine.connect() as holder, db.engine.connect() as waiter:
        holder.execute(text("UPDATE core_settings SET value = '3' WHERE key = 'fault.test'"))  # holds the lock
        waiter.execute(text("PRAGMA busy_timeout = 50" if db.is_sqlite else "SET lock_timeout = '50ms'"))
        with pytest.raises(OperationalError) as busy:
            waiter.execute(text("UPDATE core_settings SET value = '4' WHERE key = 'fault.test'"))
        assert ("locked" in str(busy.value.orig)) if db.is_sqlite else busy.value.orig.sqlstate == "55P03"
        waiter.rollback()
        holder.rollback()

    with db.session_factory() as s, db.session_factory() as other:
        mine = s.get(Setting, "fault.test")
        theirs = other.get(Setting, "fault.test")
        theirs.value = "5"
        other.commit()
        mine.value = "6"
        with pytest.raises(StaleDataError):
            s.flush()
