"""GUI tests of the desktop shell (pytest-qt, offscreen). Helpers shared by the test modules."""
from __future__ import annotations

from shell.plugins import make_plugin_manager


def plugins_with_testplugin(disabled=()):
    """The start-up flow's plugin factory with only the test plugin (no built-ins, no entry points)."""
    import tests.testplugin

    return make_plugin_manager(disabled, builtins=(), extra=[tests.testplugin], entry_points=False)


def wait_for_dialog(qtbot, flow, cls, timeout=20000):
    """Wait until the start-up flow shows a dialog of class ``cls``; return it."""
    qtbot.waitUntil(lambda: isinstance(flow.dialog, cls) and flow.dialog.isVisible(), timeout=timeout)
    return flow.dialog
