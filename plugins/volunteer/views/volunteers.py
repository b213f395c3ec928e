"""志愿者 page: the shared list page (shell/ui/widgets/list_page.py) over the volunteer listing —
search by name, pinyin, ID number, phone and 志愿者编号, filters 社区 and 状态, 导出 Excel and 打印 —
and the card of the selected volunteer (star level, approved hours, points balance and the latest
hours and points ledger entries). Views call services only; lists always mask ID numbers and phones
(data rules)."""
from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from shell.core.list_output import ListColumn
from shell.errors import JiedaoError
from shell.ui.widgets.list_page import ListPage

from .. import services as svc
from ..rules import P_CERTIFICATE, P_MANAGE, P_POINTS
from .volunteer_card import VolunteerCardPanel, load_card


def _name(r) -> str:
    return r[0].name if r[0].active else f"{r[0].name}（停用）"


# Rows are (Volunteer, community name, approved minutes, points balance). Lists always mask ID
# numbers and phones (data rules); an export carries them in full only for core.personal.full_view.
VOLUNTEER_COLUMNS = (
    ListColumn("志愿者编号", lambda r: r[0].number, width=96),
    ListColumn("姓名", _name, width=110),
    ListColumn("社区", lambda r: r[1], width=90),
    ListColumn("公民身份号码", lambda r: r[0].id_number, personal="id", width=150),
    ListColumn("联系电话", lambda r: r[0].phone or "", personal="phone", width=100),
    ListColumn("星级", lambda r: svc.star_label(r[2]), width=60),
    ListColumn("时长/小时", lambda r: round(int(r[2] or 0) / 60, 2), kind="number", width=84,
               format=lambda h: f"{h:.2f}".rstrip("0").rstrip(".")),
    ListColumn("积分", lambda r: int(r[3] or 0), kind="int"),
)


class VolunteersPage(ListPage):
    """志愿者 on the shared list page, with the selected volunteer's card beside it."""

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(app_ctx, "volunteer.volunteers", "志愿者名册", VOLUNTEER_COLUMNS,
                         count_unit="名志愿者", print_unit="人",
                         placeholder="姓名、拼音、志愿者编号、身份证号或电话", parent=parent)
        self.setObjectName("volunteer-volunteers")
        self.dialog = None          # the last dialog opened (tests drive it)
        can_manage = app_ctx.actor.can(P_MANAGE)
        # 积分有效期: shown only where the street set one and the user may touch points.
        self.expire_button = self.add_action(QPushButton("清理过期积分…", self))
        self.expire_button.setObjectName("volunteer-expire")
        self.expire_button.clicked.connect(self.expire_points)
        self.expire_button.setVisible(app_ctx.actor.can(P_POINTS) and self._expiry_months() > 0)
        self.new_button = self.add_action(QPushButton("登记志愿者…", self))
        self.new_button.setObjectName("volunteer-new")
        self.new_button.setProperty("primary", True)
        self.new_button.clicked.connect(self.new_volunteer)
        self.new_button.setVisible(can_manage)
        with app_ctx.service(commit=False) as ctx:
            communities = svc.community_choices(ctx)
        self.community_filter = self.add_choice_filter("area", "社区", [(name, i) for i, name in communities],
                                                       all_text="全部社区")
        self.community_filter.setVisible(len(communities) > 1)
        self.status_filter = self.add_choice_filter("active", "状态", [("在册", True), ("已停用", False)])
        self.table.setMinimumWidth(480)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self.show_row(cur.row()))

        self.card = VolunteerCardPanel(self)
        self.card.setMinimumWidth(440)
        self.card.edit_button.setVisible(can_manage)
        self.card.active_button.setVisible(can_manage)
        self.card.adjust_button.setVisible(app_ctx.actor.can(P_POINTS))
        self.card.adjust_button.clicked.connect(self.adjust_points)
        self.card.edit_button.clicked.connect(self.edit_volunteer)
        self.card.active_button.clicked.connect(self.toggle_active)
        self.model.modelReset.connect(lambda: self.card.show_card(None))
        self.certificates = None
        if app_ctx.actor.can(P_CERTIFICATE):
            from .certificate import CertificatePrinter

            self.certificates = CertificatePrinter(app_ctx, self)
            self.certificates.issued.connect(
                lambda number, _path: self._card_message(f"已出具志愿服务证明，编号 {number}。", ok=True))
            self.certificates.failed.connect(lambda text: self._card_message(f"未能出具证明：{text}", ok=False))
            self.card.certificate_button.show()
            self.card.certificate_button.clicked.connect(self.print_certificate)
        self.add_side(self.card, left=False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([820, 500])   # proportions: the card keeps room for its four buttons
        self.start()

    def build_listing(self, text: str):
        with self.app_ctx.service(commit=False) as ctx:
            return svc.volunteer_listing(ctx, text, self.filter_value("area"), self.filter_value("active"))

    def apply_search(self, text: str) -> None:
        self.search.blockSignals(True)
        self.search.setText(text)
        self.search.blockSignals(False)
        self.refresh_list()

    def show_message(self, text: str) -> None:
        super().show_message(text)
        self.card.show_message(text)

    def open_record(self, record) -> bool:
        """The record of this page is the card beside the list: double-click or Enter shows it."""
        return self.open_volunteer(record[0].id) if record is not None else False

    def page_new(self) -> None:
        if self.new_button.isVisibleTo(self):
            self.new_volunteer()

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
        self._restoring = True          # the filters back to 全部, so a filter never hides them
        try:
            for f in self.filters.values():
                f.set(None)
        finally:
            self._restoring = False
        self.apply_search(number)
        for row in range(self.model.rowCount()):
            if self.model.row_object(row)[0].id == volunteer_id:
                self.select_row(row)
                return True
        return False

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)
        self.table.setCurrentIndex(self.model.index(row, 0))
