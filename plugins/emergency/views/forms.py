"""``RecordFormDialog``: a FormDialog that edits one versioned record. It keeps the version the user
started from in ``expected_version`` (moved on when the user reloads the saved values after a
conflict) and knows this plugin's own editors (``OptionalDate``) when the shell compares or reloads
the values someone else saved."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDateEdit, QDoubleSpinBox, QLineEdit, QPlainTextEdit, QSpinBox

from shell.ui.widgets.form import FormDialog

from .moves import OptionalDate

STANDARD = (QLineEdit, QPlainTextEdit, QCheckBox, QComboBox, QSpinBox, QDoubleSpinBox, QDateEdit)


def _text(value) -> str:
    return "—" if value is None or value == "" else str(value)


class RecordFormDialog(FormDialog):
    def __init__(self, *args, expected_version: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected_version = expected_version

    def compare_rows(self, current: dict) -> list[tuple[str, str, str]]:
        rows = []
        for field, w in self.form.fields.items():
            if field not in current:
                continue
            if isinstance(w, OptionalDate):
                rows.append((self.form.label_text(field), _text(w.value()), _text(current[field])))
            elif isinstance(w, STANDARD):
                rows.append((self.form.label_text(field), self.form.display(field),
                             self.form.display(field, current[field])))
        return rows

    def reload_saved(self, current: dict) -> None:
        for field, w in self.form.fields.items():
            if field in current and isinstance(w, OptionalDate):
                w.set_value(current[field])
        super().reload_saved(current)
