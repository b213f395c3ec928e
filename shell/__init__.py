"""街道工作台 (Jiedao) shell: plugin contract, database, core domain and desktop UI.

Plugins write ``from shell import hookimpl``.
"""
import pluggy

PROJECT = "jiedao"
hookimpl = pluggy.HookimplMarker(PROJECT)
hookspec = pluggy.HookspecMarker(PROJECT)

__all__ = ["hookimpl", "hookspec", "PROJECT", "__version__"]


def _read_version() -> str:
    """The version is written in one place, pyproject.toml: read there in a checkout (an editable
    install's metadata lags until the next ``pip install``), else from the installed metadata (a
    wheel, or the frozen build, which carries it)."""
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "jiedao" and project.get("version"):
            return project["version"]
    from importlib.metadata import version

    return version("jiedao")


def __getattr__(name: str):
    # Computed on first use, so importing the shell (every start) does not read files for it.
    if name == "__version__":
        value = globals()["__version__"] = _read_version()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
