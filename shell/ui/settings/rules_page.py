"""规则与参数: the norms and rules every plugin declares (register_settings), edited in one form.
All values are checked first and saved together, so a half-saved set of rules never exists."""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFrame, QGroupBox, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from shell.contracts import SettingDefinition
from shell.core import settings as settings_service
from shell.errors import ValidationError
from shell.plugins import plugin_status
from shell.ui.settings._common import ERROR_STYLE, OK_STYLE, Page, button_row, make_button, note
from shell.ui.widgets.form import Form


def _range_hint(d: SettingDefinition) -> str:
    parts = []
    if d.description:
        parts.append(d.description)
    if d.minimum is not None and d.maximum is not None:
        parts.append(f"范围 {d.minimum:g}–{d.maximum:g}")
    elif d.minimum is not None:
        parts.append(f"不小于 {d.minimum:g}")
    elif d.maximum is not None:
        parts.append(f"不大于 {d.maximum:g}")
    if d.kind in ("int", "float", "text") and d.default not in (None, ""):
        parts.append(f"默认 {d.default}")
    return "；".join(parts)


class RulesPage(Page):
    def __init__(self, app_ctx, config, settings=None):
        super().__init__(app_ctx, config, settings)
        self.can_manage = self.actor.can("core.settings.manage")
        self.defs = settings_service.definitions(app_ctx.plugin_manager)
        self.editors: dict[str, QWidget] = {}
        self.forms: dict[str, Form] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(note("这些规则对连接同一数据库的所有电脑生效；其中不少是地方规定，请按本地实际填写。"
                              if self.can_manage else "您没有“修改系统设置与规则”权限，只能查看。", self))
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        titles = {"core": "系统"}
        pm = app_ctx.plugin_manager
        if pm is not None:
            titles.update({st.name: st.title or st.name for st in plugin_status(pm)})
        for d in self.defs.values():
            prefix = d.key.split(".", 1)[0]
            if prefix not in self.forms:
                box = QGroupBox(titles.get(prefix, prefix), inner)
                form = Form(box)
                QVBoxLayout(box).addWidget(form)
                inner_layout.addWidget(box)
                self.forms[prefix] = form
            editor = self._editor(d)
            editor.setObjectName(f"rule-{d.key}")
            editor.setEnabled(self.can_manage)
            self.forms[prefix].add(d.key, d.title, editor, hint=_range_hint(d))
            self.editors[d.key] = editor
        inner_layout.addStretch(1)
        scroll.setWidget(inner)
        layout.addWidget(scroll, 1)

        self.save_button = make_button("保存", "rules-save", self.save, self)
        self.reset_button = make_button("放弃修改", "rules-reload", self.load, self)
        self.save_button.setEnabled(self.can_manage)
        self.reset_button.setEnabled(self.can_manage)
        layout.addLayout(button_row(self.reset_button, self.save_button, stretch_first=True))
        self.status = note("", self)
        self.status.setObjectName("rules-status")
        layout.addWidget(self.status)
        self.load()

    def _editor(self, d: SettingDefinition) -> QWidget:
        if d.kind == "bool":
            return QCheckBox("是")
        if d.kind == "choice":
            box = QComboBox()
            for code, label in d.choices:
                box.addItem(label, code)
            return box
        edit = QLineEdit()
        if d.kind in ("int", "float"):
            edit.setMaximumWidth(180)
        return edit

    def _set(self, d: SettingDefinition, value: Any) -> None:
        w = self.editors[d.key]
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            i = w.findData(value)
            w.setCurrentIndex(max(i, 0))
        else:
            w.setText("" if value is None else (f"{value:g}" if isinstance(value, float) else str(value)))

    def _get(self, d: SettingDefinition) -> Any:
        w = self.editors[d.key]
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        return w.text()

    def load(self) -> None:
        self.values = self.read(lambda s: settings_service.all_values(s.session, self.defs.values()))
        for d in self.defs.values():
            self._set(d, self.values.get(d.key, d.default))
        for form in self.forms.values():
            form.clear_errors()
        self.status.clear()

    def _form_of(self, key: str) -> Form:
        return self.forms[key.split(".", 1)[0]]

    def save(self) -> None:
        for form in self.forms.values():
            form.clear_errors()
        # Check every value first (coerce has no side effects), so the user sees all problems at once.
        errors: dict[str, str] = {}
        changed: dict[str, Any] = {}
        for key, d in self.defs.items():
            try:
                value = settings_service.coerce(d, self._get(d))
            except ValidationError as exc:
                errors[key] = exc.message
                continue
            if value != self.values.get(key, d.default):
                changed[key] = value
        if errors:
            by_form: dict[str, dict[str, str]] = {}
            for key, message in errors.items():
                by_form.setdefault(key.split(".", 1)[0], {})[key] = message
            for prefix, errs in by_form.items():
                self.forms[prefix].show_errors(errs)
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(f"有 {len(errors)} 项填写有误，全部规则均未保存。")
            return
        if not changed:
            self.status.setStyleSheet(OK_STYLE)
            self.status.setText("没有修改。")
            return

        def save_all(sctx):
            for key, value in changed.items():
                try:
                    settings_service.set_value(sctx, self.defs[key], value)
                except ValidationError as exc:
                    exc.field = exc.field or key
                    raise
        # A ValidationError here is shown by its field; the transaction is rolled back as a whole.
        ok, result = self.call(save_all, inline=_FieldRouter(self))
        if ok:
            self.load()
            self.status.setStyleSheet(OK_STYLE)
            self.status.setText(f"已保存 {len(changed)} 项规则。")


class _FieldRouter:
    """Routes a ValidationError raised while saving to the form that holds its field."""

    def __init__(self, page: RulesPage):
        self.page = page

    def show_exception(self, exc: BaseException) -> bool:
        if isinstance(exc, ValidationError) and exc.field in self.page.defs:
            self.page._form_of(exc.field).show_errors({exc.field: exc.message})
            self.page.status.setStyleSheet(ERROR_STYLE)
            self.page.status.setText("保存失败，全部规则均未保存。")
            return True
        return False
