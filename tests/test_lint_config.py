"""The lint wiring (issue 16.8): CI runs ruff and mypy before the tests, with the settings in
pyproject.toml, and the README and the pre-commit hooks show the same tools."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_ci_runs_lint_by_default_before_the_tests():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    default = re.search(r'STEPS="\$\{JIEDAO_CI_STEPS:-([^}]*)\}"', ci).group(1).split()
    assert "lint" in default and default.index("lint") < default.index("test"), default
    body = ci[ci.index("run_lint() {"):]
    body = body[:body.index("\n}\n")]
    assert "pip install -q -e '.[lint]'" in body
    assert ".venv/bin/ruff check ." in body and ".venv/bin/mypy" in body
    assert "if step lint; then run_lint; fi" in ci


def test_lint_settings_and_extra():
    conf = _pyproject()
    ruff = conf["tool"]["ruff"]
    assert ruff["target-version"] == "py311" and ruff["line-length"] == 130
    assert {"E", "F", "W", "I", "B", "UP"} <= set(ruff["lint"]["select"])
    # a per-file ignore says why (a comment line right above it)
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines()
    section = text.index("[tool.ruff.lint.per-file-ignores]")
    for i in range(section + 1, len(text)):
        if text[i].startswith("["):
            break
        if text[i].startswith('"'):
            assert text[i - 1].startswith("#") or text[i - 1].startswith('"'), text[i]
    mypy = conf["tool"]["mypy"]
    assert mypy["python_version"] == "3.11"
    assert {"shell/core", "shell/db", "shell/contracts.py", "plugins/*/services*"} <= set(mypy["files"])
    extra = " ".join(conf["project"]["optional-dependencies"]["lint"])
    assert "ruff>=" in extra and "mypy>=" in extra


def test_pre_commit_pins_versions_that_satisfy_the_lint_extra():
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    pins = dict(re.findall(r'"(ruff|mypy)==([\d.]+)"', hooks))
    assert set(pins) == {"ruff", "mypy"}, pins
    for spec in _pyproject()["project"]["optional-dependencies"]["lint"]:
        name, low = spec.split(">=")
        as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
        assert as_tuple(pins[name]) >= as_tuple(low), (name, pins[name], low)


def test_readme_shows_the_lint_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/pip install -e '.[lint]' && .venv/bin/ruff check . && .venv/bin/mypy" in readme
    assert "pre-commit install" in readme
