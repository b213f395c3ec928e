"""组织 page: 非公有制经济组织 and 社会组织 in a lazy list with search and a kind filter; the form checks the
统一社会信用代码 (GB 32100 check character) and refuses a code already registered, naming the holder."""
from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shell.ui.widgets import Column, LazyTableModel, SearchBox
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..labels import ORG_KINDS
from .common import grid_choices, grid_label, service_call, show_listing

ORG_FORM_FIELDS = ("kind", "name", "credit_code", "area_id", "legal_rep", "security_head", "phone", "address", "hazard",
                   "has_party_org", "party_members")


class OrganisationDialog(FormDialog):
    """登记 (``org_id`` None) or 修改 an organisation."""

    def __init__(self, app_ctx, parent: QWidget | None = None, org_id: int | None = None):
        super().__init__(parent, "修改组织" if org_id else "登记组织", "grid-organisation-form", ok_text="保存")
        self.app_ctx, self.org_id = app_ctx, org_id
        self.saved_id: int | None = org_id
        o = None
        if org_id is not None:
            with app_ctx.service(commit=False) as ctx:
                org = svc.get_organisation(ctx, org_id)
                self.expected_version = org.version_id
                # read now: the form is built after the session closes (its rollback expires the row)
                o = SimpleNamespace(**{k: getattr(org, k) for k in ORG_FORM_FIELDS})
        f = self.form
        kind = QComboBox()
        for k in ORG_KINDS:
            kind.addItem(k, k)
        kind.setCurrentIndex(max(0, kind.findData(o.kind if o else ORG_KINDS[0])))
        f.add("kind", "组织类别", kind, required=True)
        f.add("name", "组织名称", QLineEdit(o.name if o else ""), required=True)
        f.add("credit_code", "统一社会信用代码", QLineEdit(o.credit_code if o else ""), required=True,
              hint="18 位，最后一位是校验码；全角字符和小写字母会自动转换")
        grid = QComboBox()
        for label, area_id in grid_choices(app_ctx):
            grid.addItem(label, area_id)
        if o is not None:
            grid.setCurrentIndex(max(0, grid.findData(o.area_id)))
        f.add("area_id", "所属网格", grid, required=True)
        f.add("legal_rep", "法定代表人", QLineEdit((o.legal_rep or "") if o else ""))
        f.add("security_head", "治保负责人", QLineEdit((o.security_head or "") if o else ""))
        f.add("phone", "联系电话", QLineEdit((o.phone or "") if o else ""))
        f.add("address", "地址", QLineEdit((o.address or "") if o else ""))
        f.add("hazard", "安全隐患类型", QLineEdit((o.hazard or "") if o else ""))
        party = QCheckBox("已建立党组织")
        party.setChecked(bool(o and o.has_party_org))
        f.add("has_party_org", "党组织", party)
        members = QSpinBox()
        members.setRange(0, 100000)
        members.setValue(o.party_members if o else 0)
        f.add("party_members", "党员人数", members)
        if not app_ctx.actor.can(svc.P_PERSON):   # opened to look at (e.g. from another plugin)
            self.ok_button.setEnabled(False)
            self.ok_button.setToolTip("您没有“登记和修改人口、户、房屋、组织”权限")
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        values = {k: f.value(k) for k in ("kind", "name", "credit_code", "area_id", "legal_rep", "security_head",
                                          "phone", "address", "hazard", "has_party_org", "party_members")}
        if self.org_id is None:
            ok, org = service_call(self, self.app_ctx, lambda ctx: svc.register_organisation(ctx, **values))
            self.saved_id = org.id if ok else None
            return ok
        ok, _ = service_call(self, self.app_ctx, svc.update_organisation, self.org_id, self.expected_version, **values)
        return ok


class OrganisationsPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-organisations")
        self.search = SearchBox(self, placeholder="组织名称、统一社会信用代码或法定代表人")
        self.kind = QComboBox(self)
        self.kind.setObjectName("org-kind-filter")
        self.kind.addItem("全部类别", "")
        for k in ORG_KINDS:
            self.kind.addItem(k, k)
        self.kind.currentIndexChanged.connect(lambda _i: self.apply())
        self.count_label = QLabel(self)
        self.add_button = QPushButton("登记组织", self)
        self.add_button.setObjectName("org-add")
        self.add_button.setEnabled(app_ctx.actor.can(svc.P_PERSON))
        self.add_button.clicked.connect(lambda: self.open_form(None))
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.kind)
        top.addWidget(self.count_label)
        top.addWidget(self.add_button)
        self._grids: dict[int, str] = {}
        columns = [
            Column("组织名称", lambda o: o.name),
            Column("类别", lambda o: o.kind),
            Column("统一社会信用代码", lambda o: o.credit_code),
            Column("所属网格", lambda o: self.grid_label(o.area_id)),
            Column("法定代表人", lambda o: o.legal_rep),
            Column("党组织", lambda o: f"有（{o.party_members} 名党员）" if o.has_party_org else
                   (f"无（{o.party_members} 名党员）" if o.party_members else "无"), Qt.AlignmentFlag.AlignCenter),
            Column("安全隐患", lambda o: o.hazard),
        ]
        self.model = LazyTableModel(app_ctx.session_factory, columns, page_size=200, parent=self)
        self.model.count_changed.connect(lambda n: self.count_label.setText(f"共 {n} 个"))
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((230, 130, 205, 160, 90, 130)):
            self.table.horizontalHeader().resizeSection(column, width)
        self.table.doubleClicked.connect(lambda index: self.open_form(self.model.row_object(index.row()).id))
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.search.search.connect(lambda _t: self.apply())
        self.dialog: QDialog | None = None
        self.apply()

    grid_label = grid_label

    def apply(self) -> None:
        show_listing(self.model, svc.organisations_listing(self.app_ctx.actor, self.search.text(),
                                                           self.kind.currentData() or None))

    def open_form(self, org_id: int | None) -> OrganisationDialog:
        self.dialog = OrganisationDialog(self.app_ctx, self, org_id)
        self.dialog.accepted.connect(self.model.refresh)
        self.dialog.open()
        return self.dialog
