"""The value types that hooks return. Plain dataclasses, no Qt, so services and the CLI use them too."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PluginInfo:
    name: str                      # machine name, equals the registration name, e.g. "volunteer"
    title: str                     # Chinese title shown to users, e.g. "志愿服务"
    version: str
    icon: str = ""                 # a Qt standard icon name or a path to an .svg/.png
    requires: tuple[str, ...] = ()  # names of plugins this one needs
    description: str = ""
    # Modules of the plugin package ("services", "views.dashboard") the desktop imports on the thread
    # pool once its window shows, so that the first tiles and pages do not import them on the GUI thread.
    warm: tuple[str, ...] = ()
    # … and those imported there after the first page is up (ledgers, importers, other pages' views):
    # opening the 报表中心 or a page then no longer imports them on the GUI thread. "views.*" = all of them.
    preload: tuple[str, ...] = ()


@dataclass(frozen=True)
class MigrationBranch:
    label: str                     # Alembic branch label, e.g. "volunteer"
    path: Path                     # folder holding this branch's revision files


@dataclass(frozen=True)
class Permission:
    code: str                      # "<plugin>.<thing>", e.g. "volunteer.redeem"
    label: str                     # Chinese, e.g. "积分兑换"


@dataclass(frozen=True)
class TableAccess:
    """Who may reach a table on a secured server database (shell/db/security): permission codes per
    level; ``"*"`` is every logged-in user. ``read`` = SELECT; ``append`` = SELECT, INSERT (append-only
    ledgers); ``write`` = SELECT, INSERT, UPDATE, DELETE. A table nobody declares is the owner's only."""

    table: str
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    append: tuple[str, ...] = ()

    def rows(self) -> list[tuple[str, str, str]]:
        """(table, code, privilege) rows for core_table_access."""
        out = []
        for privilege in ("read", "write", "append"):
            for code in dict.fromkeys(getattr(self, privilege)):
                out.append((self.table, code, privilege))
        return out


@dataclass(frozen=True)
class RoleTemplate:
    name: str                      # machine name, e.g. "grid_worker"
    title: str                     # Chinese, e.g. "网格员"
    permissions: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class PageSpec:
    """A navigation page. ``factory(app_ctx, parent)`` builds the widget on first open."""

    id: str
    title: str
    factory: Callable[..., Any]
    icon: str = ""
    order: int = 100
    permission: str | None = None
    group: str = ""


@dataclass(frozen=True)
class DashboardWidgetSpec:
    """A dashboard tile; ``factory(app_ctx, parent)`` returns a QWidget."""

    id: str
    title: str
    factory: Callable[..., Any]
    order: int = 100
    permission: str | None = None
    span: int = 1                  # columns of the dashboard grid it covers


@dataclass(frozen=True)
class TodoItem:
    """One line of 我的待办 on the 首页: work waiting for the actor. ``page`` opens with ``filter``
    applied (the page's ``show_filtered(**filter)``), showing exactly the records counted."""

    id: str                        # "grid.events.registered"
    title: str                     # "待派遣的事件"
    count: int
    unit: str = "件"
    overdue: int = 0               # of ``count``, past their deadline: listed first, in red
    page: str = ""                 # page id
    filter: Mapping[str, Any] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class ReportParameter:
    name: str
    label: str
    kind: str = "text"             # text | date | month | year | area | choice | int
    default: Any = None
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True


@dataclass(frozen=True)
class ReportDefinition:
    """A ledger or statement. ``builder(service_ctx, params)`` returns a report spec (reports/)."""

    id: str
    title: str
    builder: Callable[..., Any]
    parameters: tuple[ReportParameter, ...] = ()
    permission: str | None = None
    category: str = ""


@dataclass(frozen=True)
class RowError:
    """One bad cell of an import: row as the user sees it in Excel (header is row 1)."""

    row: int
    column: str
    value: Any
    reason: str

    def __str__(self) -> str:
        return f"第 {self.row} 行，“{self.column}”列，值“{'' if self.value is None else self.value}”：{self.reason}"


@dataclass
class ImportResult:
    total_rows: int = 0
    valid_rows: int = 0
    written: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImporterDefinition:
    """Excel import/export of one kind of record.

    ``import_fn(service_ctx, path, valid_only) -> ImportResult`` must validate every row first and
    write nothing unless all rows are valid or ``valid_only`` is true (then only the valid ones).
    ``export_fn(service_ctx, path) -> int`` writes the rows and returns their count.
    ``template_fn(path)`` writes an empty template with the header row.
    """

    kind: str
    title: str
    import_fn: Callable[..., ImportResult] | None = None
    export_fn: Callable[..., int] | None = None
    template_fn: Callable[..., None] | None = None
    permission: str | None = None
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SettingDefinition:
    """A configurable norm or rule stored in the core settings table."""

    key: str                       # "<plugin>.<name>", e.g. "grid.households_per_worker"
    title: str
    default: Any
    kind: str = "int"              # int | float | bool | text | choice
    description: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class SearchResult:
    kind: str                      # record kind understood by the owning plugin's open_record
    id: int
    title: str
    subtitle: str = ""
    plugin: str = ""


def as_list(value: Any) -> list:
    """Hooks may return one item, a list, or None."""
    if value is None:
        return []
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return list(value)
    return [value]
