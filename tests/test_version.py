"""The version lives in pyproject.toml only; the program, `jiedao --version` and 关于 show it."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import shell
from shell import cli

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_version_is_pyprojects():
    assert shell.__version__ == PYPROJECT_VERSION
    assert "__version__ = " not in (ROOT / "shell" / "__init__.py").read_text(encoding="utf-8")


def test_version_follows_a_changed_pyproject(tmp_path, monkeypatch):
    fake = tmp_path / "shell" / "__init__.py"
    fake.parent.mkdir()
    fake.write_text("", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "jiedao"\nversion = "9.8.7"\n', encoding="utf-8")
    monkeypatch.setattr(shell, "__file__", str(fake))
    assert shell._read_version() == "9.8.7"


def test_cli_version_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"街道工作台 {PYPROJECT_VERSION}"
