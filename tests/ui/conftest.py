"""Fixtures shared by the GUI tests."""
from __future__ import annotations

import pytest

from shell.testing import PluginSet

# The start-up flow's plugins in these tests: only the test plugin (tests.ui.plugins_with_testplugin).
TESTPLUGIN = PluginSet(builtins=(), extra=("tests.testplugin",))


@pytest.fixture(scope="session")
def demo_template(sqlite_templates):
    """A demo database with the test plugin, made once per run; the tests copy it."""
    return sqlite_templates.path(TESTPLUGIN, demo=True)
