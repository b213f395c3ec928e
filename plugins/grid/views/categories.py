"""事件类别与处置时限: the street-wide list of event categories and the form that adds or changes one."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from shell.ui.widgets.form import FormDialog

from .. import services as svc
from .common import fill, selected_id, service_call, table


class CategoryFormDialog(FormDialog):
    """新增 or 修改 an event category: its deadline in working days, whether it is a dispute (矛盾纠纷:
    the mediation fields), and whether it is still offered when reporting."""

    def __init__(self, app_ctx, parent: QWidget | None = None, category=None):
        super().__init__(parent, "修改事件类别" if category else "新增事件类别", "grid-category-form", ok_text="保存")
        self.app_ctx, self.category = app_ctx, category
        f = self.form
        f.add("name", "类别名称", QLineEdit(category.name if category else ""), required=True)
        days = QSpinBox()
        days.setRange(1, 365)
        days.setSuffix(" 个工作日")
        days.setValue(category.deadline_days if category else 5)
        f.add("deadline_days", "处置时限", days, hint="从立案次日起按工作日计算（含调休）")
        dispute = QCheckBox("矛盾纠纷类（办理时填写化解方式、化解情况）")
        dispute.setChecked(bool(category and category.is_dispute))
        f.add("is_dispute", "纠纷", dispute)
        active = QCheckBox("上报时可选")
        active.setChecked(category.active if category else True)
        f.add("active", "启用", active)
        self.finish_layout()

    def submit(self) -> bool:
        f, c = self.form, self.category
        ok, _ = service_call(self, self.app_ctx, svc.save_category, f.value("name"), f.value("deadline_days"),
                             c.id if c else None, f.value("is_dispute"), f.value("active"),
                             c.version_id if c else None)
        return ok


class CategoriesDialog(QDialog):
    """事件类别与处置时限 (street-wide configuration, permission grid.category.manage)."""

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-categories")
        self.setWindowTitle("事件类别与处置时限")
        self.resize(560, 380)
        self._fill = fill
        self.table = table(self, ["类别", "处置时限", "矛盾纠纷", "状态"], "categories-table")
        self.table.doubleClicked.connect(lambda _i: self.edit())
        self.add_button = QPushButton("新增…", self)
        self.add_button.clicked.connect(lambda: self._open(None))
        self.edit_button = QPushButton("修改…", self)
        self.edit_button.clicked.connect(self.edit)
        close = QPushButton("关闭", self)
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.edit_button)
        row.addStretch(1)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        self.form: CategoryFormDialog | None = None
        self.reload()

    def reload(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            cats = svc.category_rows(ctx, include_inactive=True)
        self.categories = {c.id: c for c in cats}
        self._fill(self.table, [(c.id, (c.name, f"{c.deadline_days} 个工作日", "是" if c.is_dispute else "",
                                        "启用" if c.active else "停用")) for c in cats])

    def edit(self) -> CategoryFormDialog | None:
        cid = selected_id(self.table)
        return self._open(self.categories[cid]) if cid is not None else None

    def _open(self, category) -> CategoryFormDialog:
        self.form = CategoryFormDialog(self.app_ctx, self, category)
        self.form.accepted.connect(self.reload)
        self.form.open()
        return self.form

