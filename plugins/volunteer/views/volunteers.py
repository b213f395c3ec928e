"""志愿者 page: a lazy volunteer list (keyset paging) with search by name, pinyin initials, ID number,
phone and 志愿者编号, and the card of the selected volunteer (star level, approved hours, points
balance and the latest hours and points ledger entries). Views call services only; lists always mask
ID numbers and phones (data rules)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_id, mask_phone
from shell.errors import JiedaoError
from shell.ui.widgets import Column, LazyTableModel, SearchBox
from shell.ui.widgets.lazy_table import CENTER, RIGHT

from .. import services as svc
from ..rules import P_CERTIFICATE, P_MANAGE, P_POINTS
from .common import fit_columns
from .volunteer_card import VolunteerCardPanel, load_card


class VolunteersPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("volunteer-volunteers")
        self.search = SearchBox(self, placeholder="姓名、拼音、志愿者编号、身份证号或电话")
        self.count_label = QLabel(self)
        self.dialog = None          # the last dialog opened (tests drive it)
        can_manage = app_ctx.actor.can(P_MANAGE)
        self.new_button = QPushButton("登记志愿者…", self)
        self.new_button.setObjectName("volunteer-new")
        self.new_button.setProperty("primary", True)
        self.new_button.clicked.connect(self.new_volunteer)
        self.new_button.setVisible(can_manage)
        # 积分有效期: shown only where the street set one and the user may touch points.
        self.expire_button = QPushButton("清理过期积分…", self)
        self.expire_button.setObjectName("volunteer-expire")
        self.expire_button.clicked.connect(self.expire_points)
        self.expire_button.setVisible(app_ctx.actor.can(P_POINTS) and self._expiry_months() > 0)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.expire_button)
        top.addWidget(self.new_button)
        # Rows are (Volunteer, community name, approved minutes, points balance); the card shows the community.
        columns = [
            Column("志愿者编号", lambda r: r[0].number),
            Column("姓名", lambda r: r[0].name if r[0].active else f"{r[0].name}（停用）"),
            # Lists always mask (data rules).
            Column("公民身份号码", lambda r: mask_id(r[0].id_number)),
            Column("联系电话", lambda r: mask_phone(r[0].phone) if r[0].phone else ""),
            Column("星级", lambda r: svc.star_label(r[2]), CENTER),
            Column("时长/小时", lambda r: svc.hours_text(r[2]), RIGHT,
                   tooltip=lambda r: f"{r[1]} · 累计服务 {svc.hours_text(r[2])} 小时"),
            Column("积分", lambda r: r[3], RIGHT),
        ]
        self.model = LazyTableModel(app_ctx.session_factory, columns, page_size=200, parent=self)
        self.model.count_changed.connect(lambda n: self.count_label.setText(f"共 {n} 名志愿者"))
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(48)
        fit_columns(self.table, ("ZY0000000", "欧阳某某（停用）", "3301**********1234", "138****5678", "未评星",
                                 "0000.5", "00000"))
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self.show_row(cur.row()))
        self.model.modelReset.connect(lambda: self.card.show_card(None))

        self.card = VolunteerCardPanel(self)
        self.card.setMinimumWidth(440)
        self.card.edit_button.setVisible(can_manage)
        self.card.active_button.setVisible(can_manage)
        self.card.adjust_button.setVisible(app_ctx.actor.can(P_POINTS))
        self.card.adjust_button.clicked.connect(self.adjust_points)
        self.card.edit_button.clicked.connect(self.edit_volunteer)
        self.card.active_button.clicked.connect(self.toggle_active)
        self.certificates = None
        if app_ctx.actor.can(P_CERTIFICATE):
            from .certificate import CertificatePrinter

            self.certificates = CertificatePrinter(app_ctx, self)
            self.certificates.issued.connect(
                lambda number, _path: self._card_message(f"已出具志愿服务证明，编号 {number}。", ok=True))
            self.certificates.failed.connect(lambda text: self._card_message(f"未能出具证明：{text}", ok=False))
            self.card.certificate_button.show()
            self.card.certificate_button.clicked.connect(self.print_certificate)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addLayout(top)
        left_layout.addWidget(self.table)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.card)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([630, 400])   # proportions: the list gets what its columns need
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self.search.search.connect(self.apply_search)
        self.apply_search("")

    def apply_search(self, text: str) -> None:
        try:
            with self.app_ctx.service(commit=False) as ctx:
                listing = svc.volunteer_listing(ctx, text)
        except JiedaoError as exc:
            self.model.set_query(None)
            self.card.show_message(exc.message)
            return
        self.model.set_query(listing.query, key_column=listing.key, descending=listing.descending)

    def show_row(self, row: int) -> None:
        if row < 0 or row >= self.model.rowCount():
            self.card.show_card(None)
            return
        volunteer_id = self.model.row_object(row)[0].id
        try:
            self.card.show_card(load_card(self.app_ctx, volunteer_id))
        except JiedaoError as exc:
            self.card.show_message(exc.message)

    # ------------------------------------------------------------------ register / edit / deactivate
    def _open(self, dialog, on_accepted) -> None:
        self.dialog = dialog
        dialog.accepted.connect(on_accepted)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def new_volunteer(self) -> None:
        from .registry import VolunteerDialog

        dialog = VolunteerDialog(self, self.app_ctx)

        def created():
            self.open_volunteer(dialog.saved_id)
            self._card_message("已登记。", ok=True)
        self._open(dialog, created)

    def edit_volunteer(self) -> None:
        from .registry import VolunteerDialog

        data = self.card.data
        if data is None:
            return
        try:
            dialog = VolunteerDialog(self, self.app_ctx, data.volunteer_id)
        except JiedaoError as exc:
            self._card_message(exc.message, ok=False)
            return

        def saved():
            self.open_volunteer(dialog.saved_id)
            self._card_message("志愿者信息已保存。", ok=True)
        self._open(dialog, saved)

    def adjust_points(self) -> None:
        from .registry import AdjustPointsDialog

        data = self.card.data
        if data is None:
            return
        dialog = AdjustPointsDialog(self, self.app_ctx, data.volunteer_id, data.name, data.points)

        def done():
            self.open_volunteer(data.volunteer_id)
            self._card_message(f"积分已调整，现余 {self.card.data.points} 分。", ok=True)
        self._open(dialog, done)

    def toggle_active(self) -> None:
        data = self.card.data
        if data is None:
            return
        vid = data.volunteer_id
        if not data.active:
            try:
                with self.app_ctx.service() as ctx:
                    svc.set_active(ctx, vid, True)
            except JiedaoError as exc:
                self._card_message(exc.message, ok=False)
                return
            self.open_volunteer(vid)
            self._card_message("已恢复在册。", ok=True)
            return
        from .common import ReasonDialog

        def action(reason):
            with self.app_ctx.service() as ctx:
                return svc.set_active(ctx, vid, False, reason).id

        dialog = ReasonDialog(self, "停用志愿者", "deactivate-dialog",
                              f"停用“{data.name}”：不能再报名活动和兑换积分；服务记录、时长和积分保留。",
                              "停用原因", action, placeholder="如：迁出本街道、本人申请退出")

        def done():
            self.open_volunteer(vid)
            self._card_message("已停用。", ok=True)
        self._open(dialog, done)

    def _expiry_months(self) -> int:
        with self.app_ctx.service(commit=False) as ctx:
            return svc.current_rules(ctx).expiry_months

    def expire_points(self) -> None:
        from shell.ui.errors import confirm

        months = self._expiry_months()
        if not confirm(self, "清理过期积分",
                       f"按“积分有效期 {months} 个月”的规则，把管辖范围内志愿者 {months} 个月前获得、至今未用完的积分"
                       "记为过期（每笔都记入积分台账，可查可对账；服务时长不受影响）。确定吗？"):
            return
        from shell.ui.errors import error_text
        from shell.ui.tasks import run_task

        def work(progress):
            # A street-wide pass over the points ledger: on the thread pool, never the GUI thread.
            progress(0, 0, "正在核算各志愿者的积分有效期……")
            with self.app_ctx.service() as ctx:
                return svc.expire_points(ctx)

        def done(expired) -> None:
            self.apply_search(self.search.text())
            if expired:
                self._card_message(f"已为 {len(expired)} 名志愿者清理过期积分，共 {sum(expired.values())} 分。",
                                   ok=True)
            else:
                self._card_message("没有需要清理的过期积分。", ok=True)

        self.expire_task = run_task(self, "清理过期积分", work, cancellable=False, on_done=done,
                                    on_error=lambda exc: self._card_message(error_text(exc)[1], ok=False))

    def _card_message(self, text: str, ok: bool) -> None:
        self.card.message.setText(text)
        self.card.message.setStyleSheet("color: #1e7e34;" if ok else "color: #c0392b;")

    def print_certificate(self) -> None:
        data = self.card.data
        if data is not None and self.certificates is not None:
            self.card.message.clear()
            self.certificates.start(data.name, data.number)

    def open_volunteer(self, volunteer_id: int) -> bool:
        """Show this volunteer: the list filtered to their 志愿者编号 and their card."""
        try:
            with self.app_ctx.service(commit=False) as ctx:
                number = svc.get_volunteer(ctx, volunteer_id).number
        except JiedaoError as exc:
            self.card.show_message(exc.message)
            return False
        self.search.blockSignals(True)
        self.search.setText(number)
        self.search.blockSignals(False)
        self.apply_search(number)
        for row in range(self.model.rowCount()):
            if self.model.row_object(row)[0].id == volunteer_id:
                self.select_row(row)
                return True
        return False

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)
        self.table.setCurrentIndex(self.model.index(row, 0))
