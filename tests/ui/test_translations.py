"""Qt's standard buttons and menus speak Chinese (issue #17 §3: 盘点 → 过账 showed "Yes / No")."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit, QMessageBox

from shell.ui.translations import install_qt_translations, translations_dir


@pytest.fixture
def translated(qapp):
    assert install_qt_translations(qapp) == ["qtbase_zh_CN"], f"no qtbase_zh_CN.qm in {translations_dir()}"
    return qapp


@pytest.mark.parametrize(("button", "text"), [
    (QMessageBox.StandardButton.Yes, "是"),
    (QMessageBox.StandardButton.No, "否"),
    (QMessageBox.StandardButton.Cancel, "取消"),
    (QMessageBox.StandardButton.Ok, "确定"),
    (QMessageBox.StandardButton.Save, "保存"),
    (QMessageBox.StandardButton.Close, "关闭"),
])
def test_message_box_standard_buttons_are_chinese(translated, qtbot, button, text):
    box = QMessageBox(QMessageBox.Icon.Question, "过账", "确认过账？", button)
    qtbot.addWidget(box)
    assert text in box.button(button).text().replace("&", "")


def test_dialog_button_box_is_chinese(translated, qtbot):
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(buttons)
    texts = {b.text().replace("&", "") for b in buttons.buttons()}
    assert any("确定" in t for t in texts) and any("取消" in t for t in texts), texts


def test_line_edit_context_menu_is_chinese(translated, qtbot):
    edit = QLineEdit("张三")
    qtbot.addWidget(edit)
    menu = edit.createStandardContextMenu()
    labels = " ".join(a.text() for a in menu.actions())
    assert "复制" in labels and "粘贴" in labels, labels
    assert "Copy" not in labels and "Paste" not in labels


def test_the_application_setup_installs_them(qapp):
    from shell.ui.app import _ensure_app

    _ensure_app([])
    assert list(qapp.property("jiedao_translators")) == ["qtbase_zh_CN"]
