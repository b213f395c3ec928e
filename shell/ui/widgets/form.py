"""A QFormLayout builder: required fields marked, one inline Chinese error line under each field,
fed from ``ValidationError.field`` so the user sees the message next to what is wrong."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from shell.errors import ConflictError, JiedaoError, ValidationError

ERROR_STYLE = "color: #c0392b;"


def field_errors(exc: ValidationError) -> dict[str | None, str]:
    """``{field: message}`` of a ValidationError for ``Form.show_errors``: every ``FieldError`` of a
    ``ValidationErrors`` (a validator's whole list; the first message of a field wins), else the one."""
    errors = getattr(exc, "errors", None)
    if not errors:
        return {exc.field: exc.message}
    out: dict[str | None, str] = {}
    for e in errors:
        out.setdefault(e.field or None, e.message)
    return out


class Form(QWidget):
    """``add(field, label, widget, required=False, hint="")`` adds a row; ``show_errors`` marks rows.

    Errors for unknown fields go to a general line at the top, so nothing is ever swallowed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.general_error = QLabel(self)
        self.general_error.setObjectName("form-error")
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        outer.addWidget(self.general_error)
        self.layout_ = QFormLayout()
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.layout_.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        outer.addLayout(self.layout_)
        self.fields: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}
        self.errors: dict[str, QLabel] = {}
        self.required: set[str] = set()
        self._aliases: dict[str, str] = {}

    def add(self, field: str, label: str, widget: QWidget, required: bool = False, hint: str = "",
            aliases: tuple[str, ...] = ()) -> QWidget:
        """``aliases``: other field names a service may use for this row (e.g. "password" and
        "password2" both on one row)."""
        text = f'{label}<span style="color:#c0392b"> *</span>' if required else label
        lab = QLabel(text + "：", self)
        lab.setTextFormat(Qt.TextFormat.RichText)
        lab.setBuddy(widget)
        if required:
            self.required.add(field)
            lab.setToolTip("必填")
        box = QWidget(self)
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(widget)
        if hint:
            h = QLabel(hint, box)
            h.setStyleSheet("color: #777;")
            # Short hints stay on one line: a wrapped label in a form row is measured too narrow.
            h.setWordWrap(len(hint) > 40)
            col.addWidget(h)
        err = QLabel(box)
        err.setObjectName(f"error-{field}")
        err.setStyleSheet(ERROR_STYLE)
        err.setWordWrap(True)
        err.hide()
        col.addWidget(err)
        self.layout_.addRow(lab, box)
        self.fields[field], self.labels[field], self.errors[field] = widget, lab, err
        for a in aliases:
            self._aliases[a] = field
        return widget

    def widget(self, field: str) -> QWidget:
        return self.fields[field]

    def value(self, field: str) -> Any:
        """The plain value of a standard editor."""
        w = self.fields[field]
        if isinstance(w, QLineEdit):
            return w.text().strip()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText().strip()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            return w.value()
        if isinstance(w, QDateEdit):
            return w.date().toPython()
        raise TypeError(f"表单字段 {field} 的控件类型 {type(w).__name__} 没有取值规则")

    def set_value(self, field: str, value: Any) -> None:
        """Put a plain value into a standard editor (the inverse of ``value``)."""
        from datetime import date

        from PySide6.QtCore import QDate

        w = self.fields[field]
        if isinstance(w, QLineEdit):
            w.setText("" if value is None else str(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText("" if value is None else str(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            i = w.findData(value)
            if i >= 0:
                w.setCurrentIndex(i)
        elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
            w.setValue(value or 0)
        elif isinstance(w, QDateEdit) and isinstance(value, date):
            w.setDate(QDate(value))

    def display(self, field: str, value: Any = ...) -> str:
        """How the user reads ``value`` in this field (a combo box's text, not its data); without
        ``value``, what the field shows now."""
        w = self.fields[field]
        if value is ...:
            value = self.value(field)
        if isinstance(w, QComboBox):
            i = w.findData(value)
            return w.itemText(i) if i >= 0 else ("" if value is None else str(value))
        if isinstance(value, bool):
            return "是" if value else "否"
        return "" if value is None else str(value)

    def label_text(self, field: str) -> str:
        return self.labels[field].text().split("<")[0].rstrip("：")

    # --- errors ---------------------------------------------------------------------------------------
    def clear_errors(self) -> None:
        self.general_error.hide()
        self.general_error.clear()
        for err in self.errors.values():
            err.hide()
            err.clear()

    def show_errors(self, errors: dict[str | None, str]) -> None:
        """``{field: message}``; a field not in the form (or None) goes to the general line."""
        self.clear_errors()
        general = []
        first: QWidget | None = None
        for field, message in errors.items():
            name = self._aliases.get(field, field) if field else None
            if name in self.errors:
                self.errors[name].setText(message)
                self.errors[name].show()
                first = first or self.fields[name]
            else:
                general.append(message)
        if general:
            self.general_error.setText("\n".join(general))
            self.general_error.show()
        if first is not None:
            first.setFocus()

    def show_exception(self, exc: BaseException) -> bool:
        """Show a ValidationError inline (all of a ValidationErrors, each beside its field); False for
        any other error (the caller shows a dialog)."""
        if isinstance(exc, ValidationError):
            self.show_errors(field_errors(exc))
            return True
        return False

    def error_text(self, field: str) -> str:
        return self.errors[field].text() if not self.errors[field].isHidden() else ""

    def missing_required(self) -> dict[str, str]:
        """Required text fields left empty, as an errors dict ready for ``show_errors``."""
        out = {}
        for field in self.required:
            w = self.fields[field]
            if isinstance(w, (QLineEdit, QPlainTextEdit)) and not self.value(field):
                out[field] = f"请填写{self.label_text(field)}。"
        return out


class FormDialog(QDialog):
    """A dialog around a ``Form`` with 确定/取消 (or custom) buttons.

    Subclasses add rows to ``self.form`` then call ``finish_layout()``, and implement ``submit()``
    returning True to close. ``call(fn, *args)`` runs a service call: a ValidationError is shown
    at its field, any other JiedaoError on the general line; the dialog stays open on error, so
    nothing the user typed is lost."""

    def __init__(self, parent: QWidget | None, title: str, name: str, intro: str = "", ok_text: str = "确定"):
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        self.layout_ = QVBoxLayout(self)
        if intro:
            label = QLabel(intro, self)
            label.setWordWrap(True)
            label.setStyleSheet("color: #555;")
            self.layout_.addWidget(label)
        self.form = Form(self)
        self.layout_.addWidget(self.form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setObjectName(f"{name}-ok")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.buttons)

    def _ok(self) -> None:
        missing = self.form.missing_required()
        if missing:
            self.form.show_errors(missing)
            return
        if self.submit():
            self.accept()

    def submit(self) -> bool:
        """Save here; return False to stay open. A plain chooser just closes."""
        return True

    # The version of the record the user started editing; subclasses that edit a record set it and
    # pass it to the service as ``expected_version``. A conflict's reload moves it on.
    expected_version: int | None = None

    def call(self, fn, *args, **kwargs) -> tuple[bool, Any]:
        """``(True, result)`` or ``(False, None)`` with the error already shown in the form."""
        self.form.clear_errors()
        try:
            return True, fn(*args, **kwargs)
        except ValidationError as exc:
            self.form.show_errors(field_errors(exc))
        except ConflictError as exc:
            self.on_conflict(exc)
        except JiedaoError as exc:
            self.form.show_errors({None: exc.message})
        return False, None

    # --- someone else saved first -----------------------------------------------------------------------
    def compare_rows(self, current: dict) -> list[tuple[str, str, str]]:
        """(label, what the user typed, what is saved) for every form field the record has."""
        rows = []
        for f in self.form.fields:
            if f not in current:
                continue
            try:
                rows.append((self.form.label_text(f), self.form.display(f), self.form.display(f, current[f])))
            except TypeError:  # an editor without a plain value (a custom widget): not compared
                continue
        return rows

    def on_conflict(self, exc: ConflictError) -> None:
        from shell.ui.conflict import ConflictDialog

        self.form.show_errors({None: exc.message})
        dialog = ConflictDialog(exc, self.compare_rows(exc.current), self)
        if dialog.exec() == ConflictDialog.RELOAD:
            self.reload_saved(exc.current)

    def reload_saved(self, current: dict) -> None:
        """Take the saved values into the form (the user's own typing is dropped, as they chose)."""
        for field in self.form.fields:
            if field in current:
                self.form.set_value(field, current[field])
        if "version_id" in current:
            self.expected_version = current["version_id"]
        self.form.show_errors({None: "已载入对方保存的内容，请核对后再保存。"})
