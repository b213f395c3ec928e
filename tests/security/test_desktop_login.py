"""The desktop on a secured server (issue 15.1): the person's own name and password open the
connection as their own login role; no shared secret on the desktop; a wrong password is refused by
the server; the first login sets the person's own password; a schema older than the program is
upgraded only with the owner's password."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QThreadPool
from sqlalchemy import text

from shell.config import LocalConfig
from shell.core import server_login
from shell.core.demo import DEFAULT_PASSWORD
from shell.ui.app import StartupFlow
from shell.ui.main_window import MainWindow
from shell.ui.startup import LoginDialog
from tests.ui import wait_for_dialog


@pytest.fixture(autouse=True)
def isolated_desktop(tmp_path, monkeypatch):
    monkeypatch.setenv("JIEDAO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("JIEDAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("JIEDAO_DATABASE_URL", raising=False)
    yield
    QThreadPool.globalInstance().waitForDone(10000)


@pytest.fixture(scope="module")
def pg_secure_db(pg_server):
    """One secured demo street for the module (securing one takes seconds): each test logs in as a
    different person, and the one that changes a password uses its own (street_staff)."""
    from tests.security.conftest import destroy_secure_db, make_secure_db

    sdb, name = make_secure_db(pg_server)
    try:
        yield sdb
    finally:
        destroy_secure_db(pg_server, sdb, name)


@pytest.fixture
def flows():
    made = []
    yield made
    for flow in made:
        if flow.window is not None:
            flow.window.close()
        if flow.dialog is not None:
            flow.dialog.close()
        if flow.database is not None:
            flow.database.dispose()


def server_address(sdb) -> str:
    """What the IT person types into the chooser: no user, no password."""
    return f"postgresql://{sdb.url.host}:{sdb.url.port or 5432}/{sdb.url.database}"


def start(flows, sdb):
    from shell.cli import make_pm

    flow = StartupFlow(config=LocalConfig(), database=server_address(sdb), plugin_factory=lambda disabled=(): make_pm())
    flows.append(flow)
    flow.start()
    return flow


def log_in(qtbot, login, username, password):
    login.username_edit.setText(username)
    login.password_edit.setText(password)
    qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)


def test_address_without_a_user_means_each_person_logs_in():
    assert server_login.needs_user_login("postgresql://192.168.1.10:5432/qingshi")
    assert server_login.needs_user_login("postgresql+psycopg://db.local/qingshi?sslmode=require")
    assert not server_login.needs_user_login("postgresql://jiedao:pw@192.168.1.10/qingshi")
    assert not server_login.needs_user_login("/home/x/jiedao.sqlite")
    assert not server_login.needs_user_login("sqlite:///x.sqlite")
    assert not server_login.needs_user_login(None)


def test_grid_worker_logs_in_as_their_own_server_role(qtbot, flows, pg_secure_db):
    flow = start(flows, pg_secure_db)
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    assert flow.database is None  # nothing is connected before the person says who they are
    assert login.remember_box.isVisible() and not login.remember_box.isChecked()

    log_in(qtbot, login, "grid_worker", "wrong-Pass-1")
    qtbot.waitUntil(lambda: "用户名或密码不正确" in login.error.text(), timeout=15000)
    assert flow.window is None and login.password_edit.text() == ""

    log_in(qtbot, login, "grid_worker", DEFAULT_PASSWORD)
    qtbot.waitUntil(lambda: isinstance(flow.window, MainWindow), timeout=30000)
    actor = flow.window.app_ctx.actor
    assert actor.username == "grid_worker" and not actor.is_superuser
    # The window's every query runs as the person's own login role, which the server polices.
    engine = flow.database.engine
    assert engine.url.username == pg_secure_db.role("grid_worker")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT session_user")).scalar() == pg_secure_db.role("grid_worker")
        assert conn.execute(text("SELECT jiedao_sec.uid()")).scalar() == actor.user_id
    # and the login is in the audit log, by the server, as that person
    with pg_secure_db.superuser_engine().connect() as conn:
        row = conn.execute(text("SELECT actor_id, action FROM core_audit_log WHERE action = 'login' "
                                "ORDER BY id DESC LIMIT 1")).one()
    assert row == (actor.user_id, "login")


def test_remembered_password_is_the_persons_own(qtbot, flows, pg_secure_db, monkeypatch):
    kept: dict[str, str] = {}

    class MemoryKeyring:
        def get_password(self, service, key):
            return kept.get(f"{service}/{key}")

        def set_password(self, service, key, value):
            kept[f"{service}/{key}"] = value

        def delete_password(self, service, key):
            kept.pop(f"{service}/{key}", None)

    import keyring

    monkeypatch.setattr(keyring, "get_password", MemoryKeyring().get_password)
    monkeypatch.setattr(keyring, "set_password", MemoryKeyring().set_password)
    monkeypatch.setattr(keyring, "delete_password", MemoryKeyring().delete_password)

    flow = start(flows, pg_secure_db)
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    login.remember_box.setChecked(True)
    log_in(qtbot, login, "community_staff", DEFAULT_PASSWORD)
    qtbot.waitUntil(lambda: isinstance(flow.window, MainWindow), timeout=30000)
    assert list(kept.values()) == [DEFAULT_PASSWORD]
    (key,) = kept
    assert "community_staff@" in key and pg_secure_db.url.database in key
    # The next start offers it for that person only.
    again = LoginDialog(None, username="community_staff", server_target=server_address(pg_secure_db))
    assert again.password_edit.text() == DEFAULT_PASSWORD and again.remember_box.isChecked()
    other = LoginDialog(None, username="grid_worker", server_target=server_address(pg_secure_db))
    assert other.password_edit.text() == ""
    again.deleteLater()
    other.deleteLater()


def test_first_login_sets_own_server_password(qtbot, flows, pg_secure_db):
    with pg_secure_db.superuser_engine().begin() as conn:
        conn.execute(text("UPDATE core_users SET must_change_password = true WHERE username = 'street_staff'"))
    flow = start(flows, pg_secure_db)
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    log_in(qtbot, login, "street_staff", DEFAULT_PASSWORD)
    qtbot.waitUntil(lambda: login.password_dialog is not None and login.password_dialog.isVisible(), timeout=30000)
    change = login.password_dialog
    change.new_edit.setText("Own-Pass-2027")
    change.new2_edit.setText("Own-Pass-2027")
    qtbot.mouseClick(change.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(flow.window, MainWindow), timeout=30000)
    # The server now takes the new password and not the old one; the flag is cleared.
    import psycopg

    with pytest.raises(psycopg.OperationalError):
        pg_secure_db.psycopg("street_staff", DEFAULT_PASSWORD).close()
    with pg_secure_db.psycopg("street_staff", "Own-Pass-2027") as conn:
        assert conn.execute("SELECT must_change_password FROM core_users WHERE username = 'street_staff'"
                            ).fetchone() == (False,)


def test_older_schema_is_upgraded_only_with_the_owner_password(qtbot, flows, pg_secure_db, monkeypatch):
    from shell.db import migrate

    monkeypatch.setattr(migrate, "needs_upgrade", lambda *a, **k: True)
    import shell.core.database as database_module

    monkeypatch.setattr(database_module, "needs_upgrade", lambda *a, **k: True)
    flow = start(flows, pg_secure_db)
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    log_in(qtbot, login, "grid_worker", DEFAULT_PASSWORD)
    qtbot.waitUntil(lambda: "jiedao db upgrade" in login.error.text(), timeout=30000)
    assert flow.window is None and not login.upgrade_button.isVisibleTo(login)  # not an administrator

    log_in(qtbot, login, "admin", DEFAULT_PASSWORD)
    qtbot.waitUntil(lambda: login.upgrade_button.isVisibleTo(login), timeout=30000)
    assert flow.window is None
    # The owner's password goes only to upgrade_as_owner; a wrong one is said in Chinese.
    with pytest.raises(Exception, match="所有者的密码不正确"):
        server_login.upgrade_as_owner(server_address(pg_secure_db), "not-the-owner-pw", None)
