"""The whole plugin contract of Jiedao, in one place.

A plugin is a module (or object) with functions marked ``@hookimpl`` (``from shell import hookimpl``).
It is registered under its ``plugin_info().name``. Every hook is optional except ``plugin_info``.
Hooks that return lists may return one item, a list, or None. The shell calls each plugin's
implementation on its own, so one failing plugin is reported and skipped, never fatal.

``ctx`` arguments are ``shell.core.context.AppContext`` (session factory, actor, plugin manager,
clock); services get a ``ServiceContext`` from it with ``ctx.service()``.
"""
from __future__ import annotations

from shell import hookspec


@hookspec
def plugin_info():
    """Return a ``PluginInfo``: machine name, Chinese title, version, icon and ``requires``
    (names of plugins this one needs; if one is missing or disabled this plugin is not loaded)."""


@hookspec
def register_migrations():
    """Return a ``MigrationBranch(label, path)``: this plugin's Alembic branch.

    The first revision of the branch has ``down_revision = None``, ``branch_labels = (label,)`` and
    ``depends_on`` the core revision it needs (its tables reference ``core_areas``/``core_users``).
    Tables are prefixed with the plugin name. Branches of disabled plugins are still migrated, so
    the schema never depends on which desktop enabled what."""


@hookspec
def register_permissions():
    """Return ``Permission(code, label)`` items; codes are ``<plugin>.<thing>``, labels Chinese."""


@hookspec
def register_roles():
    """Return ``RoleTemplate`` items: suggested default roles with their permission codes.
    Created (or completed with new codes) when a database is initialised or upgraded."""


@hookspec
def register_table_access():
    """Return ``TableAccess(table, read=…, write=…, append=…)`` items, one per table of this plugin:
    which permission codes reach the table on a secured server database (``"*"``: every logged-in
    user). The owner writes them into core_table_access at ``jiedao db secure``/``db upgrade`` and
    grants each Jiedao role's group role what its codes add up to. A table nobody declares is
    reachable by the owner only. Plain data: keep it in ``rules.py``, loaded at start-up."""


@hookspec
def register_pages(ctx):
    """Return ``PageSpec`` items for the navigation list. The widget is built lazily, on first open,
    by ``factory(ctx, parent)``; a page whose ``permission`` the actor lacks is not shown."""


@hookspec
def register_settings_pages(ctx):
    """Return ``PageSpec`` items for the settings dialog (设置), listed after the core's pages: a
    plugin's street-wide configuration that is more than one value (the grid's 部门与单位). Built on
    first open by ``factory(ctx, parent)``; a page whose ``permission`` the actor lacks is not listed
    (and its services refuse the writes anyway); ``icon`` names a ``QStyle.StandardPixmap``."""


@hookspec
def register_dashboard_widgets(ctx):
    """Return ``DashboardWidgetSpec`` items: tiles and pyqtgraph charts for the dashboard. A tile whose
    widget has a ``has_data(bool)`` signal (``shell.ui.widgets.charts.ChartView`` has one) is left out
    of the 首页 while its figures come with nothing to show."""


@hookspec
def register_todo(ctx):
    """Return ``TodoItem`` items: the work waiting for ``ctx.actor`` in this plugin (events at the
    actor's step, visits due, hours to approve…), counted in the actor's scope. ``ctx`` is a
    ``ServiceContext`` (called off the GUI thread, read-only); return nothing for items with a zero
    count or that the actor has no permission for. Each item names the page and filter that show
    exactly the records it counts."""


@hookspec
def register_reports():
    """Return ``ReportDefinition`` items: ledgers/statements with parameters and a builder that turns
    ``(service_ctx, params)`` into a report spec for ``reports/``."""


@hookspec
def register_importers():
    """Return ``ImporterDefinition`` items: Excel import/export of a kind of record, all-or-nothing
    per file with row-level errors (row, column, value, reason)."""


@hookspec
def register_settings():
    """Return ``SettingDefinition`` items: configurable local norms with defaults, stored in the core
    settings table and edited in the settings dialog."""


@hookspec
def register_search(ctx, text):
    """Return ``SearchResult`` items matching ``text`` (name, pinyin initials, ID number …) within
    the actor's scope, at most a few dozen."""


@hookspec
def seed_demo(session, scale, rng):
    """Add realistic demo data. ``scale`` is "small" | "medium" | "large"; ``rng`` is a seeded
    ``random.Random``. The core has already created the area tree and users; find areas with
    ``shell.core.areas.list_areas(session, level=...)``. Do not commit; the caller does."""


@hookspec(firstresult=True)
def open_record(ctx, kind, id):
    """Open the record ``kind``/``id`` if this plugin owns that kind; return True when handled,
    None otherwise. Lets one plugin open another's record without importing it. In the desktop,
    ``ctx.extras["open_page"](page_id)`` shows one of the main window's pages (building it on first
    use) and returns its widget, so a plugin can open its page at the record."""


@hookspec
def calendar_changed(ctx, days):
    """The holiday calendar (``shell.core.calendar``) changed on ``days`` (sorted dates) in the
    session of ``ctx`` — a ``ServiceContext``, not committed yet. Recount whatever this plugin counted
    in working days over those days (the grid's open events' 处置时限) in that session, audited as
    usual, and return one Chinese sentence saying what changed, or None. The calendar services call
    it when the caller passes the plugin manager (the 节假日安排 page and ``jiedao calendar import``)."""
