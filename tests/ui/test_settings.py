"""The settings dialog, driven like a user: click real buttons, fill real dialogs, read what is shown.
Modal message boxes and file pickers are answered by monkeypatching; own dialogs are filled live."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt, QThreadPool, QTimer
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QLabel, QLineEdit, QListWidget, QMessageBox, QPushButton
from sqlalchemy import select
from sqlalchemy.engine import make_url

import tests.testplugin
from shell.config import LocalConfig, config_path
from shell.core import auth
from shell.core.areas import create_area
from shell.core.context import AppContext
from shell.core.models import Area, AuditLog, Setting
from shell.errors import AuthError
from shell.plugins import make_plugin_manager
from shell.ui.settings import SettingsDialog, database_page
from shell.ui.tasks import jobs_running

ADMIN_PASSWORD = "admin1234"


# --- fixtures -------------------------------------------------------------------------------------------
@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    path = tmp_path / "config"
    monkeypatch.setenv("JIEDAO_CONFIG_DIR", str(path))
    return path


@pytest.fixture
def pm():
    return make_plugin_manager(builtins=["tests.testplugin.broken"], extra=[tests.testplugin], entry_points=False)


@pytest.fixture
def admin(sqlite_db):
    with sqlite_db.session_factory() as s:
        auth.create_first_admin(s, "admin", "系统管理员", ADMIN_PASSWORD)
        s.commit()
    return auth.login(sqlite_db.session_factory, "admin", ADMIN_PASSWORD)


@pytest.fixture
def app_ctx(sqlite_db, admin, pm):
    return AppContext(sqlite_db.session_factory, admin, pm, database_label=sqlite_db.label)


@pytest.fixture
def messages(monkeypatch):
    """Every QMessageBox the user would see: ("box"|"question", title, text). Questions answer ``yes``."""
    seen: list[tuple[str, str, str]] = []
    state = {"yes": True}

    def fake_exec(self):
        seen.append(("box", self.windowTitle(), self.text()))
        return QMessageBox.StandardButton.Ok

    def fake_question(parent, title, text, *args, **kwargs):
        seen.append(("question", title, text))
        return QMessageBox.StandardButton.Yes if state["yes"] else QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    monkeypatch.setattr(QMessageBox, "question", fake_question)
    seen_state = type("Messages", (list,), {})(seen)
    seen_state.state = state
    seen_state.log = seen
    return seen_state


def make_dialog(qtbot, ctx, changed=None):
    dialog = SettingsDialog(ctx, LocalConfig.load(), on_database_changed=(changed.append if changed is not None else None))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


@pytest.fixture
def dialog(qtbot, app_ctx, config_dir, messages):
    d = make_dialog(qtbot, app_ctx, [])
    yield d
    QThreadPool.globalInstance().waitForDone(10_000)


def when_modal(name: str, action, errors: list | None = None) -> None:
    """Run ``action(dialog)`` once the modal dialog ``name`` is up; if it is still open afterwards
    (a validation error kept it open), record its visible error texts and cancel it."""
    tries = {"n": 0}

    def poll():
        w = QApplication.activeModalWidget()
        if w is None or w.objectName() != name:
            tries["n"] += 1
            if tries["n"] < 300:
                QTimer.singleShot(10, poll)
            return
        action(w)

        def check():
            if w.isVisible():
                if errors is not None:
                    errors.extend(e.text() for e in w.form.errors.values() if not e.isHidden())
                    if not w.form.general_error.isHidden():
                        errors.append(w.form.general_error.text())
                w.reject()

        QTimer.singleShot(0, check)

    QTimer.singleShot(0, poll)


def click(qtbot, widget: QPushButton) -> None:
    assert widget.isEnabled(), f"{widget.objectName()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_text(qtbot, edit: QLineEdit, text: str) -> None:
    """Type like a user: key clicks for ASCII; Chinese arrives as one committed input-method string
    (QTest cannot synthesize key events for CJK characters)."""
    for chunk in re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]+", text):
        if chunk.isascii():
            qtbot.keyClicks(edit, chunk)
        else:
            edit.insert(chunk)


def fill(qtbot, w, name: str, text: str) -> None:
    edit = w.findChild(QLineEdit, name)
    assert edit is not None, name
    edit.clear()
    type_text(qtbot, edit, text)


def button(parent, name: str) -> QPushButton:
    b = parent.findChild(QPushButton, name)
    assert b is not None, name
    return b


# --- pages and permissions ----------------------------------------------------------------------------
def test_every_page_opens_for_an_admin(qtbot, dialog, tmp_path):
    assert dialog.page_ids() == ["database", "plugins", "users", "areas", "rules", "holidays", "reports", "audit"]
    titles = [dialog.nav.item(i).text() for i in range(dialog.nav.count())]
    assert titles == ["数据库", "插件", "用户与角色", "辖区", "规则与参数", "节假日安排", "报表", "审计日志"]
    for page_id in dialog.page_ids():
        dialog.nav.setCurrentRow(dialog.page_ids().index(page_id))
        page = dialog.page(page_id)
        assert page is not None and page.isVisible()
        assert dialog.heading.text() == titles[dialog.page_ids().index(page_id)]
        assert not dialog.grab().isNull()


def test_pages_hidden_without_permission(qtbot, sqlite_db, app_ctx, pm, config_dir, messages):
    with app_ctx.service() as s:
        street = create_area(s, "幸福街道", "street")
        community = create_area(s, "一社区", "community", street.id)
        auth.create_user(s, "wangwu", "王五", "wangwu123", community.id, ["grid_worker"])
    worker = auth.login(sqlite_db.session_factory, "wangwu", "wangwu123")
    d = make_dialog(qtbot, AppContext(sqlite_db.session_factory, worker, pm))
    assert d.page_ids() == ["database", "plugins", "areas", "rules", "holidays", "reports"]
    areas = d.open_page("areas")
    # Scope: only the own community, read-only.
    assert areas.child_names(None) == ["一社区"]
    assert not button(areas, "area-add").isVisible()
    rules = d.open_page("rules")
    assert not button(rules, "rules-save").isEnabled()
    db = d.open_page("database")
    assert not button(db, "db-backup").isEnabled() and not button(db, "db-restore").isEnabled()
    plugins = d.open_page("plugins")
    assert not (plugins.table.item(0, 0).flags() & Qt.ItemFlag.ItemIsUserCheckable)
    with pytest.raises(KeyError):
        d.open_page("users")


# --- users and roles -------------------------------------------------------------------------------------
@pytest.fixture
def community_id(app_ctx):
    with app_ctx.service() as s:
        street = create_area(s, "幸福街道", "street")
        return create_area(s, "一社区", "community", street.id).id


def _fill_user(qtbot, password2="zhang1234"):
    def action(w):
        fill(qtbot, w, "user-username", "zhangsan")
        fill(qtbot, w, "user-display_name", "张三")
        fill(qtbot, w, "user-password", "zhang1234")
        fill(qtbot, w, "user-password2", password2)
        area = w.area
        area.setCurrentIndex(area.findData(area.itemData(area.count() - 1)))
        roles: QListWidget = w.findChild(QListWidget, "user-roles")
        for i in range(roles.count()):
            if roles.item(i).text() == "网格员":
                roles.item(i).setCheckState(Qt.CheckState.Checked)
        click(qtbot, button(w, "user-save"))
    return action


def test_create_user_through_dialog_and_manage_it(qtbot, dialog, community_id, messages, monkeypatch):
    page = dialog.open_page("users")
    errors: list[str] = []
    when_modal("user-dialog", _fill_user(qtbot, password2="different1"), errors)
    click(qtbot, button(page, "user-add"))
    assert errors == ["两次输入的密码不一致。"]
    assert "zhangsan" not in [r[0] for r in page.user_texts()]

    when_modal("user-dialog", _fill_user(qtbot))
    click(qtbot, button(page, "user-add"))
    rows = {r[0]: r for r in page.user_texts()}
    assert rows["zhangsan"] == ["zhangsan", "张三", "幸福街道 / 一社区", "网格员", "启用", ""]
    assert "已新增用户“zhangsan”" in page.status.text()

    # The same username again: the service's message shows next to the field.
    errors.clear()
    when_modal("user-dialog", _fill_user(qtbot), errors)
    click(qtbot, button(page, "user-add"))
    assert errors == ["用户名“zhangsan”已被使用。"]

    # Reset password: a weak one is refused with the policy message, a good one works.
    page.select_user("zhangsan")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("short", True))
    click(qtbot, button(page, "user-reset"))
    assert messages.log[-1][1:] == ("输入有误", "密码至少 8 位（现在是 5 位）。")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("newpass99", True))
    click(qtbot, button(page, "user-reset"))
    assert "已重置“zhangsan”的密码" in page.status.text()

    # Deactivate after a confirmation.
    page.select_user("zhangsan")
    assert button(page, "user-active").text() == "停用"
    click(qtbot, button(page, "user-active"))
    assert messages.log[-1][0] == "question"
    assert {r[0]: r for r in page.user_texts()}["zhangsan"][4] == "已停用"


def test_locked_user_can_be_unlocked(qtbot, sqlite_db, dialog, community_id):
    with dialog.app_ctx.service() as s:
        auth.create_user(s, "lisi", "李四", "lisi12345", community_id, ["grid_worker"])
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.login(sqlite_db.session_factory, "lisi", "wrong-password")
    page = dialog.open_page("users")
    page.reload_users()
    page.select_user("lisi")
    assert {r[0]: r for r in page.user_texts()}["lisi"][5].startswith("锁定至 ")
    click(qtbot, button(page, "user-unlock"))
    assert {r[0]: r for r in page.user_texts()}["lisi"][5] == ""
    auth.login(sqlite_db.session_factory, "lisi", "lisi12345")


def test_save_and_delete_a_role(qtbot, dialog, messages):
    page = dialog.open_page("users")
    page.tabs.setCurrentIndex(1)
    click(qtbot, button(page, "role-new"))
    type_text(qtbot, page.role_name, "clerk")
    type_text(qtbot, page.role_title, "便签文员")
    page._perm_items["testplug.view"].setCheckState(0, Qt.CheckState.Checked)
    page._perm_items["core.area.view"].setCheckState(0, Qt.CheckState.Checked)
    # Permissions are grouped by plugin, titled with the plugin's Chinese title.
    groups = [page.perm_tree.topLevelItem(i).text(0) for i in range(page.perm_tree.topLevelItemCount())]
    assert groups == ["系统", "测试插件"]
    click(qtbot, button(page, "role-save"))
    rows = {r[1]: r for r in page.role_texts()}
    assert rows["clerk"] == ["便签文员", "clerk", "2", "0", "自定义"]
    assert sorted(page.checked_codes()) == ["core.area.view", "testplug.view"]
    # A bad code: the service's message shows by the field.
    click(qtbot, button(page, "role-new"))
    type_text(qtbot, page.role_name, "坏 名字")
    type_text(qtbot, page.role_title, "x")
    click(qtbot, button(page, "role-save"))
    assert "不可用" in page.role_form.error_text("name")
    # Built-in roles cannot be deleted (button disabled); the new one can.
    page.roles.selectRow([r[1] for r in page.role_texts()].index("admin"))
    assert not button(page, "role-delete").isEnabled()
    page.roles.selectRow([r[1] for r in page.role_texts()].index("clerk"))
    click(qtbot, button(page, "role-delete"))
    assert "clerk" not in [r[1] for r in page.role_texts()]


# --- areas -------------------------------------------------------------------------------------------------
def _add_area(qtbot, page, parent_name: str | None, name: str, errors=None):
    if parent_name is None:
        page.tree.clearSelection()
        page.tree.setCurrentIndex(page.tree.rootIndex())
    else:
        page.select_area(page.find_id(parent_name))

    def action(w):
        fill(qtbot, w, "area-name", name)
        click(qtbot, button(w, "area-dialog-ok"))

    when_modal("area-dialog", action, errors)
    click(qtbot, button(page, "area-add"))


@pytest.fixture
def areas_page(qtbot, dialog):
    page = dialog.open_page("areas")
    _add_area(qtbot, page, None, "幸福街道")
    _add_area(qtbot, page, "幸福街道", "一社区")
    _add_area(qtbot, page, "幸福街道", "二社区")
    _add_area(qtbot, page, "一社区", "第一网格")
    return page


def test_add_community_and_grid_in_the_tree(qtbot, areas_page):
    page = areas_page
    assert page.child_names(None) == ["幸福街道"]
    assert page.child_names(page.find_id("幸福街道")) == ["一社区", "二社区"]
    assert page.child_names(page.find_id("一社区")) == ["第一网格"]
    assert page.model.itemFromIndex(page._items[page.find_id("第一网格")].index().siblingAtColumn(1)).text() == "网格"
    page.select_area(page.find_id("一社区"))
    assert button(page, "area-add").text() == "新增网格…"
    assert "社区 2 个" in page.summary.text() and "网格 1 个" in page.summary.text()
    # A duplicate name under the same parent: the service's message, inline.
    errors: list[str] = []
    _add_area(qtbot, page, "幸福街道", "一社区", errors)
    assert errors == ["同一上级下已有名为“一社区”的辖区。"]


def test_move_a_grid_under_another_community(qtbot, areas_page, messages):
    page = areas_page
    grid = page.find_id("第一网格")
    page.select_area(grid)

    def choose(w):
        targets: QListWidget = w.findChild(QListWidget, "move-targets")
        labels = [targets.item(i).text() for i in range(targets.count())]
        assert labels == ["幸福街道 / 二社区"], "only valid targets: other communities"
        targets.setCurrentRow(0)
        click(qtbot, button(w, "move-dialog-ok"))

    when_modal("move-dialog", choose)
    click(qtbot, button(page, "area-move"))
    question = [m for m in messages.log if m[0] == "question"][-1]
    assert "共 1 个辖区" in question[2] and "二社区" in question[2]
    assert page.child_names(page.find_id("二社区")) == ["第一网格"]
    assert page.child_names(page.find_id("一社区")) == []
    assert "共移动 1 个辖区" in page.status.text()


def _drop(qtbot, page, source: int, target: int) -> None:
    """Drag ``source`` onto ``target`` the way the view receives it: a drop event on the viewport."""
    page.select_area(source)
    mime = page.model.mimeData([page.tree.currentIndex()])
    page.tree.scrollTo(page._items[target].index())
    pos = page.tree.visualRect(page._items[target].index()).center()
    args = (Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    viewport = page.tree.viewport()
    enter = QDragEnterEvent(pos, *args)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(pos, *args)
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    QApplication.sendEvent(viewport, QDropEvent(QPointF(pos), *args))


def test_moving_into_own_subtree_shows_the_chinese_error(qtbot, areas_page, messages):
    page = areas_page
    _drop(qtbot, page, page.find_id("一社区"), page.find_id("第一网格"))
    boxes = [m for m in messages.log if m[0] == "box"]
    assert boxes[-1][1] == "输入有误"
    assert boxes[-1][2] == "不能把“一社区”移到它自己或它的下级“第一网格”下面。"
    assert page.child_names(page.find_id("一社区")) == ["第一网格"]
    # A community with its grid, dragged onto another street: the question says how many move.
    _add_area(qtbot, page, None, "和平街道")
    _drop(qtbot, page, page.find_id("一社区"), page.find_id("和平街道"))
    assert "共 2 个" in [m for m in messages.log if m[0] == "question"][-1][2]
    assert page.child_names(page.find_id("和平街道")) == ["一社区"]
    assert page.child_names(page.find_id("一社区")) == ["第一网格"]


def test_close_and_reopen_an_area(qtbot, areas_page, messages):
    page = areas_page
    errors: list[str] = []

    def close_with(reason):
        def action(w):
            fill(qtbot, w, "close-reason", reason)
            click(qtbot, button(w, "close-dialog-ok"))
        return action

    # A community with an open grid cannot be closed: the reason is shown in the dialog.
    page.select_area(page.find_id("一社区"))
    when_modal("close-dialog", close_with("区划调整"), errors)
    click(qtbot, button(page, "area-close"))
    assert errors == ["“一社区”下还有 1 个未撤销的下级辖区，请先撤销或移走它们。"]

    page.select_area(page.find_id("第一网格"))
    when_modal("close-dialog", close_with("并入第二网格"))
    click(qtbot, button(page, "area-close"))
    assert page.child_names(page.find_id("一社区")) == []
    page.show_closed.setChecked(True)
    grid = page.find_id("第一网格")
    assert page.child_names(page.find_id("一社区")) == ["第一网格"]
    status = page._items[grid].index().siblingAtColumn(4).data()
    assert status.startswith("已撤销（")
    assert page._items[grid].foreground().color().name() == "#9a9a9a"
    page.select_area(grid)
    assert not button(page, "area-move").isEnabled()
    click(qtbot, button(page, "area-reopen"))
    assert page._items[grid].index().siblingAtColumn(4).data() == "在用"


def test_stale_edit_shows_conflict_compare_and_reload(qtbot, areas_page, messages, tmp_path):
    page = areas_page
    grid = page.find_id("第一网格")
    page.select_area(grid)
    start_version = page.selected().version_id  # the row this user starts from
    seen = {}

    def on_conflict(w):
        seen["message"] = w.findChild(QLabel, "conflict-message").text()
        click(qtbot, button(w, "conflict-compare"))
        table = w.table
        seen["rows"] = [[table.item(r, c).text() for c in range(3)] for r in range(table.rowCount())]
        seen["compare"] = w.compare_button.text()
        w.grab().save(str(tmp_path / "conflict.png"))
        click(qtbot, button(w, "conflict-reload"))

    def edit(w):
        fill(qtbot, w, "area-name", "我的名字")
        # Someone else renames the grid while this dialog is open.
        with page.app_ctx.service() as s:
            from shell.core.areas import rename_area
            rename_area(s, grid, "第一网格（新）")
        when_modal("conflict-dialog", on_conflict)
        click(qtbot, button(w, "area-dialog-ok"))
        seen["after_reload"] = w.form.value("name")
        seen["note"] = w.form.general_error.text()
        fill(qtbot, w, "area-name", "第一网格（改）")
        click(qtbot, button(w, "area-dialog-ok"))  # saves now, on top of the other change

    when_modal("area-dialog", edit)
    click(qtbot, button(page, "area-rename"))
    assert "已被系统管理员于" in seen["message"] and "本次保存未生效" in seen["message"]
    assert ["名称", "我的名字", "第一网格（新）"] in seen["rows"]
    assert seen["compare"] == "有 1 处不同"
    assert seen["after_reload"] == "第一网格（新）" and "已载入对方保存的内容" in seen["note"]
    assert page.child_names(page.find_id("一社区")) == ["第一网格（改）"]
    with page.app_ctx.service() as s:
        from shell.core.areas import get_area
        assert get_area(s, grid).version_id == start_version + 2  # the other save, then this user's


# --- rules ------------------------------------------------------------------------------------------------
def test_rule_with_a_bad_value_shows_the_error(qtbot, dialog, sqlite_db):
    page = dialog.open_page("rules")
    edit = page.findChild(QLineEdit, "rule-core.login.max_failures")
    other = page.findChild(QLineEdit, "rule-testplug.per_grid")
    assert edit.text() == "5" and other.text() == "10"
    edit.clear()
    type_text(qtbot, edit, "2")
    other.clear()
    type_text(qtbot, other, "12")
    click(qtbot, button(page, "rules-save"))
    form = page.forms["core"]
    assert form.error_text("core.login.max_failures") == "“连续登录失败锁定次数”不能小于 3（填写的是 2）。"
    assert "全部规则均未保存" in page.status.text()
    with sqlite_db.session_factory() as s:
        assert s.get(Setting, "testplug.per_grid") is None, "nothing saved while one value is bad"
    edit.clear()
    type_text(qtbot, edit, "五")
    click(qtbot, button(page, "rules-save"))
    assert "格式不正确" in form.error_text("core.login.max_failures")
    edit.clear()
    type_text(qtbot, edit, "6")
    click(qtbot, button(page, "rules-save"))
    assert form.error_text("core.login.max_failures") == ""
    assert page.status.text() == "已保存 2 项规则。"
    with sqlite_db.session_factory() as s:
        assert s.get(Setting, "core.login.max_failures").value == 6
        assert s.get(Setting, "testplug.per_grid").value == 12


# --- audit log ------------------------------------------------------------------------------------------------
def test_audit_log_shows_the_changes_just_made(qtbot, dialog, areas_page):
    page = areas_page
    page.select_area(page.find_id("二社区"))

    def action(w):
        fill(qtbot, w, "area-name", "二社区（东）")
        click(qtbot, button(w, "area-dialog-ok"))

    when_modal("area-dialog", action)
    click(qtbot, button(page, "area-rename"))
    audit = dialog.open_page("audit")
    rows = audit.row_texts()
    # Newest first: the rename, then the four inserts.
    assert rows[0][1:5] == ["系统管理员", "修改", "辖区", str(page.find_id("二社区（东）"))]
    assert rows[0][5] == "二社区 → 二社区（东）"
    # Each new area: its insert, then the update that sets its materialized path.
    assert [r[5] for r in rows if r[2] == "新增" and r[3] == "辖区"] == ["第一网格", "二社区", "一社区", "幸福街道"]
    assert rows[1][2] == "修改" and rows[1][5] == "修改了：路径"
    assert rows[0][0][:4].isdigit()
    # Details: a readable before/after table.
    audit.table.selectRow(0)
    text = audit.details.toPlainText()
    assert "修改前" in text and "修改后" in text and "名称" in text and "二社区（东）" in text
    # Filter by object and user.
    audit.entity.setCurrentIndex(audit.entity.findData("core_users"))
    click(qtbot, button(audit, "audit-query"))
    assert {r[3] for r in audit.row_texts()} == {"用户"}
    assert audit.count.text() == f"共 {audit.model.total} 条"
    audit.entity.setCurrentIndex(0)
    audit.user.setText("没有这个人")
    click(qtbot, button(audit, "audit-query"))
    assert audit.row_texts() == [] and audit.count.text() == "共 0 条"
    # The date range counts Shanghai days: today includes everything just done.
    audit.user.clear()
    audit.by_date.setChecked(True)
    click(qtbot, button(audit, "audit-query"))
    with dialog.app_ctx.service(commit=False) as s:
        assert audit.model.total == len(list(s.session.scalars(select(AuditLog.id))))


def test_audit_log_filters_by_record_and_exports_what_is_filtered(qtbot, dialog, areas_page, tmp_path):
    from openpyxl import load_workbook

    page = areas_page
    grid = page.find_id("第一网格")
    audit = dialog.open_page("audit")
    audit.entity.setCurrentIndex(audit.entity.findData("core_areas"))
    type_text(qtbot, audit.record, str(grid))
    click(qtbot, button(audit, "audit-query"))
    rows = audit.row_texts()
    assert rows and {(r[3], r[4]) for r in rows} == {("辖区", str(grid))}
    out = tmp_path / "审计.xlsx"
    audit.export(str(out))
    qtbot.waitUntil(lambda: audit.export_status.text().startswith("已导出"), timeout=20000)
    assert audit.export_status.text() == f"已导出 {len(rows)} 条到 {out}"
    sheet = load_workbook(out, read_only=True).active
    values = [[c for c in r] for r in sheet.iter_rows(values_only=True)]
    exported = [r for r in values if len(r) >= 6 and r[3] == "辖区" and str(r[4]) == str(grid)]
    assert len(exported) == len(rows) and {r[5] for r in exported} >= {"第一网格"}
    # The export itself is audited.
    with dialog.app_ctx.service(commit=False) as s:
        last = s.session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).one()
        assert last.action == "report" and last.entity == "core.audit" and f"{len(rows)} 行" in last.summary


# --- plugins ---------------------------------------------------------------------------------------------------
def test_plugins_page_shows_broken_plugin_and_saves_disabling(qtbot, dialog, config_dir):
    page = dialog.open_page("plugins")
    rows = {r[0]: r for r in page.row_texts()}
    assert rows["broken"][4] == "出错"
    assert "模拟的插件导入错误" in rows["broken"][5]
    assert rows["testplug"][1:5] == ["测试插件", "1.0", "测试", "已加载"]
    r = [x[0] for x in page.row_texts()].index("testplug")
    page.table.item(r, 0).setCheckState(Qt.CheckState.Unchecked)
    assert "重新启动" in page.status.text()
    saved = json.loads(config_path().read_text(encoding="utf-8"))
    assert config_path().parent == config_dir
    assert saved["disabled_plugins"] == ["testplug"]
    page.table.item(r, 0).setCheckState(Qt.CheckState.Checked)
    assert json.loads(config_path().read_text(encoding="utf-8"))["disabled_plugins"] == []


# --- database ----------------------------------------------------------------------------------------------------
def test_connection_test_with_a_bad_server_shows_the_chinese_error(qtbot, dialog):
    page = dialog.open_page("database")
    assert page.current_label.text().startswith("本地文件 ")
    click(qtbot, page.use_pg)
    qtbot.keyClicks(page.pg_host, "127.0.0.1")
    page.pg_port.setValue(1)
    qtbot.keyClicks(page.pg_db, "jiedao")
    qtbot.keyClicks(page.pg_user, "jiedao")
    click(qtbot, button(page, "db-test"))
    assert not button(page, "db-test").isEnabled(), "the check runs in the background"
    qtbot.waitUntil(lambda: "连接失败" in page.result.text(), timeout=15_000)
    assert "无法连接数据库服务器 127.0.0.1:1" in page.result.text()
    assert button(page, "db-test").isEnabled()
    # Missing fields are named before anything is tried.
    page.pg_host.clear()
    click(qtbot, button(page, "db-test"))
    assert page.pg_form.error_text("host") == "请填写服务器地址。"


def test_server_without_a_user_is_saved_for_personal_logins(qtbot, app_ctx, config_dir, messages, pg_server):
    """A secured server: the address is saved without a user; each person logs in as themselves.
    测试连接 asks the server (which answers that it wants to know who) — nothing is logged in."""
    changed: list[str] = []
    d = make_dialog(qtbot, app_ctx, changed)
    page = d.open_page("database")
    click(qtbot, page.use_pg)
    url = pg_server.url
    for edit, text in ((page.pg_host, url.host or "127.0.0.1"), (page.pg_db, "postgres")):
        type_text(qtbot, edit, text)
    page.pg_port.setValue(url.port or 5432)
    click(qtbot, button(page, "db-test"))
    qtbot.waitUntil(lambda: "请用您自己的用户名和密码登录" in page.result.text(), timeout=15_000)
    click(qtbot, button(page, "db-save"))
    qtbot.waitUntil(lambda: bool(changed), timeout=15_000)
    saved = json.loads(config_path().read_text(encoding="utf-8"))["database"]
    assert saved.startswith("postgresql+psycopg://127.0.0.1") and "@" not in saved


def test_save_server_keeps_password_out_of_config(qtbot, sqlite_db, app_ctx, config_dir, messages, monkeypatch):
    stored = {}
    monkeypatch.setattr(database_page, "check_connection", lambda url: "PostgreSQL 16.4")
    monkeypatch.setattr(database_page, "store_password", lambda raw, pw: stored.update({raw: pw}) or True)
    changed: list[str] = []
    d = make_dialog(qtbot, app_ctx, changed)
    page = d.open_page("database")
    click(qtbot, page.use_pg)
    for edit, text in ((page.pg_host, "192.168.1.10"), (page.pg_db, "jiedao"), (page.pg_user, "clerk"),
                       (page.pg_password, "s3cret!")):
        type_text(qtbot, edit, text)
    click(qtbot, button(page, "db-save"))
    qtbot.waitUntil(lambda: bool(changed), timeout=5000)
    raw = config_path().read_text(encoding="utf-8")
    assert "s3cret" not in raw
    assert json.loads(raw)["database"] == "postgresql+psycopg://clerk@192.168.1.10:5432/jiedao"
    assert stored == {"postgresql+psycopg://clerk@192.168.1.10:5432/jiedao": "s3cret!"}
    assert changed == ["postgresql+psycopg://clerk:s3cret%21@192.168.1.10:5432/jiedao"]  # URL-escaped


def test_save_sqlite_file_reconnects(qtbot, dialog, tmp_path, monkeypatch):
    changed = []
    dialog.on_database_changed = changed.append
    page = dialog.open_page("database")
    target = tmp_path / "other.sqlite"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    click(qtbot, button(page, "db-browse"))
    assert page.sqlite_path.text() == str(target)
    click(qtbot, button(page, "db-save"))
    qtbot.waitUntil(lambda: bool(changed), timeout=5000)
    assert changed == [str(target.resolve())]
    assert json.loads(config_path().read_text(encoding="utf-8"))["database"] == str(target.resolve())
    assert "连接成功" not in page.result.text() or "已保存" in page.result.text()


def test_backup_creates_a_file_and_restore_brings_it_back(qtbot, dialog, sqlite_db, tmp_path, monkeypatch, messages):
    changed = []
    dialog.on_database_changed = changed.append
    page = dialog.open_page("database")
    folder = tmp_path / "my-backups"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    click(qtbot, button(page, "db-backup"))
    qtbot.waitUntil(lambda: "已备份到" in page.backup_result.text(), timeout=10_000)
    files = list(folder.iterdir())
    assert len(files) == 1 and files[0].read_bytes()[:16] == b"SQLite format 3\x00"
    assert str(files[0]) in page.backup_result.text()

    # A change after the backup, then restore: the change is gone, a safety copy was made first.
    with dialog.app_ctx.service() as s:
        create_area(s, "备份后新建街道", "street")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(files[0]), ""))
    click(qtbot, button(page, "db-restore"))
    assert messages.log[-1][0] == "question" and files[0].name in messages.log[-1][2]
    qtbot.waitUntil(lambda: bool(changed), timeout=10_000)
    assert changed == [str(Path(sqlite_db.url.database))]
    assert "已从备份恢复" in page.backup_result.text()
    safety = [p for p in (Path(sqlite_db.url.database).parent / "backups").iterdir() if "恢复前" in p.name]
    assert len(safety) == 1
    with sqlite_db.session_factory() as s:
        assert s.scalar(select(Area).where(Area.name == "备份后新建街道")) is None


def test_restore_refuses_a_file_that_is_not_a_database(qtbot, dialog, tmp_path, monkeypatch, messages):
    page = dialog.open_page("database")
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("这不是数据库", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bogus), ""))
    click(qtbot, button(page, "db-restore"))
    assert messages.log[-1][0] == "box" and "不是街道工作台的数据库备份" in messages.log[-1][2]
    assert jobs_running() == 0


# --- 报表: the printing font ------------------------------------------------------------------------------
def test_font_page_tests_and_saves_the_font(qtbot, dialog, config_dir, tmp_path):
    page = dialog.open_page("reports")
    button(page, "font-test").click()
    qtbot.waitUntil(lambda: page.result.text() != "正在检测……", timeout=10_000)
    assert page.result.text().startswith("台账和证明将使用：")  # CI installs fonts-arphic-uming and wqy-zenhei
    assert "宋体" in page.result.text() and "uming.ttc" in page.result.text(), page.result.text()
    bad = tmp_path / "not-a-font.ttf"
    bad.write_bytes(b"junk" * 100)
    page.path_edit.setText(str(bad))
    button(page, "font-test").click()
    qtbot.waitUntil(lambda: page.result.text() not in ("", "正在检测……") and "将使用：" not in page.result.text(),
                    timeout=10_000)
    assert "字体" in page.result.text() and "not-a-font.ttf" in page.result.text()
    button(page, "font-save").click()
    assert LocalConfig.load().font_path == str(bad)
    page.path_edit.setText("")
    button(page, "font-save").click()
    assert LocalConfig.load().font_path is None


# --- 节假日安排 (issue 14.3) ---------------------------------------------------------------------------
def _holidays(qtbot, dialog, year):
    page = dialog.open_page("holidays")
    page.year.setValue(year)
    return page


def test_holidays_page_shows_a_year_and_sets_a_day_by_clicking(qtbot, dialog, sqlite_db):
    from datetime import date

    from shell.core import calendar

    page = _holidays(qtbot, dialog, 2026)
    assert page.isVisible() and not page.warning.isVisible()
    assert page.summary.text() == "放假 19 天，调休上班 6 天"
    new_year, sunday, monday = page.button(date(2026, 1, 1)), page.button(date(2026, 1, 4)), page.button(date(2026, 1, 5))
    assert (new_year.text(), new_year.property("state")) == ("1休", "off") and "元旦" in new_year.toolTip()
    assert (sunday.text(), sunday.property("state")) == ("4班", "work")
    assert (monday.text(), monday.property("state")) == ("5", "workday")
    assert page.button(date(2026, 1, 10)).property("state") == "weekend"

    page = _holidays(qtbot, dialog, 2027)
    assert page.warning.isVisible() and page.warning.text() == "2027 年节假日安排尚未录入，期限按周末计算，请管理员录入。"
    # only this year's days are on screen (2026's buttons gone, not painted under 2027's)
    shown = [b.text() for b in page.months[0].findChildren(QPushButton) if not b.isHidden()]
    assert len(shown) == 31 and shown[0] == "1" and "1休" not in shown
    day = page.button(date(2027, 1, 1))
    assert (day.text(), day.property("state")) == ("1", "workday")

    def set_off(w):
        assert not w.work.isEnabled()          # a Friday cannot be a 调休 working day
        w.off.click()
        type_text(qtbot, w.name, "元旦")
        w.ok_button.click()

    when_modal("holiday-day-dialog", set_off)
    click(qtbot, day)
    day = page.button(date(2027, 1, 1))
    assert (day.text(), day.property("state")) == ("1休", "off") and "元旦" in day.toolTip()
    assert "background: #f8d7da" in day.styleSheet()
    assert not page.warning.isVisible() and page.status.text() == "已保存：2027-01-01 休（元旦）"
    with sqlite_db.session_factory() as s:
        assert not calendar.is_working_day(s, date(2027, 1, 1))

    # cleared again: back to an ordinary working day
    when_modal("holiday-day-dialog", lambda w: (w.plain.click(), w.ok_button.click()))
    click(qtbot, page.button(date(2027, 1, 1)))
    assert page.button(date(2027, 1, 1)).property("state") == "workday" and page.warning.isVisible()


def test_holidays_page_imports_a_sheet_and_lists_row_errors(qtbot, dialog, tmp_path, monkeypatch):
    from datetime import date

    from tests.core.test_calendar import sheet

    page = _holidays(qtbot, dialog, 2027)
    bad = sheet(tmp_path / "bad.xlsx", [("2027-01-01", "休", "元旦"), ("2027-01-05", "班", "x"), ("2027-13-01", "休", "")])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    click(qtbot, button(page, "holiday-import"))
    qtbot.waitUntil(lambda: page.errors.isVisible(), timeout=10_000)
    assert [r[:3] for r in page.error_rows()] == [["3", "休/班", "班"], ["4", "日期", "2027-13-01"]]
    assert "没有导入任何数据" in page.status.text() and page.warning.isVisible()
    good = sheet(tmp_path / "good.xlsx", [("2027-01-01", "休", "元旦"), ("2027-02-06", "班", "春节")])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(good), ""))
    click(qtbot, button(page, "holiday-import"))
    qtbot.waitUntil(lambda: page.button(date(2027, 1, 1)).property("state") == "off", timeout=10_000)
    assert page.button(date(2027, 2, 6)).text() == "6班" and not page.errors.isVisible()
    assert page.status.text() == "已导入 2027 年节假日安排，共 2 天。" and not page.warning.isVisible()
    target = tmp_path / "模板.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    click(qtbot, button(page, "holiday-template"))
    assert target.exists() and page.status.text() == f"已保存模板：{target}"
    dialog.resize(1080, 760)
    page.grab().save(str(tmp_path / "holidays.png"))


def test_holidays_page_is_read_only_without_settings_permission(qtbot, sqlite_db, app_ctx, pm, config_dir, messages):
    from datetime import date

    with app_ctx.service() as s:
        street = create_area(s, "幸福街道", "street")
        auth.create_user(s, "wangwu", "王五", "wangwu123", street.id, ["grid_worker"])
    worker = auth.login(sqlite_db.session_factory, "wangwu", "wangwu123")
    d = make_dialog(qtbot, AppContext(sqlite_db.session_factory, worker, pm))
    page = d.open_page("holidays")
    assert not button(page, "holiday-import").isVisible() and button(page, "holiday-template").isVisible()
    click(qtbot, page.button(date(2026, 1, 5)))             # no dialog: a refusal in the status line
    assert page.status.text() == "您没有“修改系统设置与规则”权限，不能修改节假日安排。"
    assert QApplication.activeModalWidget() is None


def test_server_encryption_choice_is_kept_in_the_config_url(qtbot, sqlite_db, app_ctx, config_dir, messages,
                                                            monkeypatch, tmp_path):
    """设置 → 数据库 → 加密: the CA file goes into the saved URL as sslrootcert (→ verify-full),
    不加密 as sslmode=disable; reopening the page shows the choice again."""
    monkeypatch.setattr(database_page, "check_connection", lambda url: "PostgreSQL 16.4")
    monkeypatch.setattr(database_page, "store_password", lambda raw, pw: True)
    ca = tmp_path / "street-ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    changed: list[str] = []
    d = make_dialog(qtbot, app_ctx, changed)
    page = d.open_page("database")
    click(qtbot, page.use_pg)
    for edit, text in ((page.pg_host, "192.168.1.10"), (page.pg_db, "jiedao"), (page.pg_user, "clerk")):
        type_text(qtbot, edit, text)
    assert page.pg_tls.currentData() == "auto" and not page.pg_ca.isEnabled()
    page.pg_tls.setCurrentIndex(page.pg_tls.findData("verify"))
    assert page.pg_ca.isEnabled()
    click(qtbot, button(page, "db-save"))
    assert page.pg_form.error_text("ca_file").startswith("请选择管理员提供的 CA 文件") and not changed
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(ca), ""))
    click(qtbot, button(page, "db-ca-browse"))
    click(qtbot, button(page, "db-save"))
    qtbot.waitUntil(lambda: bool(changed), timeout=5000)
    saved = json.loads(config_path().read_text(encoding="utf-8"))["database"]
    assert make_url(saved).query == {"sslmode": "verify-full", "sslrootcert": str(ca.resolve())}

    again = make_dialog(qtbot, app_ctx, changed).open_page("database")
    assert again.pg_tls.currentData() == "verify" and again.pg_ca.text() == str(ca.resolve())
    again.pg_tls.setCurrentIndex(again.pg_tls.findData("off"))
    click(qtbot, button(again, "db-save"))
    qtbot.waitUntil(lambda: len(changed) == 2, timeout=5000)
    assert make_url(json.loads(config_path().read_text(encoding="utf-8"))["database"]).query == {"sslmode": "disable"}
