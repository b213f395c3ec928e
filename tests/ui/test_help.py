"""帮助 (issue #17 §5): F1 opens the manual at the open page's chapter, 帮助 → 快捷键 lists the keys,
and Ctrl+F / Ctrl+N / Ctrl+E / Ctrl+P / F5 act on the open page (or say the page has no such action)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

import plugins
from shell.ui.help import SHELL_MANUAL, SHORTCUTS, HelpDialog, ShortcutsDialog, chapters
from shell.ui.main_window import PAGE_KEYS
from tests.ui.test_main_window import window_for

DEMO_PASSWORD = "demo1234"


def manual_folders_of_the_program() -> list[Path]:
    return [SHELL_MANUAL] + sorted(p for p in Path(plugins.__file__).parent.glob("*/manual") if p.is_dir())


@pytest.mark.parametrize("folder", manual_folders_of_the_program(), ids=lambda p: p.parent.name)
def test_every_chapter_has_a_title_and_its_pictures_and_links_exist(folder):
    found = chapters([folder])
    assert found, folder
    for chapter in found:
        text = chapter.path.read_text(encoding="utf-8")
        assert text.startswith("# "), f"{chapter.path}: the first line is the chapter's title"
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://")):
                continue
            assert (chapter.path.parent / target).exists(), f"{chapter.path}: {target} does not exist"
        assert not re.search(r"\bTODO\b|待补充|待完善", text), chapter.path


def test_every_page_key_is_listed_in_the_shortcuts(qtbot):
    listed = {key for key, _ in SHORTCUTS}
    assert {key for key, _, _ in PAGE_KEYS} <= listed
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    shown = [(dialog.table.item(r, 0).text(), dialog.table.item(r, 1).text()) for r in range(dialog.table.rowCount())]
    assert shown == list(SHORTCUTS)
    assert all(re.search(r"[\u4e00-\u9fff]", what) for _, what in shown)


def test_f1_opens_the_chapter_of_the_open_page(qtbot, demo_db):
    window = window_for(qtbot, demo_db, "admin", DEMO_PASSWORD)
    window.open_page("reports")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.current_page(), Qt.Key.Key_F1)  # a real key press, through the shortcut
    qtbot.waitUntil(lambda: isinstance(getattr(window, "help_dialog", None), HelpDialog))
    dialog = window.help_dialog
    assert dialog.current == "reports"
    assert "生成一份台账" in dialog.browser.toPlainText()
    titles = [dialog.contents.item(i).text() for i in range(dialog.contents.count())]
    assert titles[0] == "使用说明：开始使用" and "报表中心" in titles and "首页" in titles
    # A link to another chapter opens it in the same window.
    dialog.show_chapter("imports")
    assert "只导入正确的行" in dialog.browser.toPlainText()
    assert dialog.contents.currentItem().text() == "数据导入导出"
    dialog.close()


def test_f1_on_a_page_without_a_chapter_opens_the_contents(qtbot, demo_db):
    window = window_for(qtbot, demo_db, "admin", DEMO_PASSWORD)
    other = next(s.id for s in window.page_specs if s.id not in {c.id for c in chapters([SHELL_MANUAL])})
    window.open_page(other)
    dialog = window.open_help()
    qtbot.addWidget(dialog)
    assert dialog.current == "index"
    assert "每一页都一样的操作" in dialog.browser.toPlainText()


def test_page_keys_act_on_the_open_page_or_say_it_has_none(qtbot, demo_db, monkeypatch):
    window = window_for(qtbot, demo_db, "admin", DEMO_PASSWORD)
    page = window.open_page("reports")
    calls = []
    monkeypatch.setattr(page, "export_excel", lambda: calls.append("export"))
    monkeypatch.setattr(page, "generate_preview", lambda: calls.append("preview"))
    page.export_button.setEnabled(True)
    window.page_actions["page_export"].trigger()
    window.page_actions["page_refresh"].trigger()
    window.page_actions["page_print"].trigger()  # no preview yet: make it first
    assert calls == ["export", "preview", "preview"]
    window.open_page("home")
    assert window.page_action("page_new", "新建") is False
    assert window.statusBar().currentMessage() == "本页没有“新建”。"


def test_ctrl_f_goes_to_the_page_search_or_the_global_search(qtbot, demo_db):
    window = window_for(qtbot, demo_db, "admin", DEMO_PASSWORD)
    window.open_page("home")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.find()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.search.box)
    page = window.current_page()
    called = []
    page.page_search = lambda: called.append(True)
    window.find()
    assert called == [True]
