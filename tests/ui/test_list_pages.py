"""The shared list page (issue 17 §2) on the demo street, through the real widgets: the search and the
filters change the count; 导出 Excel writes exactly the filtered rows (checked against a count made
here from the tables with plain SQL), numbers as numbers, ID numbers masked, and one audit entry;
without ``core.data.export`` the buttons are hidden and the keys refused; 打印 shows the ledger PDF
in the preview with the same rows; column widths and the last filter come back for the same user
only; a grid worker's export holds only their grid."""
from __future__ import annotations

import dataclasses
import datetime as dt

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from sqlalchemy import text

from shell.core.database import open_database
from shell.testing import ALL_BUILTINS

PASSWORD = "demo1234"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, sqlite_templates):
    from shell.plugins import make_plugin_manager

    path = sqlite_templates.copy(tmp_path_factory.mktemp("list_pages") / "demo.sqlite", ALL_BUILTINS, demo=True)
    db = open_database(path, pm=make_plugin_manager(entry_points=False), backup=False)
    yield db
    db.dispose()


@pytest.fixture
def save_dialog(monkeypatch):
    """QFileDialog.getSaveFileName answers with ``answer["path"]``; the calls are recorded."""
    answer = {"path": "", "calls": []}

    def fake(parent, caption, start, filters):
        answer["calls"].append((caption, start, filters))
        return str(answer["path"]), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake)
    return answer


def app_for(demo, username, drop=()):
    from shell.core import auth
    from shell.core.context import AppContext
    from shell.plugins import make_plugin_manager

    pm = make_plugin_manager(entry_points=False)
    actor = auth.login(demo.session_factory, username, PASSWORD, labels=auth.collect_permissions(pm))
    if drop:
        actor = dataclasses.replace(actor, permissions=actor.permissions - set(drop))
    return AppContext(demo.session_factory, actor, plugin_manager=pm)


def residents(qtbot, demo, username="street_staff", drop=()):
    from plugins.grid.views.residents import ResidentsPage

    page = ResidentsPage(app_for(demo, username, drop))
    qtbot.addWidget(page)
    page.resize(1280, 720)
    page.show()
    settle(qtbot, page)
    return page


def settle(qtbot, page):
    qtbot.waitUntil(lambda: not page.model.counting, timeout=20000)


def search(qtbot, page, typed):
    page.search.setText(typed)
    page.search.flush()
    settle(qtbot, page)


def count_of(page) -> int:
    label = page.count_label.text()
    assert label.startswith("共 "), label
    return int(label.split()[1])


def sql(demo, statement, **params):
    with demo.engine.connect() as conn:
        return conn.execute(text(statement), params).all()


def area(demo, name):
    return sql(demo, "SELECT id, path FROM core_areas WHERE name = :n", n=name)[0]


def user_area(demo, username):
    return sql(demo, "SELECT a.id, a.path, a.name FROM core_users u JOIN core_areas a ON a.id = u.area_id "
                     "WHERE u.username = :u", u=username)[0]


def hand_persons(demo, part="", path="/", inactive=False):
    """(name, masked ID, birth date) of the residents a filter should show, by id, from the tables."""
    from reports.masking import mask_id

    rows = sql(demo, "SELECT p.name, p.id_number, p.birth_date FROM grid_persons p "
                     "JOIN core_areas a ON a.id = p.area_id WHERE a.path LIKE :path AND p.name LIKE :part"
                     + ("" if inactive else " AND p.status = 'active'") + " ORDER BY p.id",
               path=path + "%", part=f"%{part}%")
    return [(name, mask_id(number), dt.date.fromisoformat(str(born)[:10])) for name, number, born in rows]


def wait_task(qtbot, page):
    qtbot.waitUntil(lambda: page.task is not None and page.task.is_finished, timeout=60000)


def audit_rows(demo, entity):
    return sql(demo, "SELECT action, summary, actor_name FROM core_audit_log WHERE entity = :e ORDER BY id", e=entity)


def sheet_rows(path):
    ws = openpyxl.load_workbook(path).worksheets[0]
    rows = [tuple(c.value for c in row) for row in ws.iter_rows()]
    return rows[0], rows[1:]


def pdf_text(path) -> str:
    import pypdf

    return "\n".join(p.extract_text() for p in pypdf.PdfReader(str(path)).pages)


