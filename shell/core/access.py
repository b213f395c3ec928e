"""Core's table access declarations for a secured server database (shell/db/security), and the
collection of every plugin's (``register_table_access``)."""
from __future__ import annotations

from shell.contracts import TableAccess

EVERYONE = "*"
_USERS = "core.user.manage"

CORE_TABLE_ACCESS: tuple[TableAccess, ...] = (
    TableAccess("core_areas", read=(EVERYONE,), write=("core.area.manage",)),
    # Column rule: password_hash, failed_logins and locked_until are never readable or updatable by
    # a user (shell/db/security/roles.py grants the other columns only).
    TableAccess("core_users", read=(EVERYONE,), write=(_USERS,)),
    TableAccess("core_roles", read=(EVERYONE,), write=(_USERS,)),
    TableAccess("core_role_permissions", read=(EVERYONE,), write=(_USERS,)),
    TableAccess("core_user_roles", read=(EVERYONE,), write=(_USERS,)),
    TableAccess("core_settings", read=(EVERYONE,), write=("core.settings.manage", "core.plugins.manage")),
    TableAccess("core_holidays", read=(EVERYONE,), write=("core.settings.manage",)),
    TableAccess("core_chain_heads", read=(EVERYONE,)),
    # Written by the server only (jiedao_sec.audit_row / audit_event); read by the audit viewers.
    TableAccess("core_audit_log", read=("core.audit.view",)),
    TableAccess("core_security", read=(EVERYONE,)),
    TableAccess("core_table_access", read=(EVERYONE,)),
)

# Never granted to a user role, not even SELECT (column-level grants on core_users' other columns).
HIDDEN_COLUMNS = {"core_users": ("password_hash", "failed_logins", "locked_until")}


def collect_table_access(pm=None) -> list[TableAccess]:
    """Core's declarations, then every plugin's; pass a manager with all plugins, disabled ones too."""
    out = list(CORE_TABLE_ACCESS)
    if pm is not None:
        from shell.plugins import call_each

        out += [t for _name, t in call_each(pm, "register_table_access")]
    return out
