"""实有人口 page: the shared list page (shell/ui/widgets/list_page.py) over the resident listing — search by
name, pinyin, ID number and phone, the area tree, 含已迁出 — with 导出 Excel and 打印, and the person
registration form. Views call services only."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.core.list_output import ListColumn
from shell.errors import JiedaoError, ValidationError
from shell.ui.widgets import Form
from shell.ui.widgets.list_page import ListPage

from .. import services as svc
from ..labels import PERSON_KINDS
from .common import grid_choices
from .people import PersonDetailDialog


class AreaTree(QTreeWidget):
    """街道 → 社区 → 网格 in the user's scope; choosing one narrows the list to its subtree."""

    area_changed = Signal(object)

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("grid-area-tree")
        self.setHeaderHidden(True)
        self.setMinimumWidth(160)
        with app_ctx.service(commit=False) as ctx:
            areas = svc.area_tree(ctx)
        self.areas = {a.id: a for a in areas}
        everything = QTreeWidgetItem(self, ["全部（我的辖区）"])
        everything.setData(0, Qt.ItemDataRole.UserRole, None)
        items: dict[int, QTreeWidgetItem] = {}
        for a in areas:
            parent_item = items.get(a.parent_id)
            item = QTreeWidgetItem(parent_item if parent_item is not None else self, [a.name])
            item.setData(0, Qt.ItemDataRole.UserRole, a.id)
            items[a.id] = item
        self.items = items
        self.expandToDepth(1)
        self.setCurrentItem(everything)
        self.currentItemChanged.connect(lambda *_: self.area_changed.emit(self.area()))

    def area(self):
        item = self.currentItem()
        area_id = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return self.areas.get(area_id)

    def select(self, area_id: int | None) -> None:
        self.setCurrentItem(self.items[area_id] if area_id is not None else self.topLevelItem(0))


class PersonDialog(QDialog):
    """登记实有人口. Service errors are shown next to the field they name."""

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.saved_id: int | None = None
        self.setWindowTitle("登记实有人口")
        self.setObjectName("grid-person-dialog")
        self.form = Form(self)
        f = self.form
        f.add("name", "姓名", QLineEdit(self), required=True)
        f.add("id_number", "公民身份号码", QLineEdit(self), required=True, hint="性别和出生日期由号码自动得出；15 位旧号自动升位")
        grid = QComboBox(self)
        for label, area_id in grid_choices(app_ctx):
            grid.addItem(label, area_id)
        f.add("area_id", "责任网格", grid, required=True)
        kind = QComboBox(self)
        for code, label in PERSON_KINDS.items():
            kind.addItem(label, code)
        f.add("kind", "人口类别", kind)
        f.add("phone", "联系电话", QLineEdit(self))
        f.add("ethnicity", "民族", QLineEdit("汉族", self))
        f.add("current_address", "现住址", QLineEdit(self))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(buttons)

    def save(self) -> None:
        f = self.form
        try:
            with self.app_ctx.service() as ctx:
                person = svc.register_person(
                    ctx, area_id=f.value("area_id"), name=f.value("name"), id_number=f.value("id_number"),
                    kind=f.value("kind"), phone=f.value("phone"), ethnicity=f.value("ethnicity"),
                    current_address=f.value("current_address"))
                self.saved_id = person.id
        except ValidationError as exc:
            f.show_exception(exc)          # every field the rules refused, each beside its field
            return
        except JiedaoError as exc:
            f.show_errors({None: exc.message})
            return
        self.accept()


def _kind(p) -> str:
    return PERSON_KINDS.get(p.kind, p.kind)


# Lists always mask ID numbers and phones (data rules); the full number is shown on request in the
# record (audited), and in an export only for a holder of core.personal.full_view.
RESIDENT_COLUMNS = (
    ListColumn("姓名", lambda p: p.name, width=90),
    ListColumn("性别", lambda p: p.sex, width=50),
    ListColumn("出生日期", lambda p: p.birth_date, kind="date", width=100),
    ListColumn("公民身份号码", lambda p: p.id_number, personal="id", width=170),
    ListColumn("联系电话", lambda p: p.phone or "", personal="phone", width=120),
    ListColumn("类别", _kind, width=90),
    ListColumn("现住址", lambda p: p.current_address),
)


class ResidentsPage(ListPage):
    """实有人口 on the shared list page: the area tree beside it narrows the list to a 社区 or 网格."""

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(app_ctx, "grid.residents", "实有人口", RESIDENT_COLUMNS, count_unit="人",
                         placeholder="姓名、拼音、身份证号或电话", parent=parent)
        self.setObjectName("grid-residents")
        actor = app_ctx.actor
        self.open_button = self.add_action(QPushButton("查看详情", self))
        self.open_button.setObjectName("person-open")
        self.open_button.clicked.connect(self.open_selected)
        self.add_button = self.add_action(QPushButton("登记人口", self))
        self.add_button.setEnabled(actor.can(svc.P_PERSON))
        self.add_button.clicked.connect(self.open_person_dialog)
        self.tree = AreaTree(app_ctx, self)
        self.add_side(self.tree, left=True, sizes=(220, 980))
        self.add_filter("area", "辖区", get=lambda: self.tree.area().id if self.tree.area() else None,
                        set=lambda area_id: self.tree.select(area_id if area_id in self.tree.items else None),
                        text=lambda: self.tree.area().name if self.tree.area() else "",
                        changed=self.tree.area_changed)
        self.inactive = self.add_check_filter("inactive", "含已迁出、已故人员")
        self.dialog: QDialog | None = None
        self.start()

    def build_listing(self, text: str):
        return svc.persons_listing(self.app_ctx.actor, text, self.tree.area(),
                                   include_inactive=bool(self.filter_value("inactive")))

    def apply_search(self, text: str) -> None:
        self.search.blockSignals(True)
        self.search.setText(text)
        self.search.blockSignals(False)
        self.refresh_list()

    def page_new(self) -> PersonDialog | None:
        return self.open_person_dialog() if self.add_button.isEnabled() else None

    def open_person_dialog(self) -> PersonDialog:
        self.dialog = PersonDialog(self.app_ctx, self)
        self.dialog.accepted.connect(self.model.refresh)
        self.dialog.open()
        return self.dialog

    def open_record(self, record) -> QDialog:
        return self.open_person(record.id)

    def open_selected(self) -> QDialog | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.open_person(self.model.row_object(rows[0].row()).id)

    def open_person(self, person_id: int) -> QDialog:
        self.dialog = detail = PersonDetailDialog(self.app_ctx, person_id, self)
        detail.finished.connect(lambda _r: self.model.refresh() if detail.changed else None)
        detail.open()
        return detail


def residents_page(app_ctx, parent=None) -> ResidentsPage:
    return ResidentsPage(app_ctx, parent)