# --- 实有人口 -------------------------------------------------------------------------------------
def test_residents_search_and_filters_change_the_count(qtbot, demo):
    page = residents(qtbot, demo)
    assert count_of(page) == len(hand_persons(demo))
    search(qtbot, page, "王")
    assert count_of(page) == len(hand_persons(demo, "王")) < len(hand_persons(demo))
    community = area(demo, "和平里社区")
    page.tree.select(community.id)
    settle(qtbot, page)
    narrowed = hand_persons(demo, "王", community.path)
    assert count_of(page) == len(narrowed) < len(hand_persons(demo, "王"))
    assert [page.model.index(r, 0).data() for r in range(page.model.rowCount())] == [n for n, _i, _b in narrowed]
    # one of them moves away: gone from the list, back with 含已迁出
    from plugins.grid import services as svc

    with page.app_ctx.service() as ctx:
        svc.move_out(ctx, page.model.row_object(0).id, reason="迁往外省")
    page.page_refresh()       # F5
    settle(qtbot, page)
    assert count_of(page) == len(narrowed) - 1 == len(hand_persons(demo, "王", community.path))
    page.inactive.setChecked(True)
    settle(qtbot, page)
    assert count_of(page) == len(narrowed) == len(hand_persons(demo, "王", community.path, inactive=True))
    assert page.filters_text() == "搜索“王”；辖区：和平里社区；含已迁出、已故人员：含已迁出、已故人员"
    # Enter on a row opens the person, as a double-click does.
    page.table.setFocus()
    page.table.setCurrentIndex(page.model.index(0, 0))
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert page.dialog is not None and page.dialog.labels["name"].text() == page.model.index(0, 0).data()
    page.dialog.close()


def test_residents_export_holds_exactly_the_filtered_rows(qtbot, demo, save_dialog, tmp_path):
    page = residents(qtbot, demo)
    community = area(demo, "和平里社区")
    page.tree.select(community.id)
    search(qtbot, page, "王")
    expected = hand_persons(demo, "王", community.path)
    assert expected and count_of(page) == len(expected)
    before = len(audit_rows(demo, "grid.residents"))
    save_dialog["path"] = tmp_path / "实有人口.xlsx"
    assert not page.export_button.isHidden()
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    wait_task(qtbot, page)
    assert page.task.error is None
    header, rows = sheet_rows(tmp_path / "实有人口.xlsx")
    assert header == ("姓名", "性别", "出生日期", "公民身份号码", "联系电话", "类别", "现住址")
    assert [(r[0], r[3], r[2].date()) for r in rows] == expected
    assert all(isinstance(r[2], dt.datetime) for r in rows)            # a date cell, not text
    assert all("*" in r[3] for r in rows) and all(r[4] is None or "****" in r[4] for r in rows)
    notes = openpyxl.load_workbook(tmp_path / "实有人口.xlsx")["说明"]
    assert ("筛选条件", "搜索“王”；辖区：和平里社区") in [tuple(c.value for c in row) for row in notes.iter_rows()]
    entries = audit_rows(demo, "grid.residents")[before:]
    assert len(entries) == 1
    action, summary, who = entries[0]
    assert action == "export" and who == page.app_ctx.actor.display_name
    assert f"“实有人口”{len(expected)} 行" in summary and "搜索“王”；辖区：和平里社区" in summary
    assert not page.saved_notice.isHidden() and f"已导出 {len(expected)} 人" in page.saved_notice.label.text()


def test_residents_print_previews_the_filtered_rows(qtbot, demo):
    page = residents(qtbot, demo)
    community = area(demo, "和平里社区")
    page.tree.select(community.id)
    search(qtbot, page, "王")
    expected = hand_persons(demo, "王", community.path)
    assert expected
    before = len(audit_rows(demo, "grid.residents"))
    qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    wait_task(qtbot, page)
    dialog = page.preview_dialog
    assert dialog is not None and dialog.isVisible() and dialog.preview.page_count() >= 1
    printed = pdf_text(dialog.preview.path)
    assert "实有人口" in printed and "筛选：搜索“王”；辖区：和平里社区" in printed
    for name, masked, _born in expected:
        assert name in printed and masked in printed
    assert f"{len(expected)} 人" in printed
    assert audit_rows(demo, "grid.residents")[before:][0][0] == "print"
    dialog.close()


