"""设置 → 部门与单位: the street's directory of 派遣对象 (register_settings_pages), the form that adds
or changes an entry, and the searchable chooser the 派遣 dialog and the events page use."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from shell.ui.widgets.form import FormDialog

from .. import services as svc
from .common import fill, selected_id, service_call, table

HEADERS = ["名称", "类别", "联系人", "联系电话", "默认处置时限", "状态"]


def deadline_text(days: int | None) -> str:
    return f"{days} 个工作日" if days else "按事件类别"


class DepartmentChooser(QComboBox):
    """The active directory entries in a combo box one can type into: typing narrows the list to the
    entries whose name contains the text (城管, 社区, 所 …); ``department_id()`` is the chosen entry."""

    def __init__(self, rows, parent: QWidget | None = None, empty: str | None = None):
        super().__init__(parent)
        self.setObjectName("department-chooser")
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMinimumContentsLength(16)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        if empty is not None:
            self.addItem(empty, None)
        for r in rows:
            self.addItem(r.label, r.id)
            self.setItemData(self.count() - 1, f"{r.kind}；联系人 {r.contact or '—'} {r.phone}".strip(),
                             Qt.ItemDataRole.ToolTipRole)
        completer = QCompleter(self.model(), self)
        completer.setCompletionColumn(0)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        self.lineEdit().setPlaceholderText("输入名称查找，如“城管”“社区”")
        self.setCurrentIndex(0 if empty is not None else -1)

    def department_id(self) -> int | None:
        """The entry whose label is in the box (what was typed must name one exactly, or be chosen)."""
        index = self.findText(self.currentText().strip(), Qt.MatchFlag.MatchExactly)
        return self.itemData(index) if index >= 0 else None

    def choose(self, department_id: int | None) -> None:
        self.setCurrentIndex(max(self.findData(department_id), 0))


class DepartmentFormDialog(FormDialog):
    """新增 or 修改 an entry: name, kind, contact, phone, default deadline, whether it is offered."""

    def __init__(self, app_ctx, parent: QWidget | None = None, row: svc.DepartmentRow | None = None):
        super().__init__(parent, "修改部门与单位" if row else "新增部门与单位", "grid-department-form", ok_text="保存")
        self.app_ctx, self.row = app_ctx, row
        f = self.form
        f.add("name", "名称", QLineEdit(row.name if row else ""), required=True)
        kind = QComboBox()
        for k in svc.DEPARTMENT_KINDS:
            kind.addItem(k, k)
        kind.setCurrentIndex(max(kind.findData(row.kind if row else "职能部门"), 0))
        f.add("kind", "类别", kind)
        f.add("contact", "联系人", QLineEdit(row.contact if row else ""))
        f.add("phone", "联系电话", QLineEdit(row.phone if row else ""), hint="手机号 11 位，固话如 010-62345678")
        days = QSpinBox()
        days.setRange(0, svc.MAX_DEADLINE_DAYS)
        days.setSpecialValueText("按事件类别")
        days.setSuffix(" 个工作日")
        days.setValue((row.deadline_days or 0) if row else 0)
        f.add("deadline_days", "默认处置时限", days, hint="派遣时从当天起按工作日计算（含调休）；可在派遣时修改")
        active = QCheckBox("派遣时可选")
        active.setChecked(row.active if row else True)
        f.add("active", "启用", active)
        self.finish_layout()

    def submit(self) -> bool:
        f, r = self.form, self.row
        ok, _ = service_call(self, self.app_ctx, svc.save_department, f.value("name"), f.value("kind"),
                             f.value("contact"), f.value("phone"), f.value("deadline_days") or None,
                             f.value("active"), r.id if r else None, r.version_id if r else None)
        return ok


class DepartmentsPage(QWidget):
    """设置 → 部门与单位: every entry (inactive ones too), searchable; 新增/修改 with
    ``grid.department.manage``, read-only otherwise."""

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.can_edit = app_ctx.actor.can(svc.P_DEPARTMENT)
        intro = QLabel("事件派遣的对象：街道职能部门、社区居委会、驻区单位和企业。派遣时从这里选择，"
                       "处置时限默认按所选单位的工作日数计算。停用的单位不再出现在派遣对象中，已派遣的事件不受影响。", self)
        intro.setWordWrap(True)
        intro.setObjectName("departments-intro")
        self.search = QLineEdit(self)
        self.search.setObjectName("departments-search")
        self.search.setPlaceholderText("按名称、类别或联系人查找")
        self.search.textChanged.connect(lambda _t: self.show_rows())
        self.count_label = QLabel(self)
        self.table = table(self, HEADERS, "departments-table")
        self.table.doubleClicked.connect(lambda _i: self.edit() if self.can_edit else None)
        self.add_button = QPushButton("新增…", self)
        self.add_button.setObjectName("department-add")
        self.add_button.clicked.connect(lambda: self._open(None))
        self.edit_button = QPushButton("修改…", self)
        self.edit_button.setObjectName("department-edit")
        self.edit_button.clicked.connect(self.edit)
        for b in (self.add_button, self.edit_button):
            b.setVisible(self.can_edit)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.add_button)
        top.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        if not self.can_edit:
            note = QLabel("只读：修改部门与单位需要“管理部门与单位目录”权限。", self)
            note.setStyleSheet("color: #777;")
            layout.addWidget(note)
        self.form: DepartmentFormDialog | None = None
        self.rows: list[svc.DepartmentRow] = []
        self.reload()

    def reload(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            self.rows = svc.department_rows(ctx, include_inactive=True)
        self.show_rows()

    def show_rows(self) -> None:
        text = self.search.text().strip()
        rows = [r for r in self.rows if not text or text in r.name or text in r.kind or text in r.contact]
        fill(self.table, [(r.id, (r.name, r.kind, r.contact, r.phone, deadline_text(r.deadline_days),
                                  "启用" if r.active else "停用")) for r in rows])
        active = sum(r.active for r in self.rows)
        self.count_label.setText(f"共 {len(self.rows)} 个（启用 {active} 个）" if not text else f"找到 {len(rows)} 个")

    def edit(self) -> DepartmentFormDialog | None:
        rid = selected_id(self.table)
        row = next((r for r in self.rows if r.id == rid), None)
        return self._open(row) if row is not None else None

    def _open(self, row) -> DepartmentFormDialog:
        self.form = DepartmentFormDialog(self.app_ctx, self, row)
        self.form.accepted.connect(self.reload)
        self.form.open()
        return self.form
