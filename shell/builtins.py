"""The built-in work-line plugins by module path (plain data, importable from anywhere in the shell
without loading the plugin machinery; ``shell.plugins.BUILTIN_PLUGINS`` is this tuple)."""
from __future__ import annotations

# Module paths of the built-in work-line plugins; each plugin's issue adds its line here.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "plugins.grid",
    "plugins.emergency",
    "plugins.volunteer",
    "plugins.partybuilding",
)
