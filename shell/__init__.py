"""街道工作台 (Jiedao) shell: plugin contract, database, core domain and desktop UI.

Plugins write ``from shell import hookimpl``.
"""
import pluggy

PROJECT = "jiedao"
hookimpl = pluggy.HookimplMarker(PROJECT)
hookspec = pluggy.HookspecMarker(PROJECT)

__version__ = "0.1.0"
__all__ = ["hookimpl", "hookspec", "PROJECT", "__version__"]
