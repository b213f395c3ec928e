"""The core as the first plugin: its permissions, default roles, settings, table access, reports and
pages come through the same hooks as every work-line plugin's. ``shell.plugins.make_plugin_manager``
registers this module first (under the name ``core``, like datasette's default plugins), so each
collector — permissions, roles, settings, reports, pages, table access — is one plain hook call and
the core's items come first. The core is not listed among the loadable plugins (``plugin_status``):
it cannot be disabled.

The definitions are plain data in ``shell/core/rules.py`` (registering them loads no models);
``shell.core.auth``, ``settings`` and ``access`` re-export them under their old names."""
from __future__ import annotations

import importlib

from shell import hookimpl
from shell.contracts import PageSpec
from shell.core.rules import CORE_PERMISSIONS, CORE_ROLES, CORE_SETTINGS, CORE_TABLE_ACCESS

NAME = "core"

# Named, not imported: the core never imports the desktop; the page's module (Qt) is loaded when
# the page is first opened, as a plugin's page is.
_PAGE_CLASSES = {"reports": "shell.ui.report_centre:ReportCentrePage", "imports": "shell.ui.import_centre:ImportCentrePage"}


def _page_factory(page_id: str):
    def factory(app_ctx, parent=None):
        module, _, name = _PAGE_CLASSES[page_id].partition(":")
        return getattr(importlib.import_module(module), name)(app_ctx, parent)

    factory.__qualname__ = f"page_factory[{page_id}]"
    return factory


# Every user sees it; it lists only the reports their permissions allow (or says there are none).
REPORTS_PAGE = PageSpec(id="reports", title="报表中心", factory=_page_factory("reports"), icon="SP_FileDialogDetailedView",
                        order=900, group="通用")
# Likewise: the kinds of data the actor's permissions allow importing or exporting.
IMPORTS_PAGE = PageSpec(id="imports", title="数据导入导出", factory=_page_factory("imports"), icon="SP_ArrowUp", order=910,
                        group="通用")


@hookimpl
def register_permissions():
    return list(CORE_PERMISSIONS)


@hookimpl
def register_roles():
    return list(CORE_ROLES)


@hookimpl
def register_settings():
    return list(CORE_SETTINGS)


@hookimpl
def register_table_access():
    return list(CORE_TABLE_ACCESS)


@hookimpl
def register_reports():
    from shell.core.audit_query import core_reports

    return core_reports()


@hookimpl
def register_pages(ctx):
    return [REPORTS_PAGE, IMPORTS_PAGE]
