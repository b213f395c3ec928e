"""The member card's actions: the next development stage, the probation extension, 调整组织 inside
the street, and 党籍状态 / 流动 / 失联 — each one service call (or a few, all or nothing)."""
from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox

from shell.errors import ValidationError
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..labels import STAGE_LABELS, STATUS_LABELS
from .common import Refused, attempt, date_edit, optional_date_edit, parse_date


class AdvanceDialog(FormDialog):
    def __init__(self, app_ctx, member_id: int, name: str, to_stage: str, today: date, parent=None):
        self.app_ctx, self.member_id, self.to_stage = app_ctx, member_id, to_stage
        intro = {"activist": "经支部委员会研究，确定为入党积极分子。",
                 "candidate": "经支部委员会研究、上级党委备案，列为发展对象。",
                 "probationary": "支部大会讨论通过、上级党委审批，接收为预备党员；预备期从支部大会通过之日起算一年。",
                 "full": "预备期满，经支部大会讨论通过、上级党委审批，转为正式党员。"}[to_stage]
        super().__init__(parent, f"{name}：转为{STAGE_LABELS[to_stage]}", "pb-advance", intro=intro,
                         ok_text=f"转为{STAGE_LABELS[to_stage]}")
        self.form.add("on", "日期" if to_stage != "probationary" else "支部大会通过日期", date_edit(today))
        self.finish_layout()

    def submit(self) -> bool:
        with attempt(self.app_ctx) as ctx:
            ok, _ = self.call(svc.advance_stage, ctx, self.member_id, self.to_stage, self.form.value("on"))
            if not ok:
                raise Refused
        return ok


class ExtendDialog(FormDialog):
    def __init__(self, app_ctx, member_id: int, name: str, today: date, parent=None):
        self.app_ctx, self.member_id = app_ctx, member_id
        super().__init__(parent, f"{name}：延长预备期", "pb-extend",
                         intro="预备期只能延长一次，时间为半年至一年。", ok_text="延长")
        months = QSpinBox()
        months.setRange(1, 24)
        months.setValue(6)
        months.setSuffix(" 个月")
        self.form.add("extension_months", "延长", months)
        self.form.add("extended_on", "支部大会决定日期", date_edit(today))
        self.finish_layout()

    def submit(self) -> bool:
        with attempt(self.app_ctx) as ctx:
            ok, _ = self.call(svc.extend_probation, ctx, self.member_id, self.form.value("extension_months"),
                              self.form.value("extended_on"))
            if not ok:
                raise Refused
        return ok


class JoinOrgDialog(FormDialog):
    """调整组织 inside the street: the current period closes that day and a new one opens."""

    def __init__(self, app_ctx, member_id: int, name: str, current_org_id: int | None, today: date, parent=None):
        self.app_ctx, self.member_id = app_ctx, member_id
        super().__init__(parent, f"{name}：调整所在党组织", "pb-join-org", ok_text="调整",
                         intro="本街道内调整支部或编入党小组；转出本街道请在“组织关系转接”开具介绍信。")
        orgs = QComboBox()
        with app_ctx.service(commit=False) as ctx:
            choices = [o for o in svc.visible_orgs(ctx) if o.level >= 2 and o.id != current_org_id]
            labels = svc.org_labels_for(ctx, [o.id for o in choices])
            for o in choices:
                orgs.addItem(labels[o.id], o.id)
        self.form.add("org_id", "调整到", orgs)
        self.form.add("on", "调整日期", date_edit(today))
        self.form.add("reason", "原因", QLineEdit("调整组织"))
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        with attempt(self.app_ctx) as ctx:
            ok, _ = self.call(svc.join_org, ctx, self.member_id, f.value("org_id"), f.value("on"),
                              f.value("reason") or "调整组织")
            if not ok:
                raise Refused
        return ok


class SituationDialog(FormDialog):
    """党籍状态, 流动党员 (where to, since) and 失联 (since) in one place."""

    def __init__(self, app_ctx, member_id: int, parent=None):
        self.app_ctx, self.member_id = app_ctx, member_id
        with app_ctx.service(commit=False) as ctx:
            m = svc.get_member(ctx, member_id)
            name, status, dest, since, lost = m.name, m.status, m.mobile_destination, m.mobile_since, m.lost_contact_on
        self.before = (status, dest or "", since, lost)
        super().__init__(parent, f"{name}：党籍与流动、失联情况", "pb-situation",
                         intro="外出 6 个月以上且地点固定的应转接组织关系；未转接的登记为流动党员。"
                               "失去联系满 6 个月列入失联党员。")
        st = QComboBox()
        for code in ("normal", "suspended", "left", "deceased"):
            st.addItem(STATUS_LABELS[code], code)
        st.setCurrentIndex(max(0, st.findData(status)))
        self.form.add("status", "党籍状态", st, hint="已出党、已去世将结束其组织关系")
        self.form.add("reason", "原因", QLineEdit())
        self.form.add("mobile_destination", "外出流向", QLineEdit(dest or ""), hint="空 = 不是流动党员")
        mob = optional_date_edit()
        mob.setText(str(since) if since else "")
        self.form.add("mobile_since", "外出日期", mob)
        lost_w = optional_date_edit()
        lost_w.setText(str(lost) if lost else "")
        self.form.add("lost_contact_on", "失去联系日期", lost_w, hint="空 = 联系正常")
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        try:
            since = parse_date(f.value("mobile_since"), "mobile_since", "外出日期")
            lost = parse_date(f.value("lost_contact_on"), "lost_contact_on", "失去联系日期")
        except ValidationError as exc:
            f.show_errors({exc.field: exc.message})
            return False
        dest = f.value("mobile_destination")
        ok = True
        with attempt(self.app_ctx) as ctx:
            steps = []
            if (dest, since) != (self.before[1], self.before[2]):
                steps.append((svc.set_mobile, (dest or None, since)))
            if lost != self.before[3]:
                steps.append((svc.set_lost_contact, (lost,)))
            if f.value("status") != self.before[0]:
                steps.append((svc.set_status, (f.value("status"), f.value("reason"))))
            for fn, args in steps:
                ok, _ = self.call(fn, ctx, self.member_id, *args)
                if not ok:
                    raise Refused  # all or nothing: the steps before it are not saved either
        return ok
