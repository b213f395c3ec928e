"""我的待办 on the 首页 (issue #17 §1): every plugin's register_todo items for the actor, overdue
first, zero counts left out, each a link that opens its page filtered to the records counted."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

import tests.testplugin as testplugin
from shell.core import auth
from shell.core.todo import collect_todo
from tests.ui import PASSWORD, plugins_with_testplugin
from tests.ui.test_main_window import window_for


@pytest.fixture(autouse=True)
def todo_works():
    testplugin.TODO_FAILS.clear()
    yield
    testplugin.TODO_FAILS.clear()


def note(db, title="便签"):
    from shell.core.models import Area

    with db.session_factory() as s:
        street = s.query(Area).filter_by(level="street").one()
        s.add(testplugin.Note(area_id=street.id, title=title))
        s.commit()


def test_hook_register_todo(plugin_db):
    """Items are collected overdue first, zero counts left out, per the actor's permissions."""
    note(plugin_db)
    note(plugin_db)
    pm = plugins_with_testplugin()
    clerk = auth.login(plugin_db.session_factory, "clerk", PASSWORD, labels=auth.collect_permissions(pm))
    todo = collect_todo(pm, plugin_db.session_factory, clerk)
    assert [(p, i.id, i.count, i.overdue) for p, i in todo.items] == [
        ("testplug", "testplug.late", 1, 1), ("testplug", "testplug.notes", 2, 0)]
    assert todo.total == 3 and todo.failed == ()
    staff = auth.login(plugin_db.session_factory, "staff", PASSWORD, labels=auth.collect_permissions(pm))
    assert collect_todo(pm, plugin_db.session_factory, staff).items == ()  # no testplug.edit: nothing waits


def test_the_panel_lists_the_items_and_a_click_opens_the_filtered_page(qtbot, plugin_db):
    note(plugin_db)
    window = window_for(qtbot, plugin_db, "clerk")
    qtbot.waitUntil(lambda: "home" in window.pages)
    panel = window.pages["home"].todo
    qtbot.waitUntil(lambda: panel.todo is not None, timeout=10000)
    texts = [b.text() for b in panel.buttons]
    assert texts == ["超期的测试便签  1 条（超期 1 条）", "待整理的测试便签  1 条"]
    assert panel.message.text() == "共 2 项等您办理，点一项打开对应的列表："
    assert panel.buttons[0].objectName() == "todo-overdue"
    qtbot.mouseClick(panel.buttons[1], Qt.MouseButton.LeftButton)
    page = window.current_page()
    assert window.current_page_id() == "testplug.notes"
    assert page.filtered == {"state": "open"} and page.text() == "测试便签：{'state': 'open'}"


def test_no_work_says_so_and_a_failing_plugin_is_named(qtbot, plugin_db):
    window = window_for(qtbot, plugin_db, "clerk")
    qtbot.waitUntil(lambda: "home" in window.pages)
    panel = window.pages["home"].todo
    qtbot.waitUntil(lambda: panel.todo is not None, timeout=10000)
    assert panel.message.text() == "目前没有待办事项。" and panel.buttons == []
    testplugin.TODO_FAILS.append(True)
    with qtbot.waitSignal(panel.loaded, timeout=10000):
        panel.refresh()
    assert "testplug 的待办暂时无法统计" in panel.message.text()
