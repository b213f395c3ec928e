"""节假日安排: a year as twelve month grids (周末, 休 and 班 coloured, with a legend); a click on a day
sets it 休 / 班 with the holiday's name or clears it; 从 Excel 导入 (on the thread pool, row errors in a
table) and 下载模板. Editing needs ``core.settings.manage``; everyone else sees the year read-only.
Every working-day deadline of the program is counted from this calendar (shell.core.calendar)."""
from __future__ import annotations

import calendar as pycal
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shell.core import calendar
from shell.ui.settings._common import ERROR_STYLE, OK_STYLE, Page, make_button, message_of, note

EXCEL_FILTER = "Excel 文件 (*.xlsx)"
# background, text colour
COLOURS = {
    "workday": ("#ffffff", "#222222"),
    "weekend": ("#e9ecef", "#6c757d"),
    "off": ("#f8d7da", "#b02a37"),
    "work": ("#cfe2ff", "#0a3d91"),
}
LEGEND = (("workday", "工作日"), ("weekend", "周末"), ("off", "休：放假"), ("work", "班：调休上班"))
WEEK_HEAD = "一二三四五六日"
CELL = 32


def day_style(state: str) -> str:
    bg, fg = COLOURS[state]
    return (f"QPushButton {{ background: {bg}; color: {fg}; border: 1px solid #dee2e6; border-radius: 3px;"
            f" padding: 0; font-size: 12px; }} QPushButton:hover {{ border: 1px solid #0d6efd; }}")


