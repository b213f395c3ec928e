"""应急预案 page: the plan catalogue (category, level, unit, version, dates, attached file, number of
response steps) with a category filter, plans due for review (past or within the notice period)
marked and listed on their own tab, create / edit with the response steps drills are scored against,
saving the attached file, and printing the 应急预案目录."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from shell.errors import JiedaoError
from shell.ui.widgets.rows_model import CENTER as ALIGN_CENTER
from shell.ui.widgets.rows_model import RowsModel

from .. import services as svc
from ..labels import PLAN_CATEGORIES, PLAN_LEVELS
from .forms import RecordFormDialog
from .moves import OptionalDate

DUE_FG = QColor("#c0392b")
COLUMNS = ("预案名称", "类别", "层级", "编制单位", "版本", "发布日期", "评审日期", "处置步骤", "附件")


def _size(n: int | None) -> str:
    if not n:
        return ""
    if n < 1024:
        return f"{n} 字节"
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


class PlanModel(RowsModel):
    headers = COLUMNS

    def cell(self, r, col):
        review = r.review_on.isoformat() if r.review_on else "—"
        if r.review_due:
            review += "（待评审）"
        return (r.title, r.category, r.level, r.area, r.version, r.issued_on.isoformat() if r.issued_on else "—",
                review, f"{r.steps} 步", f"{r.file_name}（{_size(r.file_size)}）" if r.file_name else "—")[col]

    def role_data(self, r, col, role):
        if role == Qt.ItemDataRole.ForegroundRole and r.review_due and col in (0, 6):
            return QBrush(DUE_FG)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (1, 2, 4, 5, 6, 7):
            return ALIGN_CENTER
        return None


class PlanDialog(RecordFormDialog):
    """New plan (``row`` None) or edit: fields, the attached file and the response steps."""

    def __init__(self, page: PlansPage, row: svc.PlanRow | None = None):
        title = "新建应急预案" if row is None else f"修改预案 — {row.title}"
        super().__init__(page, title, "emergency-plan-dialog",
                         "处置步骤是演练评估的依据：演练按步骤逐项打分。已有演练评估过的预案不能再改步骤，请新建版本。",
                         "保存", expected_version=row.version_id if row else None)
        self.page, self.app_ctx, self.row = page, page.app_ctx, row
        self.saved_id: int | None = None
        self.file_path: Path | None = None
        self.file_cleared = False
        today = page.today()
        steps, used = [], False
        if row is not None:
            with self.app_ctx.service(commit=False) as ctx:
                steps = [(s.action, s.responsible or "") for s in svc.plan_steps(ctx, row.id)]
                used = svc.plan_steps_used(ctx, row.id)
        f = self.form
        self.title_edit = f.add("title", "预案名称", QLineEdit(row.title if row else "", self), required=True)
        self.area = f.add("area_id", "编制单位", QComboBox(self), required=True)
        for a in page.areas:
            self.area.addItem(a.name, a.id)
        self.category = f.add("category", "预案类别", QComboBox(self), required=True)
        for c in PLAN_CATEGORIES:
            self.category.addItem(c, c)
        self.level = f.add("level", "预案层级", QComboBox(self), required=True)
        for lv in PLAN_LEVELS:
            self.level.addItem(lv, lv)
        self.version = f.add("version", "版本号", QLineEdit(row.version if row else "1.0", self), required=True)
        self.issued_on = f.add("issued_on", "发布日期", OptionalDate("已发布", today, self))
        self.review_on = f.add("review_on", "评审日期", OptionalDate("定期评审", today, self),
                               hint="到期前按“预案评审提前提醒”天数列入待评审")
        file_box = QWidget(self)
        line = QHBoxLayout(file_box)
        line.setContentsMargins(0, 0, 0, 0)
        self.file_label = QLabel(self)
        self.file_label.setObjectName("plan-file")
        self.choose_button = QPushButton("选择文件…", self)
        self.clear_button = QPushButton("移除", self)
        line.addWidget(self.file_label, 1)
        line.addWidget(self.choose_button)
        line.addWidget(self.clear_button)
        f.add("file_data", "预案文本（附件）", file_box, aliases=("file_name",))
        self.steps = QTableWidget(0, 2, self)
        self.steps.setObjectName("plan-steps")
        self.steps.setHorizontalHeaderLabels(("应急处置行动", "责任人/单位"))
        self.steps.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.steps.horizontalHeader().resizeSection(1, 160)
        self.steps.setMinimumHeight(170)
        steps_box = QWidget(self)
        col = QVBoxLayout(steps_box)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.steps)
        buttons = QHBoxLayout()
        self.add_step_button = QPushButton("添加步骤", self)
        self.remove_step_button = QPushButton("删除选中步骤", self)
        buttons.addWidget(self.add_step_button)
        buttons.addWidget(self.remove_step_button)
        buttons.addStretch(1)
        col.addLayout(buttons)
        f.add("steps", "处置步骤", steps_box)
        for action, who in steps:
            self.add_step(action, who)
        if row is not None:
            self.area.setCurrentIndex(max(0, self.area.findData(row.area_id)))
            self.area.setEnabled(False)
            self.category.setCurrentText(row.category)
            self.level.setCurrentText(row.level)
            self.issued_on.set_value(row.issued_on)
            self.review_on.set_value(row.review_on)
        self.steps_locked = used
        if used:
            self.steps.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            for b in (self.add_step_button, self.remove_step_button):
                b.setEnabled(False)
                b.setToolTip("已有演练按这些步骤评估过，不能改动；请新建预案版本")
        self.original_steps = steps
        self.choose_button.clicked.connect(self.choose_file)
        self.clear_button.clicked.connect(self.clear_file)
        self.add_step_button.clicked.connect(lambda: self.add_step("", ""))
        self.remove_step_button.clicked.connect(self.remove_step)
        self._show_file()
        self.setMinimumWidth(640)
        self.finish_layout()

    # --- steps ------------------------------------------------------------------------------------
    def add_step(self, action: str, who: str = "") -> int:
        r = self.steps.rowCount()
        self.steps.insertRow(r)
        self.steps.setItem(r, 0, QTableWidgetItem(action))
        self.steps.setItem(r, 1, QTableWidgetItem(who))
        return r

    def remove_step(self) -> None:
        r = self.steps.currentRow()
        if r >= 0:
            self.steps.removeRow(r)

    def step_values(self) -> list[tuple[str, str]]:
        out = []
        for r in range(self.steps.rowCount()):
            action = (self.steps.item(r, 0).text() if self.steps.item(r, 0) else "").strip()
            who = (self.steps.item(r, 1).text() if self.steps.item(r, 1) else "").strip()
            if action or who:
                out.append((action, who))
        return out

    # --- attached file ----------------------------------------------------------------------------
    def _show_file(self) -> None:
        if self.file_path is not None:
            self.file_label.setText(f"{self.file_path.name}（{_size(self.file_path.stat().st_size)}，保存时上传）")
        elif self.row is not None and self.row.file_name and not self.file_cleared:
            self.file_label.setText(f"{self.row.file_name}（{_size(self.row.file_size)}）")
        else:
            self.file_label.setText("无")
        self.clear_button.setEnabled(self.file_label.text() != "无")

    def set_file(self, path: str | Path) -> None:
        self.file_path, self.file_cleared = Path(path), False
        self._show_file()

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "选择预案文本", "", "预案文件 (*.pdf *.doc *.docx *.wps *.ofd);;所有文件 (*)")
        if path:
            self.set_file(path)

    def clear_file(self) -> None:
        self.file_path, self.file_cleared = None, True
        self._show_file()

    # --- save -------------------------------------------------------------------------------------
    def submit(self) -> bool:
        f = self.form
        data = None
        if self.file_path is not None:
            try:
                data = self.file_path.read_bytes()
            except OSError as exc:
                f.show_errors({"file_data": f"读取附件“{self.file_path.name}”失败：{exc.strerror or exc}。"})
                return False
        steps = self.step_values()

        def work():
            with self.app_ctx.service() as ctx:
                if self.row is None:
                    plan = svc.create_plan(ctx, self.area.currentData(), f.value("title"), self.category.currentText(),
                                           self.level.currentText(), f.value("version"), self.issued_on.value(),
                                           self.review_on.value(), steps,
                                           file_name=self.file_path.name if data is not None else None, file_data=data)
                    return plan.id
                fields = dict(title=f.value("title"), category=self.category.currentText(),
                              level=self.level.currentText(), version=f.value("version"),
                              issued_on=self.issued_on.value(), review_on=self.review_on.value())
                if data is not None:
                    fields.update(file_name=self.file_path.name, file_data=data)
                elif self.file_cleared:
                    fields.update(file_name=None, file_data=None)
                svc.update_plan(ctx, self.row.id, expected_version=self.expected_version, **fields)
                if steps != self.original_steps:
                    svc.set_plan_steps(ctx, self.row.id, steps)
                return self.row.id

        ok, self.saved_id = self.call(work)
        return ok


class PlansPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("emergency-plans")
        self.dialog = None
        self.print_dialog = None
        self.areas: list[svc.AreaChoice] = []
        self.can_manage = app_ctx.actor.can("emergency.plan.manage")
        self.category = QComboBox(self)
        self.category.setObjectName("plan-category")
        self.category.addItem("全部类别", None)
        for c in PLAN_CATEGORIES:
            self.category.addItem(c, c)
        self.new_button = QPushButton("新建预案…", self)
        self.new_button.setObjectName("plan-new")
        self.edit_button = QPushButton("修改…", self)
        self.edit_button.setObjectName("plan-edit")
        self.save_file_button = QPushButton("保存附件…", self)
        self.save_file_button.setObjectName("plan-save-file")
        self.print_button = QPushButton("打印预案目录", self)
        self.print_button.setObjectName("plan-print")
        top = QHBoxLayout()
        top.addWidget(QLabel("类别", self))
        top.addWidget(self.category)
        top.addStretch(1)
        for b in (self.new_button, self.edit_button, self.save_file_button, self.print_button):
            top.addWidget(b)
        self.model = PlanModel(self)
        self.table = self._table(self.model, "plan-table")
        self.due_model = PlanModel(self)
        self.due_table = self._table(self.due_model, "plan-due-table")
        self.due_label = QLabel(self)
        self.due_label.setObjectName("plan-due-label")
        self.due_label.setWordWrap(True)
        due_tab = QWidget(self)
        dl = QVBoxLayout(due_tab)
        dl.addWidget(self.due_label)
        dl.addWidget(self.due_table, 1)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.table, "预案目录")
        self.tabs.addTab(due_tab, "待评审")
        self.message = QLabel(self)
        self.message.setObjectName("plan-message")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self.category.currentIndexChanged.connect(lambda _i: self.reload())
        self.new_button.clicked.connect(self.open_new)
        self.edit_button.clicked.connect(self.open_edit)
        self.save_file_button.clicked.connect(self.save_file)
        self.print_button.clicked.connect(self.print_catalogue)
        self.tabs.currentChanged.connect(lambda _i: self._selection_changed())
        self.reload()

    def _table(self, model, name) -> QTableView:
        table = QTableView(self)
        table.setObjectName(name)
        table.setModel(model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        header = table.horizontalHeader()
        for c, w in enumerate((260, 70, 80, 100, 50, 90, 175, 70)):
            header.resizeSection(c, w)
        header.setStretchLastSection(True)
        table.selectionModel().selectionChanged.connect(lambda *_a: self._selection_changed())
        table.doubleClicked.connect(lambda _i: self.open_edit())
        return table

    def today(self) -> date:
        from shell.clock import to_local

        return to_local(self.app_ctx.clock()).date()

    def reload(self) -> None:
        self.message.setText("")
        try:
            with self.app_ctx.service(commit=False) as ctx:
                rows = svc.plan_rows(ctx, self.category.currentData())
                due = [r for r in svc.plan_rows(ctx) if r.review_due]
                notice = int(svc.setting(ctx, "emergency.plan_review_notice_days"))
                self.areas = svc.unit_areas(ctx)
        except JiedaoError as exc:
            self.message.setText(exc.message)
            rows, due, notice = [], [], 0
        self.model.set_rows(rows)
        self.due_model.set_rows(sorted(due, key=lambda r: r.review_on))
        self.tabs.setTabText(1, f"待评审（{len(due)}）")
        self.due_label.setText(f"评审日期已过或在 {notice} 天内到期的预案共 {len(due)} 个，"
                               f"请组织评审修订后更新评审日期或新建版本。"
                               if due else "没有待评审的预案。")
        self._selection_changed()

    def show_filtered(self, review: str = "due") -> None:
        """From 我的待办: the 待评审 tab (review date past or within the notice period); the 预案目录
        tab beside it lists every plan."""
        self.category.blockSignals(True)
        self.category.setCurrentIndex(0)
        self.category.blockSignals(False)
        self.reload()
        self.tabs.setCurrentIndex(1 if review == "due" else 0)

    def selected(self) -> svc.PlanRow | None:
        table = self.table if self.tabs.currentIndex() == 0 else self.due_table
        rows = table.selectionModel().selectedRows()
        return table.model().rows[rows[0].row()] if rows else None

    def select_plan(self, plan_id: int) -> bool:
        self.tabs.setCurrentIndex(0)
        for r, row in enumerate(self.model.rows):
            if row.id == plan_id:
                self.table.selectRow(r)
                return True
        return False

    def _selection_changed(self) -> None:
        row = self.selected()
        self.new_button.setEnabled(self.can_manage)
        self.edit_button.setEnabled(self.can_manage and row is not None)
        self.save_file_button.setEnabled(row is not None and bool(row.file_name))
        if not self.can_manage:
            for b in (self.new_button, self.edit_button):
                b.setToolTip("需要“维护应急预案”权限（emergency.plan.manage）")

    def _show(self, dialog):
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def done():
            self.reload()
            if dialog.saved_id is not None:
                self.select_plan(dialog.saved_id)

        dialog.accepted.connect(done)
        dialog.open()
        return dialog

    def open_new(self):
        return self._show(PlanDialog(self)) if self.can_manage else None

    def open_edit(self):
        row = self.selected()
        return self._show(PlanDialog(self, row)) if row is not None and self.can_manage else None

    def save_file(self, target: str | None = None) -> str | None:
        """Write the selected plan's attached file (asks where unless ``target`` is given)."""
        row = self.selected()
        if row is None or not row.file_name:
            return None
        if not target:
            target, _ = QFileDialog.getSaveFileName(self, "保存预案附件", row.file_name)
            if not target:
                return None
        try:
            with self.app_ctx.service(commit=False) as ctx:
                _name, data = svc.plan_file(ctx, row.id)
            Path(target).write_bytes(data or b"")
        except JiedaoError as exc:
            self.message.setText(exc.message)
            return None
        except OSError as exc:
            self.message.setText(f"保存附件失败：{exc.strerror or exc}。请换一个位置。")
            return None
        self.message.setText(f"已保存附件：{target}")
        return target

    def print_catalogue(self):
        from .printing import print_report

        self.print_dialog = print_report(self.app_ctx, "emergency.plans", {}, self, "应急预案目录.pdf")
        return self.print_dialog
