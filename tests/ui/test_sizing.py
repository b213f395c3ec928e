"""Dialogs grow with their content (issue #17 §3): an error line or a warning never squeezes the
fields (the login dialog's boxes shrank to slivers after a wrong password)."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit
from sqlalchemy.orm import sessionmaker

from shell.db.engine import make_engine
from shell.ui.startup import ChangePasswordDialog, LoginDialog
from shell.ui.widgets.form import FormDialog
from tests.ui import squeezed

LONG = ("演示数据库：其中的人员和数据都是虚构的。可用 admin、street_staff、community_staff、grid_worker "
        "等演示账号登录。")


@pytest.fixture
def session_factory(demo_template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    engine = make_engine(path)
    yield sessionmaker(engine)
    engine.dispose()


def test_login_dialog_grows_for_the_error_line(qtbot, session_factory):
    from shell.ui.style import style_sheet

    login = LoginDialog(session_factory, username="admin", is_demo=True, database_label="/tmp/演示.sqlite",
                        warnings=["上次没有正常退出：已检查数据库，没有发现问题。" * 2])
    login.setStyleSheet(style_sheet())  # the program's padding: what made the boxes collapse
    qtbot.addWidget(login)
    login.show()
    qtbot.waitExposed(login)
    assert not squeezed(login)
    login.password_edit.setText("wrong-pass-1")
    qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)
    assert "用户名或密码不正确" in login.error.text()
    qtbot.waitUntil(lambda: not squeezed(login), timeout=2000)
    assert login.height() >= login.layout().totalHeightForWidth(login.width())
    assert login.minimumWidth() >= 460


def test_form_dialog_grows_and_keeps_a_subclass_width(qtbot):
    dialog = FormDialog(None, "出库", "issue-dialog")
    dialog.setMinimumWidth(560)
    for i in range(3):
        dialog.form.add(f"f{i}", f"字段{i}", QLineEdit())
    dialog.layout_.addWidget(QLabel("说明"))
    dialog.finish_layout()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    before = dialog.height()
    error = QLabel("库存只有 224箱，不足 300箱。" * 6)
    error.setWordWrap(True)
    dialog.layout_.insertWidget(1, error)
    qtbot.waitUntil(lambda: dialog.height() > before, timeout=2000)
    assert not squeezed(dialog)
    assert dialog.height() >= dialog.layout().totalHeightForWidth(dialog.width())
    assert dialog.width() >= 560


def test_change_password_dialog_fits(qtbot):
    dialog = ChangePasswordDialog(None, reason="这是您第一次登录（或管理员刚重置了您的密码）：请先设置自己的新密码。" * 2)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not squeezed(dialog)
    assert dialog.height() >= dialog.layout().totalHeightForWidth(dialog.width())
