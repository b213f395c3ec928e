"""The packaging recipes (packaging/): the same spec on Linux and Windows, one version, the menu
entry. The build itself is checked by .ci/run's deb step, which installs and runs what it built."""
from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"


def text(name: str) -> str:
    return (PACKAGING / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("pattern, why", [
    (r"['\"]/(usr|opt|lib|etc|tmp)\b", "an absolute Linux path"),
    (r"\.so\b", "a Linux library name"),
    (r"[A-Za-z]:\\\\", "a Windows drive path"),
    (r"['\"]\w+/\w+['\"]", "a path joined with '/' in a string instead of pathlib"),
])
def test_spec_has_nothing_platform_specific(pattern, why):
    code = "\n".join(line.split("#", 1)[0] for line in text("jiedao.spec").splitlines())
    assert not re.search(pattern, code), f"packaging/jiedao.spec has {why}"


def test_no_version_is_written_in_the_recipes():
    for name in ("jiedao.spec", "build-linux.sh", "jiedao.iss", "build-windows.ps1", "jiedao.desktop"):
        found = re.findall(r"^(?!MinVersion=).*\b\d+\.\d+\.\d+\b", text(name), re.M)  # not Windows' own
        assert not found, f"packaging/{name} writes a version: {found}"
    assert "pyproject.toml" in text("build-linux.sh") and "pyproject.toml" in text("build-windows.ps1")


def test_desktop_entry():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read_string(text("jiedao.desktop"))
    d = entry["Desktop Entry"]
    assert (d["Type"], d["Name"], d["Name[zh_CN]"], d["Icon"], d["Exec"]) == (
        "Application", "街道工作台", "街道工作台", "jiedao", "/usr/bin/jiedao")
    assert "Office" in d["Categories"].split(";")


def test_inno_setup_installs_per_user_with_shortcuts_and_an_uninstaller():
    iss = text("jiedao.iss")
    for needed in ("PrivilegesRequired=lowest", r"DefaultDirName={localappdata}\Programs\Jiedao",
                   r"{group}\街道工作台", r"{userdesktop}\街道工作台", "{uninstallexe}",
                   'Source: "..\\build\\dist\\jiedao\\*"'):
        assert needed in iss, needed
    # the shortcuts start the console-less program the spec builds on Windows
    assert "jiedaow.exe" in iss and 'name="jiedaow"' in text("jiedao.spec")
