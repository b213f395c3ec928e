"""The report centre: reports listed by permission, the parameter form, generation on a background
thread with progress and 取消, the PDF preview with print, save as PDF and export to Excel."""
from __future__ import annotations

import shutil
import threading
import types

import openpyxl
import pypdf
import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog, QPushButton
from sqlalchemy import func, select

import tests.testplugin
from shell import hookimpl
from shell.clock import local_today
from shell.config import LocalConfig
from shell.contracts import PluginInfo, ReportDefinition, ReportParameter
from shell.core import auth
from shell.core.context import AppContext
from shell.core.database import open_database
from shell.core.demo import DEFAULT_PASSWORD
from shell.plugins import make_plugin_manager
from shell.ui.pdf_preview import PdfPreview
from shell.ui.report_centre import ReportCentrePage
from tests.testplugin import Note

TASK_TIMEOUT = 30000
RARE = "\U00020000"  # CJK Extension B: not in the common Chinese fonts


# --- an ad-hoc plugin with a long, a multi-page and a rare-character report -----------------------------
class Gate:
    """The long report's rows stop at row 1,000 until the test opens the gate (after pressing 取消)."""

    def __init__(self):
        self.reached = threading.Event()
        self.open = threading.Event()


GATE = Gate()


def _long_rows():
    for i in range(20000):
        if i == 1000:
            GATE.reached.set()
            GATE.open.wait(10)
        yield (i + 1, f"第{i + 1}条长台账记录")


def _ledger(title, rows):
    from reports import Column, LedgerSpec

    return LedgerSpec(title=title, unit_name="测试街道办事处", period="2026年",
                      columns=[Column("序号", 20, align="right"), Column("内容", "*")], rows=rows)


adhoc = types.ModuleType("adhoc")


@hookimpl
def _plugin_info():
    return PluginInfo(name="adhoc", title="临时插件", version="1.0")


@hookimpl
def _register_reports():
    return [
        ReportDefinition(id="adhoc.long", title="两万行长台账", category="压力测试",
                         builder=lambda ctx, params: _ledger("两万行长台账", _long_rows())),
        ReportDefinition(id="adhoc.pages", title="多页台账", category="压力测试",
                         builder=lambda ctx, params: _ledger("多页台账", ((i, f"记录{i}") for i in range(1, 201)))),
        ReportDefinition(id="adhoc.rare", title="生僻字台账",
                         builder=lambda ctx, params: _ledger("生僻字台账", iter([(1, f"张{RARE}")]))),
        ReportDefinition(id="adhoc.params", title="带参数的台账",
                         parameters=(ReportParameter("who", "填表人"),),
                         builder=lambda ctx, params: _ledger("带参数的台账", iter([(1, params["who"])]))),
    ]


adhoc.plugin_info = _plugin_info
adhoc.register_reports = _register_reports


def plugins(with_adhoc=False):
    extra = [tests.testplugin] + ([adhoc] if with_adhoc else [])
    return make_plugin_manager((), builtins=(), extra=extra, entry_points=False)


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def drain_pool():
    yield
    GATE.open.set()
    QThreadPool.globalInstance().waitForDone(10000)


