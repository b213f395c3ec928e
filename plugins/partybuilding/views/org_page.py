"""党组织与党员: the organisation tree with member counts (drag a node onto another to move it,
after a confirmation that says how many organisations and members move), the branch-rule findings
of the selected node, and its members with a search box."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
                               QFrame, QHeaderView, QLabel, QLineEdit, QPushButton, QScrollArea, QSplitter,
                               QTableWidget,
                               QTableWidgetItem, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from reports.masking import mask_id, mask_phone
from shell.core.areas import visible_areas
from shell.ui.errors import confirm, show_error

from .. import services as svc
from ..models import ORG_KINDS, STATUS_LABELS

ORG_ROLE = Qt.ItemDataRole.UserRole


class OrgTree(QTreeWidget):
    """A tree whose internal drag-and-drop asks the page to move, instead of moving items itself."""

    move_requested = Signal(int, int)  # org id, new parent id

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderLabels(["党组织", "类别", "党员", "正式党员"])
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setObjectName("pb-org-tree")

    def dropEvent(self, event):  # noqa: N802 - Qt name
        target = self.itemAt(event.position().toPoint())
        source = self.currentItem()
        event.ignore()  # the tree is rebuilt from the database after a move
        if target is not None and source is not None and target is not source:
            self.move_requested.emit(source.data(0, ORG_ROLE), target.data(0, ORG_ROLE))


class NewOrgDialog(QDialog):
    def __init__(self, app_ctx, parent_org, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"在“{parent_org.name}”下新建组织" if parent_org else "新建街道党工委")
        self.name = QLineEdit()
        self.kind = QComboBox()
        level = parent_org.level + 1 if parent_org else 1
        for code, (lvl, label) in ORG_KINDS.items():
            if lvl == level:
                self.kind.addItem(label, code)
        self.area = QComboBox()
        self.area.addItem("（同上级）", None)
        with app_ctx.service(commit=False) as sctx:
            for a in visible_areas(sctx):
                if a.level in svc.AREA_FIT[level]:
                    self.area.addItem(f"{a.level_label} · {a.name}", a.id)
        form = QFormLayout(self)
        form.addRow("名称", self.name)
        form.addRow("类别", self.kind)
        form.addRow("所在辖区", self.area)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class OrgPage(QWidget):
    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("partybuilding-orgs")
        self.tree = OrgTree()
        self.tree.move_requested.connect(self.request_move)
        self.tree.currentItemChanged.connect(lambda *_: self.show_selected())
        self.findings = QLabel()
        self.findings.setWordWrap(True)
        self.findings.setObjectName("pb-findings")
        self.search = QLineEdit()
        self.search.setPlaceholderText("姓名、拼音首字母或身份证号")
        self.search.textChanged.connect(lambda *_: self.show_members())
        self.members = QTableWidget(0, 7)
        self.members.setHorizontalHeaderLabels(["姓名", "性别", "阶段", "所在组织", "联系电话", "身份证号", "党籍状态"])
        self.members.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.members.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.new_button = QPushButton("新建下级组织")
        self.new_button.clicked.connect(self.new_child)
        self.dissolve_button = QPushButton("撤销组织")
        self.dissolve_button.clicked.connect(self.dissolve_selected)
        can_manage = app_ctx.actor.can(svc.ORG_MANAGE)
        self.new_button.setEnabled(can_manage)
        self.dissolve_button.setEnabled(can_manage)
        self.tree.setDragEnabled(can_manage)

        left = QWidget()
        lv = QVBoxLayout(left)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.dissolve_button)
        buttons.addStretch(1)
        lv.addLayout(buttons)
        lv.addWidget(self.tree)
        right = QWidget()
        rv = QVBoxLayout(right)
        # A street with many branches can have dozens of findings: scroll them, keep the members visible.
        findings_box = QScrollArea()
        findings_box.setWidgetResizable(True)
        findings_box.setFrameShape(QFrame.Shape.NoFrame)
        findings_box.setMaximumHeight(110)
        findings_box.setWidget(self.findings)
        rv.addWidget(findings_box)
        rv.addWidget(self.search)
        rv.addWidget(self.members)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        QVBoxLayout(self).addWidget(split)
        self.reload()

    # ------------------------------------------------------------------ data
    def reload(self, select_id: int | None = None) -> None:
        select_id = select_id or self.selected_id()
        self.tree.clear()
        items: dict[int, QTreeWidgetItem] = {}
        with self.app_ctx.service(commit=False) as sctx:
            for n in svc.org_tree(sctx):
                o = n.org
                parent = items.get(o.parent_id)
                item = QTreeWidgetItem([o.name, o.kind_label, str(n.members), str(n.full_members)])
                item.setData(0, ORG_ROLE, o.id)
                item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight)
                item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight)
                (parent.addChild(item) if parent else self.tree.addTopLevelItem(item))
                items[o.id] = item
        self.tree.expandToDepth(2)
        for i in range(4):
            self.tree.resizeColumnToContents(i)
        if select_id in items:
            self.tree.setCurrentItem(items[select_id])
        elif self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self.show_selected()

    def item_for(self, org_id: int) -> QTreeWidgetItem | None:
        it = self.tree.invisibleRootItem()
        stack = [it.child(i) for i in range(it.childCount())]
        while stack:
            item = stack.pop()
            if item.data(0, ORG_ROLE) == org_id:
                return item
            stack += [item.child(i) for i in range(item.childCount())]
        return None

    def selected_id(self) -> int | None:
        item = self.tree.currentItem() if hasattr(self, "tree") else None
        return item.data(0, ORG_ROLE) if item else None

    def show_selected(self) -> None:
        org_id = self.selected_id()
        if org_id is None:
            self.findings.setText("")
            self.members.setRowCount(0)
            return
        with self.app_ctx.service(commit=False) as sctx:
            found = svc.branch_findings(sctx, org_id=org_id)
        self.findings.setText("\n".join("⚠ " + f.message for f in found) if found else "未发现组织设置问题。")
        self.show_members()

    def show_members(self) -> None:
        org_id = self.selected_id()
        self.members.setRowCount(0)
        if org_id is None:
            return
        with self.app_ctx.service(commit=False) as sctx:
            rows = svc.list_members(sctx, org_id=org_id, text=self.search.text(), limit=500)
            # Lists always mask ID numbers and phones; the full number is a separate, audited view.
            data = [(m.name, m.sex, m.stage_label, m.org.name if m.org else "", mask_phone(m.phone or ""),
                     mask_id(m.id_number), STATUS_LABELS.get(m.status, m.status))
                    for m in rows]
        self.members.setRowCount(len(data))
        for r, values in enumerate(data):
            for c, v in enumerate(values):
                self.members.setItem(r, c, QTableWidgetItem(v))

    # ------------------------------------------------------------------ actions
    def request_move(self, org_id: int, new_parent_id: int) -> bool:
        """Validate, confirm with the counts, then move. Returns True when moved."""
        try:
            with self.app_ctx.service(commit=False) as sctx:
                org = svc.get_org(sctx, org_id)
                target = svc.get_org(sctx, new_parent_id)
                preview = svc.move_org(sctx, org_id, new_parent_id, preview=True)
                what = f"把{org.kind_label}“{org.name}”调整到“{target.name}”下？\n{preview.message}"
            if preview.organisations == 0:
                return False
            if not confirm(self, "调整隶属关系", what):
                return False
            with self.app_ctx.service() as sctx:
                svc.move_org(sctx, org_id, new_parent_id)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(self, exc)
            return False
        self.reload(org_id)
        return True

    def create_child(self, parent_id: int | None, name: str, kind: str, area_id: int | None) -> int | None:
        try:
            with self.app_ctx.service() as sctx:
                org = svc.create_org(sctx, name, kind, parent_id, area_id)
                new_id = org.id
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc)
            return None
        self.reload(new_id)
        return new_id

    def new_child(self) -> None:
        parent_id = self.selected_id()
        with self.app_ctx.service(commit=False) as sctx:
            parent_org = svc.get_org(sctx, parent_id) if parent_id else None
        dlg = NewOrgDialog(self.app_ctx, parent_org, self)
        if dlg.kind.count() == 0:
            show_error(self, svc.ValidationError("党员中心户下不能再建组织。"))
            return
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.create_child(parent_id, dlg.name.text(), dlg.kind.currentData(), dlg.area.currentData())

    def dissolve_selected(self, on: date | None = None) -> bool:
        org_id = self.selected_id()
        if org_id is None:
            return False
        item = self.tree.currentItem()
        if not confirm(self, "撤销组织", f"撤销“{item.text(0)}”？撤销后记录保留，可在台账中查到。"):
            return False
        try:
            with self.app_ctx.service() as sctx:
                svc.dissolve_org(sctx, org_id, on=on)
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc)
            return False
        self.reload()
        return True


def make_page(app_ctx, parent=None):
    return OrgPage(app_ctx, parent)