def test_residents_without_export_right_have_no_export(qtbot, demo, save_dialog, tmp_path):
    from shell.core.list_output import export_list
    from shell.errors import PermissionDenied

    page = residents(qtbot, demo, "grid_worker", drop={"core.data.export"})
    assert page.export_button.isHidden() and page.print_button.isHidden()
    save_dialog["path"] = tmp_path / "x.xlsx"
    page.page_export()          # what Ctrl+E calls
    page.page_print()           # Ctrl+P
    assert save_dialog["calls"] == [] and page.task is None and not (tmp_path / "x.xlsx").exists()
    assert "没有“导出数据到 Excel”的权限" in page.message.text() and not page.message.isHidden()
    with page.app_ctx.service() as ctx, pytest.raises(PermissionDenied):   # the service refuses too
        export_list(ctx, page.list_request(), tmp_path / "x.xlsx")


def test_grid_worker_exports_only_their_grid_masked(qtbot, demo, save_dialog, tmp_path):
    page = residents(qtbot, demo, "grid_worker")
    grid = user_area(demo, "grid_worker")
    assert not page.export_button.isHidden()          # the role template gives lists' export and print
    save_dialog["path"] = tmp_path / "grid.xlsx"
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    wait_task(qtbot, page)
    _header, rows = sheet_rows(tmp_path / "grid.xlsx")
    assert [(r[0], r[3], r[2].date()) for r in rows] == hand_persons(demo, "", grid.path)
    assert 0 < len(rows) < len(hand_persons(demo)) and all("**********" in r[3] for r in rows)


def test_residents_remember_widths_and_filter_per_user(qtbot, demo):
    page = residents(qtbot, demo)
    community = area(demo, "和平里社区")
    page.tree.select(community.id)
    search(qtbot, page, "李")
    page.table.horizontalHeader().resizeSection(0, 157)
    qtbot.waitUntil(lambda: page._prefs.get("list.grid.residents").get("widths", [0])[0] == 157, timeout=3000)
    shown = count_of(page)
    page.close()
    again = residents(qtbot, demo)
    assert again.search.text() == "李" and again.tree.area().id == community.id
    assert again.table.horizontalHeader().sectionSize(0) == 157
    assert count_of(again) == shown == len(hand_persons(demo, "李", community.path))
    other = residents(qtbot, demo, "community_staff")
    assert other.search.text() == "" and other.table.horizontalHeader().sectionSize(0) == 90
    assert count_of(other) == len(hand_persons(demo, "", user_area(demo, "community_staff").path))


# --- 志愿者 ----------------------------------------------------------------------------------------
def volunteers(qtbot, demo, username="street_staff", drop=()):
    from plugins.volunteer.views.volunteers import VolunteersPage

    page = VolunteersPage(app_for(demo, username, drop))
    qtbot.addWidget(page)
    page.resize(1400, 720)
    page.show()
    settle(qtbot, page)
    return page


def hand_volunteers(demo, path="/", active=None, part=""):
    """(编号, masked ID, hours, points) of the volunteers a filter should show, by id."""
    from reports.masking import mask_id

    rows = sql(demo, "SELECT v.number, v.id_number, COALESCE(acc.approved_minutes, 0), COALESCE(acc.points_balance, 0) "
                     "FROM volunteer_volunteers v JOIN core_areas a ON a.id = v.area_id "
                     "LEFT JOIN volunteer_accounts acc ON acc.volunteer_id = v.id "
                     "WHERE a.path LIKE :path AND v.name LIKE :part"
                     + ("" if active is None else f" AND v.active = {1 if active else 0}") + " ORDER BY v.id",
               path=path + "%", part=f"%{part}%")
    return [(number, mask_id(idn), round(minutes / 60, 2), points) for number, idn, minutes, points in rows]


def choose(box, text_):
    box.setCurrentIndex(box.findText(text_))


def test_volunteers_search_and_filters_change_the_count(qtbot, demo):
    page = volunteers(qtbot, demo)
    assert count_of(page) == len(hand_volunteers(demo)) and page.count_label.text().endswith("名志愿者")
    community = area(demo, "和平里社区")
    choose(page.community_filter, "和平里社区")
    settle(qtbot, page)
    in_community = hand_volunteers(demo, community.path)
    assert 0 < count_of(page) == len(in_community) < len(hand_volunteers(demo))
    # one of them stops: 状态 在册 leaves them out, 已停用 shows only them
    from plugins.volunteer import services as vsvc

    first = page.model.row_object(0)[0]
    with app_for(demo, "volunteer_admin").service() as ctx:      # the volunteer line's clerk does it
        vsvc.set_active(ctx, first.id, False, "迁出本街道")
    choose(page.status_filter, "在册")
    settle(qtbot, page)
    assert count_of(page) == len(in_community) - 1 == len(hand_volunteers(demo, community.path, active=True))
    choose(page.status_filter, "已停用")
    settle(qtbot, page)
    assert [page.model.row_object(r)[0].id for r in range(page.model.rowCount())] == [first.id]
    assert page.filters_text() == "社区：和平里社区；状态：已停用"
    choose(page.status_filter, "全部")
    search(qtbot, page, "李")
    assert count_of(page) == len(hand_volunteers(demo, community.path, part="李"))