@pytest.fixture
def demo_db(demo_template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    db = open_database(path, pm=plugins(with_adhoc=True), backup=False)
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


def make_page(qtbot, db, username, with_adhoc=False, extras=None) -> ReportCentrePage:
    pm = plugins(with_adhoc)
    actor = auth.login(db.session_factory, username, DEFAULT_PASSWORD, labels=auth.collect_permissions(pm))
    ctx = AppContext(db.session_factory, actor, plugin_manager=pm, extras=dict(extras or {}))
    page = ReportCentrePage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.show()
    qtbot.waitExposed(page)
    return page


def click(qtbot, button):
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_report(qtbot, page, title):
    item = next(i for i in page._report_items() if i.text(0) == title)
    page.tree.scrollToItem(item)
    rect = page.tree.visualItemRect(item)
    qtbot.mouseClick(page.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.title_label.text() == title


def wait_task(qtbot, page):
    qtbot.waitUntil(lambda: page.task is not None and page.task.is_finished, timeout=TASK_TIMEOUT)
    return page.task


def note_count(db):
    with db.session_factory() as s:
        return s.scalar(select(func.count()).select_from(Note))


# --- listing ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["admin", "grid_worker"])
def test_lists_the_test_report_for_users_with_the_permission(qtbot, demo_db, username):
    page = make_page(qtbot, demo_db, username)
    assert page.empty_label is None
    # The audit log only for those who may read it (the administrator), after the plugins' reports.
    audit = ["审计日志"] if username == "admin" else []
    assert page.report_titles() == ["测试便签台账"] + audit
    assert page.tree.topLevelItem(0).text(0) == "测试插件"     # grouped by the plugin's title
    assert [page.tree.topLevelItem(i).text(0) for i in range(1, page.tree.topLevelItemCount())] == (
        ["系统"] if audit else [])
    assert page.splitter.isVisible()


def test_street_staff_sees_the_empty_state(qtbot, demo_db):
    page = make_page(qtbot, demo_db, "street_staff")
    assert page.report_titles() == []
    assert page.empty_label is not None and page.empty_label.isVisible()
    assert "没有可以生成的报表" in page.empty_label.text()
    assert "系统管理员" in page.empty_label.text()
    assert not page.splitter.isVisible()


def test_tree_groups_by_plugin_and_category_and_filters(qtbot, demo_db):
    page = make_page(qtbot, demo_db, "admin", with_adhoc=True)
    tops = [page.tree.topLevelItem(i).text(0) for i in range(page.tree.topLevelItemCount())]
    assert tops == ["测试插件", "临时插件", "系统"]
    adhoc_top = page.tree.topLevelItem(1)
    children = [adhoc_top.child(i).text(0) for i in range(adhoc_top.childCount())]
    assert "压力测试" in children                               # the category node
    page.filter_edit.insert("多页")   # as typed (QTest cannot type Chinese key by key)
    assert page.report_titles() == ["多页台账"]
    page.filter_edit.clear()
    qtbot.keyClicks(page.filter_edit, "pages")                  # the report id matches too
    assert page.report_titles() == ["多页台账"]
    page.filter_edit.clear()
    page.filter_edit.insert("没有这种报表")
    assert page.report_titles() == []
    assert page.no_match_label.isVisible() and "没有这种报表" in page.no_match_label.text()
    page.filter_edit.clear()
    assert len(page.report_titles()) == 6


# --- the form --------------------------------------------------------------------------------------
def test_selecting_the_report_shows_the_year_field_with_its_default(qtbot, demo_db):
    page = make_page(qtbot, demo_db, "admin", with_adhoc=True)
    click_report(qtbot, page, "多页台账")
    assert page.no_params_label.isVisible()
    click_report(qtbot, page, "测试便签台账")
    assert page.subtitle_label.text() == "测试插件"
    label = page.form.labels["year"]
    assert label.isVisible() and label.text().startswith("年度") and "*" in label.text()   # required mark
    year = page.editor("year")
    assert year.isVisible() and year.value() == 2026 and year.text() == "2026 年"
    assert page.raw_values() == {"year": "2026"}


def test_bad_year_is_shown_next_to_the_field(qtbot, demo_db):
    page = make_page(qtbot, demo_db, "admin")
    year = page.editor("year")
    year.setValue(1900)
    click(qtbot, page.generate_button)
    message = page.form.error_text("year")
    assert "年度" in message and "1900" in message and "2026" in message
    assert page.form.errors["year"].isVisible()
    assert page.task is None and page.preview.page_count() == 0   # nothing was started


def test_required_text_parameter_left_empty(qtbot, demo_db, save_dialog, tmp_path):
    page = make_page(qtbot, demo_db, "admin", with_adhoc=True)
    click_report(qtbot, page, "带参数的台账")
    save_dialog["path"] = tmp_path / "x.xlsx"
    click(qtbot, page.export_button)
    assert page.form.error_text("who") == "请填写报表参数“填表人”（who）。"
    assert save_dialog["calls"] == []              # the file dialog is not even opened
    page.editor("who").insert("赵便签")
    click(qtbot, page.export_button)
    wait_task(qtbot, page)
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert "赵便签" in [c.value for row in ws.iter_rows() for c in row]


# --- generation --------------------------------------------------------------------------------------
def test_generate_and_preview(qtbot, demo_db):
    page = make_page(qtbot, demo_db, "admin")
    click(qtbot, page.generate_button)
    task = wait_task(qtbot, page)
    assert task.error is None and not task.was_cancelled
    rows = note_count(demo_db)
    assert page.preview.page_count() == 1
    assert "共 1 页" in page.preview.page_label.text() and page.preview.page_label.isVisible()
    assert page.status_label.isVisible()
    assert page.status_label.text() == f"已生成“测试便签台账”：共 1 页，{rows} 行。"
    assert not page.warning_label.isVisible() and not page.error_label.isVisible()
    assert page.preview.print_button.isEnabled() and page.preview.save_button.isEnabled()
    # Generating again replaces the preview and leaves one temporary file.
    click(qtbot, page.generate_button)
    qtbot.waitUntil(lambda: page.task is not task and page.task.is_finished, timeout=TASK_TIMEOUT)
    assert page.preview.page_count() == 1
    assert len(list(page.preview.path.parent.glob("preview-*.pdf"))) == 1


def test_grid_worker_report_holds_only_their_grid(qtbot, demo_db):
    page = make_page(qtbot, demo_db, "grid_worker")
    click(qtbot, page.generate_button)
    wait_task(qtbot, page)
    status = page.status_label.text()
    assert status.startswith("已生成“测试便签台账”：共 1 页，")
    shown = int(status.split("，")[1].rstrip(" 行。"))
    assert 0 < shown < note_count(demo_db)


def test_missing_characters_are_warned_about(qtbot, demo_db):
    page = make_page(qtbot, demo_db, "admin", with_adhoc=True)
    click_report(qtbot, page, "生僻字台账")
    click(qtbot, page.generate_button)
    wait_task(qtbot, page)
    assert page.preview.page_count() == 1
    assert page.warning_label.isVisible()
    assert f"以下字符字体中没有，打印为空白：{RARE}" in page.warning_label.text()


def test_font_not_found_says_what_to_do(qtbot, demo_db, tmp_path):
    config = LocalConfig()
    config.font_path = str(tmp_path / "no-such-font.ttf")
    page = make_page(qtbot, demo_db, "admin", extras={"config": config})
    click(qtbot, page.generate_button)
    task = wait_task(qtbot, page)
    assert type(task.error).__name__ == "FontNotFound"
    text = page.error_label.text()
    assert page.error_label.isVisible()
    assert "缺少中文字体" in text and "不可用" in text
    assert "设置 → 报表 → 中文字体" in text and "simsun.ttc" in text      # where to fix it, with what
    assert page.preview.page_count() == 0


def test_export_to_excel(qtbot, demo_db, save_dialog, tmp_path):
    page = make_page(qtbot, demo_db, "admin")
    save_dialog["path"] = tmp_path / "便签"                     # the suffix is added
    click(qtbot, page.export_button)
    task = wait_task(qtbot, page)
    assert task.error is None
    caption, start, filters = save_dialog["calls"][0]
    assert caption == "导出 Excel" and "*.xlsx" in filters
    assert start.endswith(f"测试便签台账-{local_today().isoformat()}.xlsx")
    out = tmp_path / "便签.xlsx"
    rows = note_count(demo_db)
    assert page.status_label.text() == f"已导出 Excel（共 {rows} 行）：{out}"
    ws = openpyxl.load_workbook(out).active
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "编号" in values and "标题" in values
    assert sum(1 for v in values if isinstance(v, str) and "便签" in v and "网格" in v) == rows


def test_save_as_pdf(qtbot, demo_db, save_dialog, tmp_path):
    page = make_page(qtbot, demo_db, "admin")
    save_dialog["path"] = tmp_path / "台账.pdf"
    click(qtbot, page.save_pdf_button)
    wait_task(qtbot, page)
    assert save_dialog["calls"][0][1].endswith(f"测试便签台账-{local_today().isoformat()}.pdf")
    reader = pypdf.PdfReader(tmp_path / "台账.pdf")
    assert len(reader.pages) == 1
    assert "测试便签台账" in reader.pages[0].extract_text()
    assert page.status_label.text().startswith("已保存 PDF（共 1 页，")


def test_preview_save_as_copies_the_previewed_pdf(qtbot, demo_db, save_dialog, tmp_path):
    page = make_page(qtbot, demo_db, "admin")
    click(qtbot, page.generate_button)
    wait_task(qtbot, page)
    save_dialog["path"] = tmp_path / "预览副本.pdf"
    with qtbot.waitSignal(page.preview.saved):
        click(qtbot, page.preview.save_button)
    assert (tmp_path / "预览副本.pdf").read_bytes() == page.preview.path.read_bytes()
    assert save_dialog["calls"][0][1].endswith(f"测试便签台账-{local_today().isoformat()}.pdf")


def test_cancelling_a_long_report_leaves_no_file(qtbot, demo_db, save_dialog, tmp_path):
    GATE.reached.clear()
    GATE.open.clear()
    page = make_page(qtbot, demo_db, "admin", with_adhoc=True)
    click_report(qtbot, page, "两万行长台账")
    out = tmp_path / "long.pdf"
    save_dialog["path"] = out
    click(qtbot, page.save_pdf_button)
    task = page.task
    # The first progress reached the dialog (the page count so far), and the dialog is up.
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.labelText().startswith("正在排版")
                    and task.dialog.isVisible(), timeout=TASK_TIMEOUT)
    assert "页" in task.dialog.labelText()
    assert not page.generate_button.isEnabled()          # no second run while one is going
    cancel = next(b for b in task.dialog.findChildren(QPushButton) if b.text() == "取消")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    GATE.open.set()
    wait_task(qtbot, page)
    assert task.was_cancelled and task.error is None
    assert not out.exists()
    assert list(tmp_path.glob("*long*")) == []           # no partial file either
    assert page.status_label.text() == "已取消生成，未保存任何文件。"
    assert page.generate_button.isEnabled()


# --- the preview ----------------------------------------------------------------------------------------
def test_preview_navigation_and_zoom(qtbot, demo_db):
    page = make_page(qtbot, demo_db, "admin", with_adhoc=True)
    click_report(qtbot, page, "多页台账")
    click(qtbot, page.generate_button)
    wait_task(qtbot, page)
    preview: PdfPreview = page.preview
    n = preview.page_count()
    assert n > 2
    assert preview.page_label.text() == f"第 1 / {n} 页（共 {n} 页）"
    assert not preview.prev_button.isEnabled()
    click(qtbot, preview.next_button)
    qtbot.waitUntil(lambda: preview.current_page() == 2)
    assert preview.page_label.text() == f"第 2 / {n} 页（共 {n} 页）"
    click(qtbot, preview.prev_button)
    qtbot.waitUntil(lambda: preview.current_page() == 1)
    before = preview._effective_zoom()
    click(qtbot, preview.zoom_in_button)
    assert preview.zoom_factor() == pytest.approx(before * 1.25, rel=0.01)
    assert preview.zoom_label.text() == f"{round(before * 125)}%"
    click(qtbot, preview.zoom_out_button)
    assert preview.zoom_factor() == pytest.approx(before, rel=0.01)
    click(qtbot, preview.fit_button)
    assert preview.view.zoomMode() == preview.view.ZoomMode.FitToWidth


def _accept_print_dialog(monkeypatch, choose=None):
    def fake_exec(dialog):
        if choose is not None:
            choose(dialog.printer())
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(QPrintDialog, "exec", fake_exec)


def _pdf_printer(path):
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_print_to_a_pdf_printer(qtbot, demo_db, monkeypatch, tmp_path):
    page = make_page(qtbot, demo_db, "admin")
    click(qtbot, page.generate_button)
    wait_task(qtbot, page)
    out = tmp_path / "printed.pdf"
    page.preview.printer = _pdf_printer(out)
    _accept_print_dialog(monkeypatch)
    with qtbot.waitSignal(page.preview.printed) as blocker:
        click(qtbot, page.preview.print_button)
    assert blocker.args == [page.preview.page_count()]
    printed = pypdf.PdfReader(out)
    assert len(printed.pages) == page.preview.page_count() == 1
    box = printed.pages[0].mediabox
    assert float(box.height) > float(box.width)          # portrait, like the ledger
    assert abs(float(box.width) - 595) < 3                # A4


def test_print_honours_the_page_range(qtbot, demo_db, monkeypatch, tmp_path):
    page = make_page(qtbot, demo_db, "admin", with_adhoc=True)
    click_report(qtbot, page, "多页台账")
    click(qtbot, page.generate_button)
    wait_task(qtbot, page)
    assert page.preview.page_count() >= 3
    out = tmp_path / "range.pdf"
    page.preview.printer = _pdf_printer(out)

    def pages_2_to_3(printer):
        printer.setPrintRange(QPrinter.PrintRange.PageRange)
        printer.setFromTo(2, 3)

    _accept_print_dialog(monkeypatch, pages_2_to_3)
    click(qtbot, page.preview.print_button)
    assert len(pypdf.PdfReader(out).pages) == 2


def test_print_dialog_cancelled_prints_nothing(qtbot, demo_db, monkeypatch, tmp_path):
    page = make_page(qtbot, demo_db, "admin")
    click(qtbot, page.generate_button)
    wait_task(qtbot, page)
    out = tmp_path / "none.pdf"
    page.preview.printer = _pdf_printer(out)
    monkeypatch.setattr(QPrintDialog, "exec", lambda dialog: QDialog.DialogCode.Rejected)
    assert page.preview.print_document() == 0
    assert not out.exists()


def test_report_centre_is_in_the_main_window(qtbot, tmp_path, demo_template):
    import shutil

    from shell.config import LocalConfig
    from shell.core import auth
    from shell.core.context import AppContext
    from shell.core.database import open_database
    from shell.ui.main_window import MainWindow
    from tests.ui import plugins_with_testplugin

    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    pm = plugins_with_testplugin()
    db = open_database(path, pm=pm, backup=False)
    actor = auth.login(db.session_factory, "grid_worker", "demo1234")
    window = MainWindow(AppContext(db.session_factory, actor, plugin_manager=pm), LocalConfig(), db)
    qtbot.addWidget(window)
    window.show()
    page = window.open_page("reports")
    assert window.nav_titles()[-2:] == ["报表中心", "数据导入导出"]
    assert page.report_titles() == ["测试便签台账"]
    db.dispose()


def test_saving_starts_in_documents_and_offers_the_folder(qtbot, demo_db, save_dialog, tmp_path, monkeypatch):
    """#17 §3: save dialogs open in the user's 文档 folder, then in the folder last chosen; after
    saving, 打开所在文件夹 shows that folder."""
    from PySide6.QtGui import QDesktopServices

    import shell.ui.files as files

    documents = tmp_path / "文档"
    documents.mkdir()
    monkeypatch.setattr(files, "user_documents_dir", lambda: str(documents))
    monkeypatch.setattr(files, "_last_folder", None)
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    page = make_page(qtbot, demo_db, "admin")
    assert not page.open_folder_button.isVisible()
    chosen = tmp_path / "台账" / "便签.xlsx"
    chosen.parent.mkdir()
    save_dialog["path"] = chosen
    click(qtbot, page.export_button)
    assert wait_task(qtbot, page).error is None
    assert save_dialog["calls"][0][1] == str(documents / f"测试便签台账-{local_today().isoformat()}.xlsx")
    assert page.open_folder_button.isVisible() and page.open_folder_button.text() == "打开所在文件夹"
    click(qtbot, page.open_folder_button)
    assert opened == [str(chosen.parent)]
    save_dialog["path"] = chosen.with_suffix(".pdf")
    click(qtbot, page.save_pdf_button)
    assert wait_task(qtbot, page).error is None
    assert save_dialog["calls"][1][1].startswith(str(chosen.parent))  # the folder chosen last time
