"""Fixtures shared by the GUI tests."""
from __future__ import annotations

import pytest

from tests.ui import plugins_with_testplugin


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    """A demo database with the test plugin, made once per module and copied by the tests."""
    from shell.core.demo import create_demo

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    create_demo(path, pm=plugins_with_testplugin()).dispose()
    return path
