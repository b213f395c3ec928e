"""GUI tests of the desktop shell (pytest-qt, offscreen). Helpers shared by the test modules."""
from __future__ import annotations

from shell.plugins import make_plugin_manager

PASSWORD = "Jiedao2026"   # the users the GUI tests create themselves


def plugins_with_testplugin(disabled=()):
    """The start-up flow's plugin factory with only the test plugin (no built-ins, no entry points)."""
    import tests.testplugin

    return make_plugin_manager(disabled, builtins=(), extra=[tests.testplugin], entry_points=False)


def wait_for_dialog(qtbot, flow, cls, timeout=20000):
    """Wait until the start-up flow shows a dialog of class ``cls``; return it."""
    qtbot.waitUntil(lambda: isinstance(flow.dialog, cls) and flow.dialog.isVisible(), timeout=timeout)
    return flow.dialog


def squeezed(widget):
    """The visible line edits, combo boxes, spin boxes and buttons under ``widget`` that are shorter
    than their size hint (a layout that ran out of room squeezes them to slivers), as readable text."""
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QWidget

    kinds = (QLineEdit, QComboBox, QAbstractSpinBox, QAbstractButton)
    out = []
    for child in widget.findChildren(QWidget):
        if isinstance(child, kinds) and child.isVisible() and child.height() < child.sizeHint().height():
            name = child.objectName() or getattr(child, "text", lambda: "")()
            out.append(f"{type(child).__name__} {name}: {child.height()} px < {child.sizeHint().height()} px")
    return out