class DayDialog(QDialog):
    """休 / 班 / 按周一至周五 for one day, with the holiday's name."""

    def __init__(self, day: date, current: calendar.HolidayDay | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.day = day
        self.setObjectName("holiday-day-dialog")
        self.setWindowTitle(f"{day.year} 年 {day.month} 月 {day.day} 日（星期{WEEK_HEAD[day.weekday()]}）")
        weekend = day.weekday() >= 5
        self.off = QRadioButton("休：放假", self)
        self.off.setObjectName("day-off")
        self.work = QRadioButton("班：调休上班", self)
        self.work.setObjectName("day-work")
        self.work.setEnabled(weekend)       # a weekday is a working day anyway
        self.plain = QRadioButton("按平常：" + ("周末休息" if weekend else "工作日上班"), self)
        self.plain.setObjectName("day-plain")
        group = QButtonGroup(self)
        for b in (self.off, self.work, self.plain):
            group.addButton(b)
        {None: self.plain, "off": self.off, "work": self.work}[current.kind if current else None].setChecked(True)
        self.name = QLineEdit(current.name if current else "", self)
        self.name.setObjectName("day-name")
        self.name.setPlaceholderText("名称，如 元旦、春节、国庆节")
        self.name.setMaxLength(calendar.MAX_NAME)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("确定")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for b in (self.off, self.work, self.plain):
            layout.addWidget(b)
        layout.addWidget(QLabel("名称：", self))
        layout.addWidget(self.name)
        if current is not None:
            layout.addWidget(note(f"来源：{current.source}", self))
        layout.addWidget(buttons)

    def choice(self) -> str | None:
        """'off', 'work' or None (follow the Monday–Friday rule)."""
        return "off" if self.off.isChecked() else "work" if self.work.isChecked() else None


class MonthGrid(QFrame):
    def __init__(self, page: HolidaysPage, month: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.page = page
        self.month = month
        self.setObjectName(f"month-{month}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.buttons: dict[date, QPushButton] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(2)
        self.title = QLabel(f"{month} 月", self)
        self.title.setStyleSheet("font-weight: bold;")
        layout.addWidget(self.title)
        self.grid = QGridLayout()
        self.grid.setSpacing(2)
        for c, t in enumerate(WEEK_HEAD):
            head = QLabel(t, self)
            head.setAlignment(Qt.AlignmentFlag.AlignCenter)
            head.setStyleSheet("color: #6c757d; font-size: 11px;")
            self.grid.addWidget(head, 0, c)
        layout.addLayout(self.grid)
        layout.addStretch(1)

    def fill(self, year: int, days: dict[date, calendar.HolidayDay]) -> None:
        for b in self.buttons.values():   # hidden and unparented now: deleteLater waits for the event loop
            self.grid.removeWidget(b)
            b.hide()
            b.setParent(None)
            b.deleteLater()
        self.buttons.clear()
        for r, week in enumerate(pycal.Calendar(firstweekday=0).monthdatescalendar(year, self.month), start=1):
            for c, d in enumerate(week):
                if d.month != self.month:
                    continue
                b = QPushButton(self)
                b.setObjectName(f"day-{d.isoformat()}")
                b.setFixedSize(CELL, CELL - 6)
                b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                b.clicked.connect(lambda _=False, day=d: self.page.edit_day(day))
                self.grid.addWidget(b, r, c)
                b.show()
                self.buttons[d] = b
                self.show_day(d, days.get(d))

    def show_day(self, d: date, h: calendar.HolidayDay | None) -> None:
        b = self.buttons[d]
        state = h.kind if h else ("weekend" if d.weekday() >= 5 else "workday")
        b.setProperty("state", state)
        b.setText(f"{d.day}{h.label}" if h else str(d.day))
        b.setStyleSheet(day_style(state))
        tip = f"{d.isoformat()} 星期{WEEK_HEAD[d.weekday()]}"
        if h:
            tip += f"：{h.label}" + (f"（{h.name}）" if h.name else "") + f"，来源 {h.source}"
        b.setToolTip(tip)


class HolidaysPage(Page):
    def __init__(self, app_ctx, config, settings=None):
        super().__init__(app_ctx, config, settings)
        from shell.ui.import_centre import ErrorsModel

        self.can_manage = self.actor.can(calendar.P_MANAGE)
        self.days: dict[date, calendar.HolidayDay] = {}
        self.task = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(note("事件处置时限等工作日按这里的安排计算：“休”是放假的工作日，“班”是调休上班的周末。"
                              "请在国务院办公厅发布下一年放假安排后录入或导入。"
                              + ("点击日期可修改。" if self.can_manage else "您没有“修改系统设置与规则”权限，只能查看。"), self))
        top = QHBoxLayout()
        top.addWidget(QLabel("年份：", self))
        self.year = QSpinBox(self)
        self.year.setObjectName("holiday-year")
        self.year.setRange(2000, 2100)
        self.year.setSuffix(" 年")
        self.year.setValue(self.read(lambda s: s.today().year))
        self.year.valueChanged.connect(lambda _v: self.load())
        top.addWidget(self.year)
        self.summary = QLabel(self)
        self.summary.setObjectName("holiday-summary")
        top.addWidget(self.summary)
        top.addStretch(1)
        self.template_button = make_button("下载模板…", "holiday-template", self.save_template, self,
                                           tooltip="生成 Excel 模板（列：日期、休/班、名称），已录入的日子会填在里面")
        self.import_button = make_button("从 Excel 导入…", "holiday-import", self.choose_and_import, self,
                                         tooltip="文件中出现的年份整年替换为文件内容；有错误时整份不导入")
        self.import_button.setVisible(self.can_manage)
        top.addWidget(self.template_button)
        top.addWidget(self.import_button)
        layout.addLayout(top)

        legend = QHBoxLayout()
        for state, text in LEGEND:
            swatch = QLabel(self)
            swatch.setFixedSize(16, 16)
            bg, _fg = COLOURS[state]
            swatch.setStyleSheet(f"background: {bg}; border: 1px solid #adb5bd;")
            legend.addWidget(swatch)
            legend.addWidget(QLabel(text, self))
            legend.addSpacing(12)
        legend.addStretch(1)
        layout.addLayout(legend)

        self.warning = QLabel(self)
        self.warning.setObjectName("holiday-warning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b9770e; font-weight: bold;")
        layout.addWidget(self.warning)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        months = QGridLayout(inner)
        months.setSpacing(8)
        self.months = [MonthGrid(self, m, inner) for m in range(1, 13)]
        for i, grid in enumerate(self.months):
            months.addWidget(grid, i // 3, i % 3)
        scroll.setWidget(inner)
        layout.addWidget(scroll, 1)

        self.status = note("", self)
        self.status.setObjectName("holiday-status")
        layout.addWidget(self.status)
        self.errors_model = ErrorsModel(self)
        self.errors = QTableView(self)
        self.errors.setObjectName("holiday-errors")
        self.errors.setModel(self.errors_model)
        self.errors.verticalHeader().setVisible(False)
        self.errors.horizontalHeader().setStretchLastSection(True)
        self.errors.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.errors.setMaximumHeight(150)
        self.errors.hide()
        layout.addWidget(self.errors)
        self.load()

    # --- showing --------------------------------------------------------------------------------
    def load(self) -> None:
        year = self.year.value()
        days = self.read(lambda s: calendar.year_days(s.session, year))
        self.days = {d.day: d for d in days}
        for grid in self.months:
            grid.fill(year, self.days)
        off = sum(d.kind == "off" for d in days)
        self.summary.setText(f"放假 {off} 天，调休上班 {len(days) - off} 天" if days else "")
        self.warning.setText(calendar.missing_warning([year]) + "。" if not days else "")
        self.warning.setVisible(not days)

    def button(self, day: date) -> QPushButton:
        return self.months[day.month - 1].buttons[day]

    # --- editing --------------------------------------------------------------------------------
    def edit_day(self, day: date, dialog_hook=None) -> None:
        if not self.can_manage:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText("您没有“修改系统设置与规则”权限，不能修改节假日安排。")
            return
        dialog = DayDialog(day, self.days.get(day), self)
        if dialog_hook is not None:       # tests fill the live dialog before it runs
            dialog_hook(dialog)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.apply(day, dialog.choice(), dialog.name.text())

    def apply(self, day: date, kind: str | None, name: str = "") -> bool:
        if kind is None:
            if day not in self.days:
                return True
            ok, recounted = self.call(calendar.clear_day, day, pm=self.app_ctx.plugin_manager)
        else:
            ok, saved = self.call(calendar.set_day, day, kind, name, pm=self.app_ctx.plugin_manager)
            recounted = saved.recounted if ok else ()
        if ok:
            self.load()
            self.status.setStyleSheet(OK_STYLE)
            h = self.days.get(day)
            self.status.setText(f"已保存：{day.isoformat()} " + (f"{h.label}" + (f"（{h.name}）" if h.name else "")
                                                               if h else "按平常计算")
                                + "".join(f"\n{line}" for line in recounted or ()))
        return ok

    # --- files ----------------------------------------------------------------------------------
    def save_template(self, path: Path | None = None) -> None:
        year = self.year.value()
        if path is None:
            from shell.ui.files import ask_save_path

            path = ask_save_path(self, "保存节假日安排模板", f"节假日安排-{year}.xlsx", EXCEL_FILTER, ".xlsx")
            if path is None:
                return
        try:
            calendar.write_template(path, year, sorted(self.days.values(), key=lambda d: d.day))
        except OSError as exc:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(f"无法保存“{path}”：{exc.strerror or exc}。请换一个文件夹。")
            return
        self.status.setStyleSheet(OK_STYLE)
        self.status.setText(f"已保存模板：{path}")

    def choose_and_import(self, path: Path | None = None) -> None:
        from shell.ui.tasks import run_task

        if path is None:
            from shell.ui.files import ask_open_path

            path = ask_open_path(self, "选择节假日安排文件", EXCEL_FILTER)
            if path is None:
                return
        self.errors.hide()
        self.status.setStyleSheet("")
        self.status.setText(f"正在检查并导入“{path.name}”……")
        ctx = self.app_ctx

        def work(progress):
            progress(0, 0, f"正在检查“{path.name}”的每一行……")
            with ctx.service(commit=False) as sctx:
                result = calendar.import_year(sctx, path, pm=ctx.plugin_manager)
                if result.ok:
                    sctx.session.commit()
            return result

        self.task = run_task(self, "导入节假日安排", work, cancellable=False, label="正在导入节假日安排……",
                             on_done=lambda result: self._imported(result, path), on_error=self._failed)

    def _imported(self, result: calendar.CalendarImport, path: Path) -> None:
        if result.errors:
            self.errors_model.set_rows(result.errors)
            self.errors.show()
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(f"“{path.name}”中有 {len(result.errors)} 处错误（共 {result.total_rows} 行），"
                                "没有导入任何数据。请按下表改正后重新导入。")
            return
        if result.years and self.year.value() != result.years[0]:
            self.year.setValue(result.years[0])      # reloads
        else:
            self.load()
        self.status.setStyleSheet(OK_STYLE)
        self.status.setText(f"已导入 {'、'.join(map(str, result.years))} 年节假日安排，共 {result.written} 天。"
                            + "".join(f"\n{line}" for line in result.recounted))

    def _failed(self, exc: BaseException) -> None:
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(message_of(exc))

    def error_rows(self) -> list[list[str]]:
        m = self.errors_model
        return [[m.cell(e, c) for c in range(m.columnCount())] for e in m.rows]
