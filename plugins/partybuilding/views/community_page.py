"""在职党员“双报到”: who reported to which residential community, and the service they did there
(date, what, how long); register a report, record a service, end a report."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_phone
from shell.clock import local_today
from shell.core.areas import visible_areas
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from .common import PlainTable, Refused, attempt, date_edit


def hours_text(minutes: int) -> str:
    return f"{minutes / 60:.1f}".rstrip("0").rstrip(".") if minutes else "0"


def community_choices(app_ctx) -> list[tuple[int, str]]:
    with app_ctx.service(commit=False) as ctx:
        return [(a.id, a.name) for a in visible_areas(ctx) if a.level == "community" and a.is_open]


class ReportDialog(FormDialog):
    def __init__(self, app_ctx, today: date, area_id: int | None, parent=None):
        self.app_ctx = app_ctx
        self.report_id: int | None = None
        super().__init__(parent, "在职党员报到登记", "pb-report", ok_text="登记",
                         intro="在职党员持单位党组织证明到居住地社区报到，认领服务岗位、参加社区活动。")
        f = self.form
        areas = QComboBox()
        for aid, name in community_choices(app_ctx):
            areas.addItem(name, aid)
        if area_id is not None and areas.findData(area_id) >= 0:
            areas.setCurrentIndex(areas.findData(area_id))
        f.add("area_id", "报到社区", areas)
        f.add("name", "姓名", QLineEdit(), required=True)
        f.add("phone", "联系电话", QLineEdit())
        f.add("workplace", "工作单位", QLineEdit(), required=True)
        f.add("workplace_org", "所在党组织", QLineEdit(), hint="单位党组织全称")
        f.add("address", "居住地址", QLineEdit())
        f.add("reported_on", "报到日期", date_edit(today))
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        with attempt(self.app_ctx) as ctx:
            ok, r = self.call(svc.register_report, ctx, area_id=f.value("area_id"), name=f.value("name"),
                              workplace=f.value("workplace"), reported_on=f.value("reported_on"),
                              phone=f.value("phone") or None, workplace_org=f.value("workplace_org"),
                              address=f.value("address"))
            if not ok:
                raise Refused
            self.report_id = r.id
        return ok


class ServiceDialog(FormDialog):
    def __init__(self, app_ctx, report_id: int, name: str, today: date, parent=None):
        self.app_ctx, self.report_id = app_ctx, report_id
        super().__init__(parent, f"记录社区服务：{name}", "pb-service", ok_text="记录")
        f = self.form
        f.add("served_on", "服务日期", date_edit(today))
        f.add("content", "服务内容", QLineEdit(), required=True, hint="如：慰问独居老人、垃圾分类宣传、疫苗接种点值守")
        minutes = QSpinBox()
        minutes.setRange(0, 24 * 60)
        minutes.setSingleStep(30)
        minutes.setValue(60)
        minutes.setSuffix(" 分钟")
        f.add("minutes", "服务时长", minutes)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        with attempt(self.app_ctx) as ctx:
            ok, _ = self.call(svc.record_community_service, ctx, self.report_id, f.value("served_on"),
                              f.value("content"), f.value("minutes"))
            if not ok:
                raise Refused
        return ok


class EndReportDialog(FormDialog):
    def __init__(self, app_ctx, report_id: int, name: str, today: date, parent=None):
        self.app_ctx, self.report_id = app_ctx, report_id
        super().__init__(parent, f"结束报到：{name}", "pb-end-report", ok_text="结束报到",
                         intro="搬离本社区或不再参加的，结束报到；已记录的服务保留。")
        self.form.add("ended_on", "结束日期", date_edit(today))
        self.finish_layout()

    def submit(self) -> bool:
        with attempt(self.app_ctx) as ctx:
            ok, _ = self.call(svc.end_report, ctx, self.report_id, self.form.value("ended_on"))
            if not ok:
                raise Refused
        return ok


class CommunityPage(QWidget):
    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("partybuilding-community")
        self.dialog: FormDialog | None = None
        self.rows: list[svc.ReportRow] = []
        self.area = QComboBox()
        self.area.addItem("（全部社区）", None)
        self.area.setMinimumWidth(160)
        for aid, name in community_choices(app_ctx):
            self.area.addItem(name, aid)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(self.today().year)
        self.show_ended = QCheckBox("含已结束")
        self.report_button = QPushButton("报到登记…")
        self.service_button = QPushButton("记录服务…")
        self.end_button = QPushButton("结束报到…")
        self.report_button.clicked.connect(
            lambda: self._open(ReportDialog(app_ctx, self.today(), self.area.currentData(), self)))
        self.service_button.clicked.connect(self.record_service)
        self.end_button.clicked.connect(self.end_selected)
        self.report_button.setEnabled(app_ctx.actor.can(svc.MEMBER_MANAGE))
        self.summary = QLabel()
        self.table = PlainTable(["姓名", "报到社区", "工作单位", "所在党组织", "联系电话", "报到日期", "结束日期",
                                 "本年服务次数", "本年服务小时"], right=(7, 8))
        self.table.setObjectName("pb-reports")
        self.table.itemSelectionChanged.connect(self.show_services)
        self.services = PlainTable(["服务日期", "服务内容", "时长（小时）"], right=(2,))
        self.services_title = QLabel("选择一名报到党员，查看其服务记录。")
        bar = QHBoxLayout()
        for w in (QLabel("社区"), self.area, QLabel("年度"), self.year, self.show_ended):
            bar.addWidget(w)
        bar.addStretch(1)
        for b in (self.report_button, self.service_button, self.end_button):
            bar.addWidget(b)
        lower = QWidget()
        lv = QVBoxLayout(lower)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.services_title)
        lv.addWidget(self.services)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setSizes([420, 240])
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.summary)
        lay.addWidget(split)
        self.area.currentIndexChanged.connect(lambda *_: self.refresh())
        self.year.valueChanged.connect(lambda *_: self.refresh())
        self.show_ended.toggled.connect(lambda *_: self.refresh())
        self.refresh()

    def today(self) -> date:
        return local_today(self.app_ctx.clock())

    def _open(self, dialog: FormDialog) -> None:
        self.dialog = dialog
        dialog.accepted.connect(self.refresh)
        dialog.open()

    def refresh(self) -> None:
        keep = self.selected()
        with self.app_ctx.service(commit=False) as ctx:
            rows = svc.community_reports(ctx, self.year.value(), self.area.currentData())
        if not self.show_ended.isChecked():
            rows = [r for r in rows if r.ended_on is None]
        self.rows = rows
        self.table.set_rows([(r.name, r.community, r.workplace, r.workplace_org or "", mask_phone(r.phone or ""),
                              r.reported_on, r.ended_on or "", r.services, hours_text(r.minutes)) for r in rows],
                            data=[r.report_id for r in rows])
        total = sum(r.minutes for r in rows)
        self.summary.setText(f"报到在职党员 {len(rows)} 人，{self.year.value()} 年服务 {sum(r.services for r in rows)} 次、"
                             f"{hours_text(total)} 小时；其中本年未参加服务 {sum(1 for r in rows if not r.services)} 人。")
        if keep is not None:
            self.select_report(keep.report_id)
        self.show_services()

    def selected(self) -> svc.ReportRow | None:
        row = self.table.currentRow()
        if row < 0 or row >= len(self.rows) or not self.table.selectionModel().hasSelection():
            return None
        return self.rows[row]

    def select_report(self, report_id: int) -> None:
        for i, r in enumerate(self.rows):
            if r.report_id == report_id:
                self.table.selectRow(i)
                return

    def show_services(self) -> None:
        r = self.selected()
        can = self.app_ctx.actor.can(svc.MEMBER_MANAGE)
        self.service_button.setEnabled(can and r is not None and r.ended_on is None)
        self.end_button.setEnabled(can and r is not None and r.ended_on is None)
        if r is None:
            self.services.set_rows([])
            self.services_title.setText("选择一名报到党员，查看其服务记录。")
            return
        with self.app_ctx.service(commit=False) as ctx:
            items = [(s.served_on, s.content, hours_text(s.minutes)) for s in svc.community_services(ctx, r.report_id)]
        self.services.set_rows(items)
        self.services_title.setText(f"{r.name}的服务记录（共 {len(items)} 次）")

    def record_service(self) -> None:
        r = self.selected()
        if r is not None:
            self._open(ServiceDialog(self.app_ctx, r.report_id, r.name, self.today(), self))

    def end_selected(self) -> None:
        r = self.selected()
        if r is not None:
            self._open(EndReportDialog(self.app_ctx, r.report_id, r.name, self.today(), self))


def make_page(app_ctx, parent=None):
    return CommunityPage(app_ctx, parent)
