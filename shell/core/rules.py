"""The core's declarations as plain data — its permissions, default roles, settings and table
access — like a plugin's ``rules.py``: importing them loads no models and no plugin machinery.
The core plugin (``shell/core/plugin.py``) registers them through the hooks; ``shell.core.auth``,
``settings`` and ``access`` use them directly when called without a plugin manager."""
from __future__ import annotations

from shell.contracts import Permission, RoleTemplate, SettingDefinition, TableAccess

CORE_PERMISSIONS: tuple[Permission, ...] = (
    Permission("core.area.view", "查看辖区"),
    Permission("core.area.manage", "管理辖区（新建、调整、撤销）"),
    Permission("core.user.manage", "管理用户与角色"),
    Permission("core.audit.view", "查看审计日志"),
    Permission("core.settings.manage", "修改系统设置与规则"),
    Permission("core.plugins.manage", "启用或停用插件"),
    Permission("core.database.manage", "数据库备份与恢复"),
    Permission("core.personal.full_view", "查看完整身份证号码"),
    Permission("core.data.export", "导出数据到 Excel（数据导出和报表导出为 Excel）"),
)

CORE_ROLES: tuple[RoleTemplate, ...] = (
    RoleTemplate("admin", "系统管理员", tuple(p.code for p in CORE_PERMISSIONS), "管理用户、辖区、设置和数据库"),
    RoleTemplate("street_staff", "街道工作人员", ("core.area.view", "core.data.export"), "街道各业务线的工作人员"),
    RoleTemplate("community_staff", "社区工作人员", ("core.area.view", "core.data.export"), "社区居委会工作人员"),
    # Export and print of their own grid's lists (issue 17 §2): the scope keeps it to their grids,
    # and without core.personal.full_view the ID and phone numbers leave masked.
    RoleTemplate("grid_worker", "网格员", ("core.area.view", "core.data.export"), "负责一个或几个网格的网格员"),
)

CORE_SETTINGS: tuple[SettingDefinition, ...] = (
    SettingDefinition("core.unit_name", "单位名称", "", kind="text", description="打印在台账抬头的单位全称"),
    SettingDefinition("core.login.max_failures", "连续登录失败锁定次数", 5, minimum=3, maximum=20,
                      description="连续输错密码达到此次数后锁定账号"),
    SettingDefinition("core.login.lock_minutes", "账号锁定时长（分钟）", 15, minimum=1, maximum=1440),
    SettingDefinition("core.password.min_length", "密码最少位数", 8, minimum=8, maximum=64),
    SettingDefinition("core.backup.keep", "自动备份保留份数", 10, minimum=1, maximum=100,
                      description="单机数据库在启动和退出时（数据自上次自动备份后有变动才备份）"
                                  "自动备份到数据库所在文件夹的 backups/ 下，只保留最近的这么多份"),
)

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
