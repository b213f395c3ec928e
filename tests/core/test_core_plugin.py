"""The core is the first plugin (shell/core/plugin.py): registered ahead of every plugin, answered
through the same hooks, not listed among the loadable plugins and impossible to shadow."""
from __future__ import annotations

import types

from shell import hookimpl
from shell.contracts import Permission, PluginInfo
from shell.core import access, auth, reporting, settings
from shell.core import plugin as core_plugin
from shell.plugins import call_each, core_plugin_manager, make_plugin_manager, plugin_status


def _pm(*extra, **kw):
    return make_plugin_manager(builtins=(), extra=list(extra), entry_points=False, plugin_dirs=(), **kw)


def test_core_is_registered_first_and_not_listed():
    pm = _pm()
    assert [n for n, _ in pm.list_name_plugin()] == ["core"]
    assert pm.get_plugin("core") is core_plugin
    assert plugin_status(pm) == []          # cannot be disabled: not among the plugins the user manages


def test_collectors_are_one_hook_call():
    pm = _pm()
    assert auth.collect_permissions(pm) == {p.code: p.label for p in core_plugin.CORE_PERMISSIONS}
    assert [t.name for t in auth.collect_role_templates(pm)] == [t.name for t in core_plugin.CORE_ROLES]
    assert list(settings.definitions(pm)) == [d.key for d in core_plugin.CORE_SETTINGS]
    assert access.collect_table_access(pm) == list(core_plugin.CORE_TABLE_ACCESS)
    assert [(p, d.id) for p, d in reporting.available_reports(pm)] == [("core", "core.audit")]
    assert [s.id for _n, s in call_each(pm, "register_pages", ctx=None)] == ["reports", "imports"]


def test_without_a_manager_the_core_answers_alone():
    assert auth.collect_permissions() == auth.collect_permissions(core_plugin_manager())
    assert "core.audit.view" in auth.collect_permissions()
    assert [d.id for _p, d in reporting.available_reports(None)] == ["core.audit"]
    assert list(settings.definitions()) == [d.key for d in core_plugin.CORE_SETTINGS]
    assert access.collect_table_access() == list(core_plugin.CORE_TABLE_ACCESS)


def test_old_names_still_point_at_the_core_plugin():
    assert auth.CORE_PERMISSIONS is core_plugin.CORE_PERMISSIONS
    assert auth.CORE_ROLES is core_plugin.CORE_ROLES
    assert settings.CORE_SETTINGS is core_plugin.CORE_SETTINGS
    assert access.CORE_TABLE_ACCESS is core_plugin.CORE_TABLE_ACCESS


def test_plugin_roles_extend_core_roles_after_the_core():
    mod = types.ModuleType("extra")
    mod.plugin_info = hookimpl(lambda: PluginInfo(name="extra", title="扩展", version="1"))
    mod.register_permissions = hookimpl(lambda: [Permission("extra.view", "查看扩展")])
    from shell.contracts import RoleTemplate

    mod.register_roles = hookimpl(lambda: [RoleTemplate("grid_worker", "别的标题", ("extra.view",))])
    pm = _pm(mod)
    perms = list(auth.collect_permissions(pm))
    assert perms[: len(core_plugin.CORE_PERMISSIONS)] == [p.code for p in core_plugin.CORE_PERMISSIONS]
    assert perms[-1] == "extra.view"
    worker = next(t for t in auth.collect_role_templates(pm) if t.name == "grid_worker")
    assert worker.title == "网格员" and worker.permissions == ("core.area.view", "core.data.export", "extra.view")


def test_a_plugin_named_core_cannot_replace_it():
    impostor = types.ModuleType("impostor")
    impostor.plugin_info = hookimpl(lambda: PluginInfo(name="core", title="冒名核心", version="1"))
    impostor.register_permissions = hookimpl(lambda: [Permission("core.everything", "全部")])
    pm = _pm(impostor)
    st = plugin_status(pm)
    assert [(s.name, s.state) for s in st] == [("core", "error")] and "为核心保留" in st[0].error
    assert pm.get_plugin("core") is core_plugin
    assert "core.everything" not in auth.collect_permissions(pm)
