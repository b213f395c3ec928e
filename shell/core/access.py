"""Core's table access declarations for a secured server database (shell/db/security), and the
collection of every plugin's (``register_table_access``)."""
from __future__ import annotations

from shell.contracts import TableAccess
from shell.core.rules import CORE_TABLE_ACCESS as CORE_TABLE_ACCESS  # declared as data, registered by the core plugin
from shell.core.rules import EVERYONE as EVERYONE

# Never granted to a user role, not even SELECT (column-level grants on core_users' other columns).
HIDDEN_COLUMNS = {"core_users": ("password_hash", "failed_logins", "locked_until")}


def collect_table_access(pm=None) -> list[TableAccess]:
    """Every plugin's declarations, the core's first; pass a manager with all plugins, disabled ones
    too. Without a manager, the core's own declarations."""
    if pm is None:
        return list(CORE_TABLE_ACCESS)
    from shell.hooks import call_each

    return [t for _name, t in call_each(pm, "register_table_access")]
