"""数据导入导出 in the desktop: a clean file imports; a file with bad rows writes nothing and lists
every bad row; the right rows can then be imported on purpose; export and template; the page offers
only what the user's permissions allow."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from sqlalchemy import func, select, text

from shell.config import LocalConfig
from shell.core import auth
from shell.core.context import AppContext
from shell.core.models import AuditLog
from shell.ui.import_centre import ImportCentrePage
from shell.ui.main_window import MainWindow
from tests.ui import plugins_with_testplugin


def page_for(qtbot, db, username):
    pm = plugins_with_testplugin()
    actor = auth.login(db.session_factory, username, "demo1234", labels=auth.collect_permissions(pm))
    page = ImportCentrePage(AppContext(db.session_factory, actor, plugin_manager=pm))
    qtbot.addWidget(page)
    page.resize(1100, 640)
    page.show()
    return page


def notes(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM testplug_notes")).scalar()


def write_csv(path, lines):
    path.write_text("\n".join(["辖区编码,标题"] + lines) + "\n", encoding="utf-8")
    return path


def wait_done(qtbot, page):
    qtbot.waitUntil(lambda: page.task is not None and page.task.is_finished, timeout=20000)


def test_bad_rows_are_listed_and_nothing_is_written_then_the_right_rows_on_purpose(qtbot, demo_db, tmp_path,
                                                                                   monkeypatch):
    page = page_for(qtbot, demo_db, "admin")
    assert page.kind_titles() == ["测试便签"]
    assert "辖区编码、标题" in page.columns_label.text()
    before = notes(demo_db)
    bad = write_csv(tmp_path / "便签.csv", ["330102001001,好的一行", "999,找不到", "330102001002,", "330102001001,又一行"])
    page.choose_and_import(bad)
    wait_done(qtbot, page)
    assert notes(demo_db) == before
    assert "有 2 处错误" in page.status.text() and "没有导入任何数据" in page.status.text()
    rows = page.error_rows()
    shown = page.errors.model()
    assert [shown.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == ["行", "列", "值", "问题"]
    assert [shown.index(0, c).data() for c in range(4)] == rows[0]   # what the view draws
    assert rows[0][:3] == ["3", "辖区编码", "999"] and "找不到这个辖区编码" in rows[0][3]
    assert rows[1][:2] == ["4", "标题"] and "标题不能为空" in rows[1][3]
    assert page.valid_only_button.isVisible() and page.valid_only_button.text() == "只导入正确的 2 行…"
    page.grab().save(str(tmp_path / "import-errors.png"))

    monkeypatch.setattr("shell.ui.import_centre.confirm", lambda *a, **k: True)
    qtbot.mouseClick(page.valid_only_button, Qt.MouseButton.LeftButton)
    wait_done(qtbot, page)
    assert notes(demo_db) == before + 2
    assert "已导入“便签.csv”中正确的 2 行" in page.status.text()
    with demo_db.session_factory() as s:
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "import")).one()
        assert entry.actor_name == "管理员" and "跳过 2 处错误" in entry.summary


def test_clean_file_imports_and_export_writes_every_row(qtbot, demo_db, tmp_path):
    page = page_for(qtbot, demo_db, "admin")
    before = notes(demo_db)
    page.choose_and_import(write_csv(tmp_path / "好.csv", ["330102001001,一", "330102001002,二"]))
    wait_done(qtbot, page)
    assert page.status.text() == "已导入“好.csv”：共 2 行，写入 2 行。"
    assert page.open_folder_button.isHidden()  # nothing was saved
    assert not page.errors.isVisible() and not page.valid_only_button.isVisible()
    out = tmp_path / "导出.csv"
    page.choose_and_export(out)
    wait_done(qtbot, page)
    assert page.status.text() == f"已导出 {before + 2} 行到 {out}。"
    assert out.exists()
    assert not page.open_folder_button.isHidden() and page.saved_path == out  # 打开所在文件夹 (#17 §3)
    with demo_db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "export")) == 1


def test_only_what_the_permissions_allow(qtbot, demo_db):
    page = page_for(qtbot, demo_db, "street_staff")
    assert page.kind_titles() == []
    assert page.empty_label is not None and "没有可以导入或导出的数据" in page.empty_label.text()


def test_the_page_is_in_the_main_window(qtbot, demo_db):
    pm = plugins_with_testplugin()
    actor = auth.login(demo_db.session_factory, "admin", "demo1234", labels=auth.collect_permissions(pm))
    window = MainWindow(AppContext(demo_db.session_factory, actor, plugin_manager=pm), LocalConfig(), demo_db)
    qtbot.addWidget(window)
    assert "数据导入导出" in window.nav_titles()
    # The shell's own pages come under a 通用 heading, which is a landmark, not a page.
    assert window.nav_groups()[-1] == "通用" and "通用" not in window.nav_titles()
    header = next(window.nav.item(i) for i in range(window.nav.count()) if window.nav.item(i).text() == "通用")
    assert not header.flags() & Qt.ItemFlag.ItemIsSelectable
    page = window.open_page("imports")
    assert isinstance(page, ImportCentrePage) and page.kind_titles() == ["测试便签"]
    window.close()


def test_export_needs_the_export_right(qtbot, demo_db):
    from shell.core.context import Actor

    clerk = Actor(user_id=None, username="clerk", display_name="录入员", permissions=frozenset({"testplug.edit"}),
                  scope_paths=("/",))  # may import the test notes, may not take data away
    page = ImportCentrePage(AppContext(demo_db.session_factory, clerk, plugin_manager=plugins_with_testplugin()))
    qtbot.addWidget(page)
    assert page.kind_titles() == ["测试便签"]
    assert page.import_button.isEnabled() and not page.export_button.isEnabled()
    assert "导出数据到 Excel" in page.export_button.toolTip()


def test_cancel_rolls_the_whole_file_back(qtbot, demo_db, tmp_path):
    import dataclasses
    import threading

    page = page_for(qtbot, demo_db, "admin")
    kind = page.kinds.currentItem().data(Qt.ItemDataRole.UserRole)
    real = page.definitions[kind]
    written, release = threading.Event(), threading.Event()

    def slow_import(ctx, path, valid_only):
        result = real.import_fn(ctx, path, valid_only)   # the rows are in the transaction now …
        written.set()
        release.wait(10)                                 # … while the user presses 取消
        return result

    page.definitions[kind] = dataclasses.replace(real, import_fn=slow_import)
    before = notes(demo_db)
    page.choose_and_import(write_csv(tmp_path / "好.csv", ["330102001001,一", "330102001002,二"]))
    assert written.wait(10)
    page.task.cancel()
    release.set()
    wait_done(qtbot, page)
    assert page.task.was_cancelled
    assert notes(demo_db) == before
    assert page.status.text() == "已取消导入“好.csv”，没有写入任何数据。"


def test_ten_thousand_bad_rows_show_without_building_a_widget_per_cell(qtbot, demo_db):
    from shell.contracts import ImportResult, RowError

    page = page_for(qtbot, demo_db, "admin")
    errors = [RowError(row=r + 2, column="标题", value="", reason="标题不能为空") for r in range(10_000)]
    page._imported(ImportResult(total_rows=10_000, valid_rows=0, written=0, errors=errors), Path("很多错误.xlsx"), False)
    assert page.errors.model().rowCount() == 10_000 and page.errors.isVisible()
    assert page.error_rows()[-1] == ["10001", "标题", "", "标题不能为空"]