def test_volunteers_export_numbers_as_numbers_and_print(qtbot, demo, save_dialog, tmp_path):
    page = volunteers(qtbot, demo)
    community = area(demo, "幸福苑社区")
    choose(page.community_filter, "幸福苑社区")
    choose(page.status_filter, "在册")
    settle(qtbot, page)
    expected = hand_volunteers(demo, community.path, active=True)
    assert expected and count_of(page) == len(expected)
    before = len(audit_rows(demo, "volunteer.volunteers"))
    save_dialog["path"] = tmp_path / "志愿者.xlsx"
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    wait_task(qtbot, page)
    header, rows = sheet_rows(tmp_path / "志愿者.xlsx")
    assert header == ("志愿者编号", "姓名", "社区", "公民身份号码", "联系电话", "星级", "时长/小时", "积分")
    assert [(r[0], r[3], r[6], r[7]) for r in rows] == expected
    assert all(isinstance(r[7], int) and isinstance(r[6], (int, float)) for r in rows)   # numbers, not text
    assert any(r[6] for r in rows) and any(r[7] for r in rows)
    assert {r[2] for r in rows} == {"幸福苑社区"}
    (action, summary, _who), = audit_rows(demo, "volunteer.volunteers")[before:]
    assert action == "export" and f"{len(expected)} 行" in summary and "社区：幸福苑社区；状态：在册" in summary
    # 打印: the same rows in the ledger, masked, with the filter named
    qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    wait_task(qtbot, page)
    printed = pdf_text(page.preview_dialog.preview.path)
    assert "志愿者名册" in printed and "筛选：社区：幸福苑社区；状态：在册" in printed
    for number, masked, _hours, _points in expected:
        assert number in printed and masked in printed
    page.preview_dialog.close()


def test_volunteers_hidden_export_for_a_role_without_it(qtbot, demo, save_dialog, tmp_path):
    page = volunteers(qtbot, demo, "volunteer_admin")       # the volunteer line's clerk: no export right
    assert not page.app_ctx.actor.can("core.data.export")
    assert page.export_button.isHidden() and page.print_button.isHidden()
    assert count_of(page) > 0
    page.page_export()
    assert save_dialog["calls"] == [] and page.task is None


def test_volunteers_remember_filter_per_user(qtbot, demo):
    page = volunteers(qtbot, demo)
    choose(page.community_filter, "东湖社区")
    choose(page.status_filter, "在册")
    settle(qtbot, page)
    page.table.horizontalHeader().resizeSection(1, 171)
    qtbot.waitUntil(lambda: page._prefs.get("list.volunteer.volunteers").get("widths", [0, 0])[1] == 171,
                    timeout=3000)
    page.close()
    again = volunteers(qtbot, demo)
    assert again.community_filter.currentText() == "东湖社区" and again.status_filter.currentText() == "在册"
    assert again.table.horizontalHeader().sectionSize(1) == 171
    assert count_of(again) == len(hand_volunteers(demo, area(demo, "东湖社区").path, active=True))
    other = volunteers(qtbot, demo, "community_staff")
    assert other.status_filter.currentText() == "全部" and other.table.horizontalHeader().sectionSize(1) == 110


# --- the filter helpers ---------------------------------------------------------------------------
def born_page(qtbot, demo, username="street_staff"):
    """A list page built in the test over the resident listing, narrowed by a 出生日期 range and a
    类别 box — the helpers every page has, apart from the two pages above."""
    from plugins.grid import services as svc
    from plugins.grid.models import Person
    from plugins.grid.views.residents import RESIDENT_COLUMNS
    from shell.core.listing import Listing
    from shell.ui.widgets.list_page import ListPage

    class BornPage(ListPage):
        def __init__(self, app_ctx):
            super().__init__(app_ctx, "test.born", "按出生日期", RESIDENT_COLUMNS, count_unit="人")
            self.born, self.born_from, self.born_to = self.add_date_range("born", "出生日期")
            self.kind = self.add_choice_filter("kind", "类别", [("户籍人口", "registered"), ("流动人口", "floating")])
            self.start()

        def build_listing(self, text_):
            q = svc.persons_listing(self.app_ctx.actor, text_).query
            born = self.filter_value("born")
            if born:
                q = q.where(Person.birth_date.between(dt.date.fromisoformat(born[0]), dt.date.fromisoformat(born[1])))
            if self.filter_value("kind"):
                q = q.where(Person.kind == self.filter_value("kind"))
            return Listing(q, Person.id)

    page = BornPage(app_for(demo, username))
    qtbot.addWidget(page)
    page.show()
    settle(qtbot, page)
    return page


