"""党组织与党员: the organisation tree with member counts (drag a node onto another to move it,
after a confirmation that says how many organisations and members move), the branch-rule findings
of the selected node, and its members with a search box."""
from __future__ import annotations

from datetime import date
from typing import NamedTuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.ui.errors import confirm, show_error
from shell.ui.widgets import SearchBox

from .. import services as svc
from .member_card import MemberCardDialog
from .members import MemberFormDialog, MemberTable
from .org_dialogs import DissolveDialog, OrgFormDialog

ORG_ROLE = Qt.ItemDataRole.UserRole
EVENT_LABELS = {"founded": "", "renamed": "", "moved": "", "dissolved": "撤销"}


class _Node(NamedTuple):
    id: int
    parent_id: int | None
    name: str
    kind: str
    kind_label: str
    path: str
    depth: int
    members: int
    full_members: int


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

    def dropEvent(self, event):  # Qt name
        target = self.itemAt(event.position().toPoint())
        source = self.currentItem()
        event.ignore()  # the tree is rebuilt from the database after a move
        if target is not None and source is not None and target is not source:
            self.move_requested.emit(source.data(0, ORG_ROLE), target.data(0, ORG_ROLE))


class OrgPage(QWidget):
    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.all_findings: list[svc.Finding] = []
        self.paths: dict[int, str] = {}
        self.kinds: dict[int, str] = {}
        self.items: dict = {}
        self.nodes: list = []
        self.children: dict = {}
        self._populated: set[int] = set()
        self.households_dialog = None
        self.setObjectName("partybuilding-orgs")
        self.tree = OrgTree()
        self.tree.move_requested.connect(self.request_move)
        self.tree.currentItemChanged.connect(lambda *_: self.show_selected())
        self.tree.itemExpanded.connect(self._populate)
        self.findings = QLabel()
        self.findings.setWordWrap(True)
        self.findings.setObjectName("pb-findings")
        self.search = SearchBox(self)
        self.search.search.connect(lambda *_: self.show_members())
        self.members = MemberTable(app_ctx, self)
        self.members.open_member.connect(self.open_card)
        self.member_count = QLabel()
        self.members.model_.count_changed.connect(lambda n: self.member_count.setText(f"共 {n} 人"))
        self.add_member_button = QPushButton("新增党员…")
        self.add_member_button.setObjectName("pb-add-member")
        self.add_member_button.clicked.connect(self.new_member)
        self.add_member_button.setEnabled(app_ctx.actor.can(svc.MEMBER_MANAGE))
        self.card_button = QPushButton("党员卡片…")
        self.card_button.setObjectName("pb-open-card")
        self.card_button.clicked.connect(lambda: self.open_card(self.members.current_member_id()))
        self.card: MemberCardDialog | None = None
        self.member_dialog: MemberFormDialog | None = None
        self.new_button = QPushButton("新建下级…")
        self.new_button.clicked.connect(self.new_child)
        self.edit_button = QPushButton("编辑…")
        self.edit_button.setToolTip("更名、书记、委员会换届")
        self.edit_button.clicked.connect(self.edit_selected)
        self.org_dialog = None
        self.dissolve_button = QPushButton("撤销…")
        self.dissolve_button.clicked.connect(self.dissolve_selected)
        can_manage = app_ctx.actor.can(svc.ORG_MANAGE)
        self.new_button.setEnabled(can_manage)
        self.edit_button.setEnabled(can_manage)
        self.dissolve_button.setEnabled(can_manage)
        self.tree.setDragEnabled(can_manage)

        left = QWidget()
        lv = QVBoxLayout(left)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.dissolve_button)
        self.roster_button = QPushButton("打印花名册")
        self.roster_button.setObjectName("pb-print-roster")
        self.roster_button.setToolTip("所选党组织（含下级）的党员花名册（全国党员信息采集 16 项）")
        self.roster_button.clicked.connect(lambda: self.print_roster())
        self.roster_handle = None
        self.households_button = QPushButton("联系户…")
        self.households_button.setToolTip("党员中心户联系的住户，可关联网格住户档案")
        self.households_button.clicked.connect(self.open_households)
        buttons.addWidget(self.households_button)
        buttons.addStretch(1)
        lv.addLayout(buttons)
        self.find_org = SearchBox(self, placeholder="查找党组织：名称或拼音，回车找下一个")
        self.find_org.setObjectName("pb-find-org")
        self._just_found = False
        self.find_org.search.connect(self._find_first)
        self.find_org.returnPressed.connect(self._find_again)
        lv.addWidget(self.find_org)
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
        self.history = QLabel()
        self.history.setObjectName("pb-org-history")
        self.history.setWordWrap(True)
        self.history.setStyleSheet("color: #555;")
        rv.addWidget(self.history)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.member_count)
        bar.addWidget(self.add_member_button)
        bar.addWidget(self.card_button)
        bar.addWidget(self.roster_button)
        rv.addLayout(bar)
        rv.addWidget(self.members)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        split.setSizes([400, 800])
        QVBoxLayout(self).addWidget(split)
        self.reload()

    # ------------------------------------------------------------------ data
    def reload(self, select_id: int | None = None) -> None:
        """Read the tree (two queries) and show it: the items of 党工委, 党委/党总支 and 党支部 at once,
        the 党小组 and 党员中心户 below a branch when it is first expanded (or found, or selected) —
        a street's 2,000 items cost more to build than to read."""
        select_id = select_id or self.selected_id()
        self.tree.blockSignals(True)  # one show_selected at the end, not one per selection change
        self.tree.clear()
        self.items: dict[int, QTreeWidgetItem] = {}
        with self.app_ctx.service(commit=False) as sctx:
            tree = svc.org_tree(sctx)
            # Findings of the whole tree once per reload; selecting a node only filters them.
            self.all_findings = svc.branch_findings(sctx, nodes=tree)
            # Plain values: the items below a branch are built later, after the session closed.
            nodes = [_Node(n.org.id, n.org.parent_id, n.org.name, n.org.kind, n.org.kind_label, n.org.path, n.depth,
                           n.members, n.full_members) for n in tree]
        self.nodes = nodes
        self.paths = {n.id: n.path for n in nodes}
        self.kinds = {n.id: n.kind for n in nodes}
        self.children: dict[int | None, list] = {}
        for n in nodes:
            parent = n.parent_id if n.parent_id in self.paths else None
            self.children.setdefault(parent, []).append(n)
        self._populated: set[int] = set()
        for n in self.children.get(None, []):
            self.tree.addTopLevelItem(self._make_item(n))
        stack = [n for n in self.children.get(None, [])]
        while stack:   # the first three levels
            n = stack.pop()
            if n.depth < 2:
                self._populate(self.items[n.id])
                stack += self.children.get(n.id, [])
        self.tree.expandToDepth(1)
        # Fixed widths: measuring 2,000 items costs more than building them.
        for i, width in enumerate((184, 70, 44, 56)):
            self.tree.setColumnWidth(i, width)
        item = self.item_for(select_id) if select_id is not None else None
        if item is not None:
            self.tree.setCurrentItem(item)
        elif self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self.tree.blockSignals(False)
        self.show_selected()

    def _make_item(self, n: _Node) -> QTreeWidgetItem:
        item = QTreeWidgetItem([n.name, n.kind_label, str(n.members), str(n.full_members)])
        item.setData(0, ORG_ROLE, n.id)
        item.setToolTip(0, n.name)
        item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight)
        item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight)
        if self.children.get(n.id):
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        self.items[n.id] = item
        return item

    def _populate(self, item: QTreeWidgetItem) -> None:
        org_id = item.data(0, ORG_ROLE)
        if org_id in self._populated:
            return
        self._populated.add(org_id)
        item.addChildren([self._make_item(n) for n in self.children.get(org_id, [])])
        item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicatorWhenChildless)

    def _find_first(self, text: str) -> None:
        from PySide6.QtCore import QTimer

        # Enter flushes the typing (SearchBox) and then reaches _find_again in the same turn of the
        # event loop: that Enter has just run this first search. The mark lasts to the next turn
        # only, so an Enter pressed later finds the next one (a clock would depend on the load).
        self._just_found = True
        QTimer.singleShot(0, self._forget_first)
        self.find_next(text, restart=True)

    def _forget_first(self) -> None:
        self._just_found = False

    def _find_again(self) -> None:
        if self._just_found:
            self._just_found = False
            return
        self.find_next(self.find_org.text())

    def find_next(self, text: str, restart: bool = False) -> bool:
        """Select the next node (in tree order) whose name matches ``text`` (pinyin initials too)."""
        from shell.text import matches_name

        text = (text or "").strip()
        if not text:
            return False
        hits = [n.id for n in self.nodes if matches_name(n.name, text)]
        if not hits:
            self.find_org.setToolTip(f"没有名称含“{text}”的党组织")
            return False
        current = self.selected_id()
        start = 0
        if not restart and current in hits:
            start = (hits.index(current) + 1) % len(hits)
        item = self.item_for(hits[start])
        self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)
        self.find_org.setToolTip(f"找到 {len(hits)} 个，回车找下一个")
        return True

    def item_for(self, org_id: int | None) -> QTreeWidgetItem | None:
        """The item of ``org_id``, built (with its ancestors expanded) if it was not yet."""
        if org_id not in self.paths:
            return None
        if org_id not in self.items:
            for anc in (int(i) for i in self.paths[org_id].strip("/").split("/")):
                item = self.items.get(anc)
                if item is None:
                    return None
                if anc != org_id:
                    self._populate(item)
                    item.setExpanded(True)
        return self.items.get(org_id)

    def selected_id(self) -> int | None:
        item = self.tree.currentItem() if hasattr(self, "tree") else None
        return item.data(0, ORG_ROLE) if item else None

    def show_selected(self) -> None:
        org_id = self.selected_id()
        self.households_button.setEnabled(self.kinds.get(org_id) == "household")
        if org_id is None:
            self.findings.setText("")
            self.history.setText("")
            self.members.show_query(None, "")
            return
        root = self.paths.get(org_id, "")
        found = [f for f in self.all_findings if self.paths.get(f.org_id, "").startswith(root)]
        self.findings.setText("\n".join("⚠ " + f.message for f in found) if found else "未发现组织设置问题。")
        with self.app_ctx.service(commit=False) as sctx:
            events = []
            for e in svc.org_history(sctx, org_id):
                label = EVENT_LABELS.get(e.event, e.event)
                events.append(f"{e.on} {label}{'：' if label and e.detail else ''}{e.detail}")
        # The latest few steps of the organisation's history (成立, 更名, 调整隶属, 撤销).
        self.history.setText("组织沿革：" + "；".join(events[-4:]) if events else "")
        self.show_members()

    def show_members(self) -> None:
        # Keyset pages of 200: a street of 10,000 members never loads at once.
        self.members.show_query(self.selected_id(), self.search.text())

    def open_card(self, member_id: int | None) -> MemberCardDialog | None:
        if member_id is None:
            return None
        try:
            self.card = MemberCardDialog(self.app_ctx, member_id, self)
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc)
            return None
        self.card.changed.connect(self.after_member_change)
        self.card.show()
        return self.card

    def print_roster(self, on_ready=None):
        """The 花名册 of the selected subtree, rendered by the report engine off the GUI thread."""
        from .common import print_report

        org_id = self.selected_id()
        if org_id is None:
            return None
        item = self.tree.currentItem()
        try:
            self.roster_handle = print_report(self, self.app_ctx, "partybuilding.roster", {"org": org_id},
                                              f"党员花名册-{item.text(0)}", on_ready=on_ready)
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc)
            return None
        return self.roster_handle

    def open_households(self):
        from .households import HouseholdsDialog

        org_id = self.selected_id()
        if org_id is None or self.kinds.get(org_id) != "household":
            return None
        self.households_dialog = HouseholdsDialog(self.app_ctx, org_id, self)
        self.households_dialog.show()
        return self.households_dialog

    def new_member(self) -> MemberFormDialog | None:
        org_id = self.selected_id()
        if org_id is None:
            return None
        self.member_dialog = MemberFormDialog(self.app_ctx, org_id, parent=self)
        self.member_dialog.accepted.connect(self.after_member_change)
        self.member_dialog.open()
        return self.member_dialog

    def after_member_change(self) -> None:
        self.reload(self.selected_id())

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

    def today(self) -> date:
        from shell.clock import local_today

        return local_today(self.app_ctx.clock())

    def _open_dialog(self, dialog, after) -> None:
        self.org_dialog = dialog
        dialog.accepted.connect(after)
        dialog.open()

    def new_child(self):
        parent_id = self.selected_id()
        if parent_id is not None and self.kinds.get(parent_id) == "household":
            show_error(self, svc.ValidationError("党员中心户下不能再建组织。"))
            return None
        dlg = OrgFormDialog(self.app_ctx, self.today(), parent_id=parent_id, parent=self)
        self._open_dialog(dlg, lambda: self.reload(dlg.saved_id))
        return dlg

    def edit_selected(self):
        org_id = self.selected_id()
        if org_id is None:
            return None
        dlg = OrgFormDialog(self.app_ctx, self.today(), org_id=org_id, parent=self)
        self._open_dialog(dlg, lambda: self.reload(org_id))
        return dlg

    def dissolve_selected(self):
        org_id = self.selected_id()
        if org_id is None:
            return None
        dlg = DissolveDialog(self.app_ctx, org_id, self.tree.currentItem().text(0), self.today(), self)
        self._open_dialog(dlg, lambda: self.reload())
        return dlg


def make_page(app_ctx, parent=None):
    return OrgPage(app_ctx, parent)
