"""Dialogs of the organisation tree: new organisation (kind of the next level, area, founding date,
secretary, committee), edit (rename with a date, secretary, committee — version-checked), and
dissolve (date and reason; the organisation and its history stay)."""
from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from shell.core.areas import visible_areas
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..labels import LEVEL_LABELS, ORG_KINDS
from .common import Refused, attempt, date_edit


class OrgFormDialog(FormDialog):
    """``org_id`` None: a new organisation under ``parent_id``; otherwise edit that organisation."""

    def __init__(self, app_ctx, today: date, parent_id: int | None = None, org_id: int | None = None, parent=None):
        self.app_ctx, self.parent_id, self.org_id = app_ctx, parent_id, org_id
        self.saved_id: int | None = None
        self.expected_version: int | None = None
        with app_ctx.service(commit=False) as ctx:
            if org_id is not None:
                o = svc.get_org(ctx, org_id)
                current = dict(name=o.name, kind=o.kind, level=o.level, secretary=o.secretary or "",
                               has_committee=o.has_committee, size=o.committee_size,
                               elected=o.committee_elected_on)
                self.expected_version = o.version_id
                title = f"编辑党组织：{o.name}"
                level = o.level
            else:
                p = svc.get_org(ctx, parent_id) if parent_id is not None else None
                level = p.level + 1 if p is not None else 1
                parent_area_path = svc.org_area(ctx, p.id).path if p is not None else ""
                areas = [(a.id, f"{a.level_label} · {a.name}") for a in visible_areas(ctx)
                         if a.level in svc.AREA_FIT.get(level, ()) and a.is_open and a.path.startswith(parent_area_path)]
                title = f"在“{p.name}”下新建{LEVEL_LABELS.get(level, '组织')}" if p is not None else "新建街道党工委"
                current = None
        super().__init__(parent, title, "pb-org-form", ok_text="保存" if org_id else "新建")
        f = self.form
        f.add("name", "名称", QLineEdit(current["name"] if current else ""), required=True)
        if current is None:
            kind = QComboBox()
            for code, (lvl, label) in ORG_KINDS.items():
                if lvl == level:
                    kind.addItem(label, code)
            f.add("kind", "类别", kind)
            area = QComboBox()
            if level >= 4:
                area.addItem("（同上级组织）", None)
            for aid, label in areas:
                area.addItem(label, aid)
            f.add("area_id", "所在辖区", area)
            f.add("founded_on", "成立日期", date_edit(today))
        else:
            f.add("renamed_on", "更名日期", date_edit(today), hint="名称改动时记入组织沿革")
        f.add("secretary", "书记", QLineEdit(current["secretary"] if current else ""))
        has = QCheckBox("设委员会（支部委员会 / 党委委员会）")
        size = QSpinBox()
        size.setRange(0, 15)
        size.setSuffix(" 名委员")
        elected = date_edit(current["elected"] if current and current["elected"] else today)
        if current is not None:
            has.setChecked(current["has_committee"])
            size.setValue(current["size"] or 3)
        else:
            size.setValue(3)
        f.add("has_committee", "委员会", has)
        f.add("committee_size", "委员人数", size, hint="一般 3 至 5 名，最多 7 名")
        f.add("committee_elected_on", "选举（换届）日期", elected)
        if level == 5:
            has.setChecked(False)
            for key in ("has_committee", "committee_size", "committee_elected_on"):
                f.fields[key].setEnabled(False)
        has.toggled.connect(self._committee_toggled)
        self._committee_toggled(has.isChecked())
        self.finish_layout()

    def _committee_toggled(self, on: bool) -> None:
        for key in ("committee_size", "committee_elected_on"):
            self.form.fields[key].setEnabled(on)

    def submit(self) -> bool:
        f = self.form
        has = f.value("has_committee")
        size = f.value("committee_size") if has else None
        elected = f.value("committee_elected_on") if has else None
        with attempt(self.app_ctx) as ctx:
            if self.org_id is None:
                ok, org = self.call(svc.create_org, ctx, f.value("name"), f.value("kind"), self.parent_id,
                                    f.value("area_id"), founded_on=f.value("founded_on"), secretary=f.value("secretary"),
                                    has_committee=has, committee_size=size, committee_elected_on=elected)
            else:
                ok, org = self.call(svc.rename_org, ctx, self.org_id, f.value("name"), f.value("renamed_on"),
                                    expected_version=self.expected_version)
                if ok:
                    ok, org = self.call(svc.update_committee, ctx, self.org_id, has, size, elected,
                                        secretary=f.value("secretary"))
            if not ok:
                raise Refused   # a rename without its committee change is not saved either
            self.saved_id = org.id
        return ok


class DissolveDialog(FormDialog):
    def __init__(self, app_ctx, org_id: int, name: str, today: date, parent=None):
        self.app_ctx, self.org_id = app_ctx, org_id
        super().__init__(parent, f"撤销党组织：{name}", "pb-dissolve", ok_text="撤销",
                         intro="撤销后组织及其沿革、会议、党员组织关系记录都保留，可在台账中查到。"
                               "下级组织和党员须先调整到其他组织。")
        self.form.add("dissolved_on", "撤销日期", date_edit(today))
        self.form.add("reason", "撤销原因", QLineEdit(), required=True, hint="如：小区合并、党员人数不足与相邻支部联合")
        self.finish_layout()

    def submit(self) -> bool:
        with attempt(self.app_ctx) as ctx:
            ok, _ = self.call(svc.dissolve_org, ctx, self.org_id, self.form.value("dissolved_on"),
                              self.form.value("reason"))
            if not ok:
                raise Refused
        return ok