def test_date_range_and_choice_filters_narrow_say_and_come_back(qtbot, demo):
    from PySide6.QtCore import QDate

    page = born_page(qtbot, demo)
    everyone = len(hand_persons(demo))
    assert count_of(page) == everyone and not page.born_from.isEnabled() and page.filters_text() == ""
    page.born.setChecked(True)
    page.born_from.setDate(QDate(1980, 1, 1))
    page.born_to.setDate(QDate(1989, 12, 31))
    settle(qtbot, page)
    eighties = [p for p in hand_persons(demo) if dt.date(1980, 1, 1) <= p[2] <= dt.date(1989, 12, 31)]
    assert 0 < count_of(page) == len(eighties) < everyone
    assert page.filters_text() == "出生日期：1980-01-01 至 1989-12-31"
    choose(page.kind, "流动人口")
    settle(qtbot, page)
    floating = sql(demo, "SELECT COUNT(*) FROM grid_persons WHERE status = 'active' AND kind = 'floating' "
                         "AND birth_date BETWEEN '1980-01-01' AND '1989-12-31'")[0][0]
    assert count_of(page) == floating < len(eighties)
    assert page.filters_text() == "出生日期：1980-01-01 至 1989-12-31；类别：流动人口"
    page.close()
    again = born_page(qtbot, demo)
    assert again.filters_text() == "出生日期：1980-01-01 至 1989-12-31；类别：流动人口" and count_of(again) == floating
    again.clear_filters()
    settle(qtbot, again)
    assert again.filters_text() == "" and count_of(again) == everyone and not again.born.isChecked()


def test_a_damaged_prefs_file_gives_the_defaults(qtbot, demo):
    from shell.config import UserPrefs

    prefs = UserPrefs("street_staff")
    prefs.path.parent.mkdir(parents=True, exist_ok=True)
    prefs.path.write_text("{not json", encoding="utf-8")
    page = residents(qtbot, demo)
    assert page.search.text() == "" and count_of(page) == len(hand_persons(demo))
    search(qtbot, page, "李")          # and the next change writes a good file again
    assert UserPrefs("street_staff").get("list.grid.residents")["text"] == "李"


def test_the_main_windows_keys_reach_the_list_page(qtbot, demo, save_dialog, tmp_path):
    """Ctrl+E / Ctrl+P / Ctrl+N / Ctrl+F in the main window act on the open list page."""
    from shell.plugins import make_plugin_manager
    from tests.ui.test_main_window import window_for

    window = window_for(qtbot, demo, "grid_worker", PASSWORD, pm=make_plugin_manager(entry_points=False))
    window.open_page("grid.residents")
    qtbot.waitUntil(lambda: window.current_page() is not None
                    and window.current_page().objectName() == "grid-residents", timeout=20000)
    page = window.current_page()
    settle(qtbot, page)
    save_dialog["path"] = tmp_path / "keys.xlsx"
    window.page_actions["page_export"].trigger()
    wait_task(qtbot, page)
    assert (tmp_path / "keys.xlsx").exists() and page.task.error is None
    window.page_actions["page_print"].trigger()
    qtbot.waitUntil(lambda: page.task.is_finished and page.preview_dialog is not None, timeout=60000)
    assert page.preview_dialog.isVisible()
    page.preview_dialog.close()
    window.page_actions["page_new"].trigger()
    assert page.dialog is not None and page.dialog.objectName() == "grid-person-dialog"
    page.dialog.close()


def test_an_export_that_cannot_be_saved_says_so_in_chinese(qtbot, demo, save_dialog, tmp_path):
    page = residents(qtbot, demo, "grid_worker")
    save_dialog["path"] = tmp_path / "没有这个文件夹" / "x.xlsx"
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    wait_task(qtbot, page)
    assert not page.message.isHidden() and page.saved_notice.isHidden()
    assert page.message.text().startswith("导出 Excel 失败：无法保存到“") and "换一个文件夹" in page.message.text()
    assert list(tmp_path.iterdir()) == []
