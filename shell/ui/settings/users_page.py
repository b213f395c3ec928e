"""用户与角色: accounts (add, edit, reset password, unlock, deactivate) and roles with their
permission checklist grouped by plugin. Every change goes through shell.core.auth."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.clock import format_local, utcnow
from shell.core import auth
from shell.core.areas import full_name, list_areas, visible_areas
from shell.core.models import AREA_LEVEL_LABELS
from shell.plugins import plugin_status
from shell.ui.errors import confirm
from shell.ui.settings._common import OK_STYLE, Page, button_row, make_button, note
from shell.ui.widgets.form import Form

USER_COLUMNS = ("用户名", "姓名", "管辖范围", "角色", "状态", "锁定")
ROLE_COLUMNS = ("角色名称", "代码", "权限数", "用户数", "类型")


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    phone: str
    area_id: int | None
    area_name: str
    role_names: tuple[str, ...]
    role_titles: tuple[str, ...]
    is_active: bool
    is_superuser: bool
    locked_text: str
    version_id: int


def _table(columns: tuple[str, ...], parent: QWidget, name: str) -> QTableWidget:
    t = QTableWidget(0, len(columns), parent)
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(columns)
    t.verticalHeader().hide()
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setDefaultSectionSize(26)
    header = t.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(False)
    return t


def area_choices(sctx) -> list[tuple[int, str]]:
    """(id, indented label) of the open areas the actor may assign, in tree order."""
    if not sctx.actor.can("core.area.view"):
        return []
    return [(a.id, "　" * a.depth + f"{a.name}（{AREA_LEVEL_LABELS[a.level]}）") for a in visible_areas(sctx)]


class UserDialog(QDialog):
    """Add (``user`` None) or edit one account. Stays open on a validation error, shown by the field."""

    def __init__(self, page: UsersPage, user: UserRow | None):
        super().__init__(page)
        self.page, self.user = page, user
        self.setObjectName("user-dialog")
        self.setWindowTitle("新增用户" if user is None else f"编辑用户 {user.username}")
        self.setMinimumWidth(520)
        self.form = f = Form(self)
        self.username = f.add("username", "用户名", QLineEdit(), required=True,
                              hint="登录用，2–64 位字母、数字、下划线、点或横线" if user is None else "")
        self.display_name = f.add("display_name", "姓名", QLineEdit(), required=True)
        self.phone = f.add("phone", "电话", QLineEdit())
        self.password = self.password2 = None
        if user is None:
            self.password = f.add("password", "初始密码", QLineEdit(), required=True,
                                  hint="至少 8 位，含字母和数字；用户首次登录后须修改")
            self.password2 = f.add("password2", "确认密码", QLineEdit(), required=True)
            for w in (self.password, self.password2):
                w.setEchoMode(QLineEdit.EchoMode.Password)
        self.superuser = None
        if page.actor.is_superuser and user is None:
            self.superuser = f.add("is_superuser", "超级管理员", QCheckBox("拥有全部权限，管辖全部辖区"))
            self.superuser.toggled.connect(lambda on: self.area.setEnabled(not on))
        self.area = f.add("area_id", "管辖范围", QComboBox(), required=True,
                          hint="用户只能看到和处理这个辖区及其下级的数据")
        self.area.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.roles = f.add("roles", "角色", QListWidget(), aliases=("role",))
        self.roles.setMaximumHeight(150)
        for w, name in ((self.username, "username"), (self.display_name, "display_name"), (self.phone, "phone"),
                        (self.area, "area_id"), (self.roles, "roles")):
            w.setObjectName(f"user-{name}")
        if self.password is not None:
            self.password.setObjectName("user-password")
            self.password2.setObjectName("user-password2")

        areas, roles = page.read(lambda s: (area_choices(s), [(r.name, r.title) for r in auth.list_roles(s.session)]))
        for area_id, label in areas:
            self.area.addItem(label, area_id)
        for name, title in roles:
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if user and name in user.role_names else Qt.CheckState.Unchecked)
            self.roles.addItem(item)
        if user is not None:
            self.username.setText(user.username)
            self.username.setReadOnly(True)
            self.display_name.setText(user.display_name)
            self.phone.setText(user.phone)
            if user.area_id is not None:
                i = self.area.findData(user.area_id)
                if i >= 0:
                    self.area.setCurrentIndex(i)
            elif user.is_superuser:
                self.area.setEnabled(False)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("保存")
        buttons.button(QDialogButtonBox.StandardButton.Ok).setObjectName("user-save")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(f)
        layout.addWidget(buttons)

    def checked_roles(self) -> list[str]:
        return [self.roles.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.roles.count())
                if self.roles.item(i).checkState() == Qt.CheckState.Checked]

    def submit(self) -> None:
        f = self.form
        missing = f.missing_required()
        if self.password is not None and not missing and self.password.text() != self.password2.text():
            missing["password2"] = "两次输入的密码不一致。"
        is_super = bool(self.superuser is not None and self.superuser.isChecked())
        area_id = None if is_super or not self.area.isEnabled() else self.area.currentData()
        if area_id is None and not is_super and not (self.user and self.user.is_superuser):
            missing["area_id"] = "请选择管辖范围；如还没有辖区，请先在“辖区”页建立。"
        if missing:
            f.show_errors(missing)
            return
        if self.user is None:
            ok, _ = self.page.call(auth.create_user, f.value("username"), f.value("display_name"),
                                   self.password.text(), area_id, self.checked_roles(),
                                   phone=f.value("phone") or None, is_superuser=is_super, inline=f)
        else:
            ok, _ = self.page.call(auth.update_user, self.user.id, display_name=f.value("display_name"),
                                   phone=f.value("phone"), area_id=area_id, role_names=self.checked_roles(),
                                   expected_version=self.user.version_id, inline=f)
        if ok:
            self.accept()


class UsersPage(Page):
    def __init__(self, app_ctx, config, settings=None):
        super().__init__(app_ctx, config, settings)
        self.tabs = QTabWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.status = note("", self)
        self.status.setObjectName("users-status")
        layout.addWidget(self.status)
        self._build_users_tab()
        self._build_roles_tab()
        self.reload_users()
        self.reload_roles()

    # === users ==========================================================================================
    def _build_users_tab(self) -> None:
        tab = QWidget()
        v = QVBoxLayout(tab)
        self.users = _table(USER_COLUMNS, tab, "users-table")
        self.users.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)  # roles
        self.users.itemSelectionChanged.connect(self._user_selected)
        self.users.doubleClicked.connect(lambda _i: self.edit_user())
        self.add_user_button = make_button("新增用户…", "user-add", self.add_user, tab)
        self.edit_user_button = make_button("编辑…", "user-edit", self.edit_user, tab)
        self.reset_button = make_button("重置密码…", "user-reset", self.reset_password, tab)
        self.unlock_button = make_button("解锁", "user-unlock", self.unlock_user, tab)
        self.active_button = make_button("停用", "user-active", self.toggle_active, tab)
        v.addLayout(button_row(self.add_user_button, self.edit_user_button, self.reset_button,
                               self.unlock_button, self.active_button))
        v.addWidget(self.users, 1)
        self.tabs.addTab(tab, "用户")
        self._user_selected()

    def reload_users(self, select_id: int | None = None) -> None:
        def load(sctx):
            areas = {a.id: a for a in list_areas(sctx.session, include_closed=True)}
            now = utcnow()
            rows = []
            for u in auth.list_users(sctx):
                area = areas.get(u.area_id)
                locked = u.locked_until is not None and u.locked_until > now
                rows.append(UserRow(
                    u.id, u.username, u.display_name, u.phone or "", u.area_id,
                    full_name(sctx.session, area) if area else ("全部辖区" if u.is_superuser else "（未设置）"),
                    tuple(r.name for r in u.roles), tuple(r.title for r in u.roles), u.is_active, u.is_superuser,
                    f"锁定至 {format_local(u.locked_until)}" if locked else "", u.version_id))
            return rows

        self._user_rows: list[UserRow] = self.read(load)
        t = self.users
        t.setRowCount(len(self._user_rows))
        grey = QBrush(QColor("#999"))
        for r, u in enumerate(self._user_rows):
            roles = "、".join(u.role_titles) + ("（超级管理员）" if u.is_superuser else "")
            values = (u.username, u.display_name, u.area_name, roles, "启用" if u.is_active else "已停用", u.locked_text)
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, u.id)
                if not u.is_active:
                    item.setForeground(grey)
                elif c == 5 and value:
                    item.setForeground(QBrush(QColor("#c0392b")))
                t.setItem(r, c, item)
            if u.id == select_id:
                t.selectRow(r)
        self._user_selected()

    def user_texts(self) -> list[list[str]]:
        return [[self.users.item(r, c).text() for c in range(len(USER_COLUMNS))] for r in range(self.users.rowCount())]

    def selected_user(self) -> UserRow | None:
        rows = self.users.selectionModel().selectedRows()
        return self._user_rows[rows[0].row()] if rows and getattr(self, "_user_rows", None) else None

    def select_user(self, username: str) -> None:
        for r, u in enumerate(self._user_rows):
            if u.username == username:
                self.users.selectRow(r)
                return
        raise KeyError(username)

    def _user_selected(self) -> None:
        u = self.selected_user()
        for b in (self.edit_user_button, self.reset_button, self.active_button):
            b.setEnabled(u is not None)
        self.unlock_button.setEnabled(bool(u and u.locked_text))
        self.active_button.setText("启用" if u is not None and not u.is_active else "停用")

    def add_user(self) -> None:
        dialog = UserDialog(self, None)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            name = dialog.form.value("username")
            self.reload_users()
            self.select_user(name)
            self._ok(f"已新增用户“{name}”。首次登录时须修改初始密码。")

    def edit_user(self) -> None:
        u = self.selected_user()
        if u is None:
            return
        if UserDialog(self, u).exec() == QDialog.DialogCode.Accepted:
            self.reload_users(u.id)
            self._ok(f"已保存用户“{u.username}”。")

    def reset_password(self) -> None:
        u = self.selected_user()
        if u is None:
            return
        password, ok = QInputDialog.getText(self, "重置密码", f"为“{u.display_name}（{u.username}）”设置新密码：\n"
                                            "至少 8 位，含字母和数字；用户下次登录时须修改。",
                                            QLineEdit.EchoMode.Password)
        if not ok:
            return
        done, _ = self.call(auth.reset_password, u.id, password)
        if done:
            self.reload_users(u.id)
            self._ok(f"已重置“{u.username}”的密码，并解除了锁定。")

    def unlock_user(self) -> None:
        u = self.selected_user()
        if u is None:
            return
        done, _ = self.call(auth.unlock, u.id)
        if done:
            self.reload_users(u.id)
            self._ok(f"已解锁“{u.username}”。")

    def toggle_active(self) -> None:
        u = self.selected_user()
        if u is None:
            return
        if u.is_active and not confirm(self, "停用账号", f"停用后“{u.display_name}（{u.username}）”将不能登录，"
                                       "其经办的记录保留不变。确定停用吗？"):
            return
        done, _ = self.call(auth.update_user, u.id, is_active=not u.is_active, expected_version=u.version_id)
        if done:
            self.reload_users(u.id)
            self._ok(f"已{'停用' if u.is_active else '启用'}“{u.username}”。")
        else:
            self.reload_users(u.id)

    def _ok(self, text: str) -> None:
        self.status.setStyleSheet(OK_STYLE)
        self.status.setText(text)

    # === roles ===========================================================================================
    def _build_roles_tab(self) -> None:
        tab = QWidget()
        split = QSplitter(Qt.Orientation.Horizontal, tab)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        self.roles = _table(ROLE_COLUMNS, left, "roles-table")
        self.roles.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # code
        self.roles.itemSelectionChanged.connect(self._role_selected)
        self.new_role_button = make_button("新建角色", "role-new", self.new_role, left)
        self.delete_role_button = make_button("删除角色", "role-delete", self.delete_role, left)
        lv.addLayout(button_row(self.new_role_button, self.delete_role_button))
        lv.addWidget(self.roles, 1)
        split.addWidget(left)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        self.role_form = f = Form(right)
        # save_role checks the code with the username rule, so its error names the "username" field.
        self.role_name = f.add("name", "代码", QLineEdit(), required=True, hint="英文字母、数字或下划线，保存后不能修改",
                               aliases=("username",))
        self.role_title = f.add("title", "名称", QLineEdit(), required=True)
        self.role_description = f.add("description", "说明", QLineEdit())
        self.role_name.setObjectName("role-name")
        self.role_title.setObjectName("role-title")
        rv.addWidget(f)
        self.perm_tree = QTreeWidget(right)
        self.perm_tree.setObjectName("role-permissions")
        self.perm_tree.setHeaderLabels(["权限", "代码"])
        self.perm_tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.perm_tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.perm_tree.header().setStretchLastSection(False)
        rv.addWidget(self.perm_tree, 1)
        self.permissions_error = note("", right)
        rv.addWidget(self.permissions_error)
        self.save_role_button = make_button("保存角色", "role-save", self.save_role, right)
        rv.addLayout(button_row(self.save_role_button, stretch_first=True))
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([440, 440])
        v = QVBoxLayout(tab)
        v.addWidget(split)
        self.tabs.addTab(tab, "角色")
        self._fill_permission_tree()

    def _fill_permission_tree(self) -> None:
        pm = self.app_ctx.plugin_manager
        self.known = auth.collect_permissions(pm)
        titles = {"core": "系统"}
        if pm is not None:
            titles.update({st.name: st.title or st.name for st in plugin_status(pm)})
        groups: dict[str, QTreeWidgetItem] = {}
        self._perm_items: dict[str, QTreeWidgetItem] = {}
        for code, label in self.known.items():
            prefix = code.split(".", 1)[0]
            group = groups.get(prefix)
            if group is None:
                group = QTreeWidgetItem(self.perm_tree, [titles.get(prefix, prefix), prefix])
                group.setFlags(group.flags() | Qt.ItemFlag.ItemIsAutoTristate | Qt.ItemFlag.ItemIsUserCheckable)
                group.setCheckState(0, Qt.CheckState.Unchecked)
                groups[prefix] = group
            item = QTreeWidgetItem(group, [label, code])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            item.setData(0, Qt.ItemDataRole.UserRole, code)
            self._perm_items[code] = item
        self.perm_tree.expandAll()

    def reload_roles(self, select_name: str | None = None) -> None:
        def load(sctx):
            return [(r.id, r.name, r.title, r.description, sorted(r.codes), len(r.users), r.builtin)
                    for r in auth.list_roles(sctx.session)]

        self._role_rows = self.read(load)
        t = self.roles
        t.setRowCount(len(self._role_rows))
        for r, (_id, name, title, _d, codes, users, builtin) in enumerate(self._role_rows):
            for c, value in enumerate((title, name, str(len(codes)), str(users), "预置" if builtin else "自定义")):
                t.setItem(r, c, QTableWidgetItem(value))
            if name == select_name:
                t.selectRow(r)
        self._role_selected()

    def role_texts(self) -> list[list[str]]:
        return [[self.roles.item(r, c).text() for c in range(len(ROLE_COLUMNS))] for r in range(self.roles.rowCount())]

    def _selected_role(self):
        rows = self.roles.selectionModel().selectedRows()
        return self._role_rows[rows[0].row()] if rows else None

    def _role_selected(self) -> None:
        role = self._selected_role()
        self.role_form.clear_errors()
        self.delete_role_button.setEnabled(role is not None and not role[6])
        if role is None:
            return
        _id, name, title, description, codes, _users, _builtin = role
        self.role_name.setText(name)
        self.role_name.setReadOnly(True)
        self.role_title.setText(title)
        self.role_description.setText(description or "")
        self.set_checked_codes(codes)

    def set_checked_codes(self, codes) -> None:
        codes = set(codes)
        for code, item in self._perm_items.items():
            item.setCheckState(0, Qt.CheckState.Checked if code in codes else Qt.CheckState.Unchecked)

    def checked_codes(self) -> list[str]:
        return [c for c, item in self._perm_items.items() if item.checkState(0) == Qt.CheckState.Checked]

    def new_role(self) -> None:
        self.roles.clearSelection()
        self.role_form.clear_errors()
        self.role_name.setReadOnly(False)
        for w in (self.role_name, self.role_title, self.role_description):
            w.clear()
        self.set_checked_codes(())
        self.role_name.setFocus()

    def save_role(self) -> None:
        f = self.role_form
        missing = f.missing_required()
        if missing:
            f.show_errors(missing)
            return
        f.clear_errors()
        name = f.value("name")
        ok, _ = self.call(auth.save_role, name, f.value("title"), self.checked_codes(), self.known.keys(),
                          description=f.value("description"), inline=f)
        if ok:
            self.reload_roles(name)
            self.reload_users()
            self._ok(f"已保存角色“{f.value('title')}”。已登录的用户重新登录后权限生效。")

    def delete_role(self) -> None:
        role = self._selected_role()
        if role is None:
            return
        if not confirm(self, "删除角色", f"确定删除角色“{role[2]}”吗？"):
            return
        ok, _ = self.call(auth.delete_role, role[0])
        if ok:
            self.new_role()
            self.reload_roles()
            self._ok(f"已删除角色“{role[2]}”。")
