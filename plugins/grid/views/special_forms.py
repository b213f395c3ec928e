"""The forms of the special and cared-for groups: 列入名单 (the group's own fields appear when the group
is chosen), 登记走访 with 下次走访日期, 结束列管. Used by the 特殊人群与走访 page and by the person's card
(which opens 列入名单 with the person already chosen); they import neither, so neither page imports
the other through them."""
from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from shell.clock import local_today
from shell.errors import JiedaoError, ValidationError
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from .common import PersonPicker, date_edit, service_call


class AddSpecialDialog(FormDialog):
    """列入名单: the group's own fields appear when the group is chosen (required ones marked)."""

    def __init__(self, app_ctx, parent: QWidget | None = None, group: str = "",
                 person: tuple[int, str] | None = None):
        super().__init__(parent, "列入特殊/关爱人群名单", "grid-add-special", ok_text="保存")
        self.app_ctx = app_ctx
        self.saved_id: int | None = None
        self.picker = self.form.add("person_id", "人员", PersonPicker(app_ctx), required=True)
        if person is not None:   # opened from the person's record: that person, no search
            self.picker.preset(*person)
        self.group = QComboBox()
        for key, (label, _defs) in svc.ALL_GROUPS.items():
            self.group.addItem(label, key)
        if group in svc.ALL_GROUPS:
            self.group.setCurrentIndex(self.group.findData(group))
        self.form.add("group", "类别", self.group, required=True)
        self.form.add("helper", "帮扶/帮教人", QLineEdit())
        self.form.add("start", "列管日期", date_edit(), required=True)
        interval = QSpinBox()
        interval.setRange(1, 366)
        interval.setValue(30)
        interval.setSuffix(" 天")
        self.form.add("visit_interval_days", "走访周期", interval)
        self.detail_host = QWidget()
        self.detail_layout = QVBoxLayout(self.detail_host)
        self.detail_layout.setContentsMargins(0, 0, 0, 0)
        self.layout_.addWidget(QLabel("本类别的具体情况：", self))
        self.layout_.addWidget(self.detail_host)
        self.detail_form = None
        self.group.currentIndexChanged.connect(lambda _i: self._build_details())
        self._build_details()
        self.finish_layout()

    def _build_details(self) -> None:
        from shell.ui.widgets import Form

        if self.detail_form is not None:
            self.detail_layout.removeWidget(self.detail_form)
            self.detail_form.deleteLater()
        self.detail_form = Form(self.detail_host)
        self.detail_form.setObjectName("special-details")
        for d in svc.ALL_GROUPS[self.group.currentData()][1]:
            if d.kind == "date":
                w = date_edit()
            elif d.kind == "choice":
                w = QComboBox()
                w.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
                w.setMinimumContentsLength(6)
                if not d.required:
                    w.addItem("（未填）", "")
                for c in d.choices:
                    w.addItem(c, c)
            elif d.kind == "bool":
                w = QCheckBox("是")
            else:
                w = QLineEdit()
            self.detail_form.add(d.key, d.label, w, required=d.required)
        self.detail_layout.addWidget(self.detail_form)

    def details(self) -> dict:
        out = {}
        for key in self.detail_form.fields:
            v = self.detail_form.value(key)
            out[key] = v.isoformat() if isinstance(v, date) else v
        return out

    def submit(self) -> bool:
        pid = self.picker.selected_id()
        if pid is None:
            self.form.show_errors({"person_id": "请查找并选择一名人员。"})
            return False
        missing = self.detail_form.missing_required()
        if missing:
            self.detail_form.show_errors(missing)
            return False
        f = self.form
        self.detail_form.clear_errors()
        ok, sp = service_call(self, self.app_ctx, svc.add_special, pid, f.value("group"), self.details(),
                              f.value("helper"), f.value("start"), f.value("visit_interval_days"))
        self.saved_id = sp.id if ok else None
        return ok

    def call(self, fn, *args, **kwargs):
        """As FormDialog.call, but an error naming one of the group's own fields shows next to it."""
        self.detail_form.clear_errors()
        self.form.clear_errors()
        try:
            return True, fn(*args, **kwargs)
        except ValidationError as exc:
            target = self.detail_form if exc.field in self.detail_form.fields else self.form
            target.show_errors({exc.field: exc.message})
        except JiedaoError as exc:
            self.form.show_errors({None: exc.message})
        return False, None


class VisitDialog(FormDialog):
    def __init__(self, app_ctx, special_id: int, name: str, interval: int, parent: QWidget | None = None):
        super().__init__(parent, "登记走访", "grid-visit", f"走访对象：{name}（走访周期 {interval} 天）", ok_text="保存")
        self.app_ctx, self.special_id, self.interval = app_ctx, special_id, interval
        today = local_today()
        self.visit_date = self.form.add("visit_date", "走访日期", date_edit(today), required=True)
        self.next_date = self.form.add("next_visit_date", "下次走访日期", date_edit(today + timedelta(days=interval)),
                                       required=True)
        self.visit_date.dateChanged.connect(lambda d: self.next_date.setDate(d.addDays(self.interval)))
        self.form.add("visitor_name", "走访人", QLineEdit(app_ctx.actor.display_name or ""))
        situation = QPlainTextEdit()
        situation.setMaximumHeight(90)
        self.form.add("situation", "走访情况", situation, required=True)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        ok, _ = service_call(self, self.app_ctx, svc.record_visit, self.special_id, f.value("visit_date"),
                             f.value("situation"), f.value("next_visit_date"), f.value("visitor_name"))
        return ok


class EndSpecialDialog(FormDialog):
    def __init__(self, app_ctx, special_id: int, name: str, parent: QWidget | None = None):
        super().__init__(parent, "结束列管", "grid-end-special", f"{name}不再列入此名单；记录和走访历史保留。")
        self.app_ctx, self.special_id = app_ctx, special_id
        self.form.add("on", "结束日期", date_edit(), required=True)
        self.form.add("reason", "原因", QLineEdit(), required=True)
        self.finish_layout()

    def submit(self) -> bool:
        ok, _ = service_call(self, self.app_ctx, svc.end_special, self.special_id, self.form.value("on"),
                             self.form.value("reason"))
        return ok


