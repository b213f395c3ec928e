"""A small but complete plugin used by the tests: a page, a permission, a role, a report, a
migration with a table, demo data, an importer, a setting, search and open_record."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from shell import hookimpl
from shell.contracts import (
    DashboardWidgetSpec,
    ImporterDefinition,
    ImportResult,
    MigrationBranch,
    PageSpec,
    Permission,
    PluginInfo,
    ReportDefinition,
    ReportParameter,
    RoleTemplate,
    RowError,
    SearchResult,
    SettingDefinition,
    TableAccess,
    TodoItem,
)
from shell.core.areas import list_areas, scope_filter
from shell.db.base import Base, RecordMixin

NAME = "testplug"
PERMISSION = "testplug.view"


class Note(RecordMixin, Base):
    __tablename__ = "testplug_notes"

    area_id: Mapped[int] = mapped_column(ForeignKey("core_areas.id"))
    title: Mapped[str] = mapped_column(String(100))


OPENED: list[tuple[str, int]] = []


@hookimpl
def plugin_info():
    return PluginInfo(name=NAME, title="测试插件", version="1.0", icon="SP_FileIcon")


@hookimpl
def register_migrations():
    return MigrationBranch(NAME, Path(__file__).parent / "migrations")


@hookimpl
def register_permissions():
    return [Permission(PERMISSION, "查看测试便签"), Permission("testplug.edit", "编辑测试便签")]


@hookimpl
def register_roles():
    return [RoleTemplate("grid_worker", "网格员", (PERMISSION,)),
            RoleTemplate("testplug_clerk", "便签管理员", (PERMISSION, "testplug.edit"))]


@hookimpl
def register_table_access():
    return [TableAccess("testplug_notes", read=(PERMISSION,), write=("testplug.edit",))]


def _page(ctx, parent=None):
    from PySide6.QtWidgets import QLabel

    class NotesPage(QLabel):
        def show_filtered(self, **filter_):
            """The 待办 link's filter (shell/ui/todo_panel.py): recorded and shown."""
            self.filtered = filter_
            self.setText(f"测试便签：{filter_}")

    with ctx.service(commit=False) as sctx:
        n = sctx.session.scalar(select(func.count()).select_from(Note).where(scope_filter(Note.area_id, ctx.actor)))
    label = NotesPage(f"测试便签共 {n} 条", parent)
    label.setObjectName("testplug-page")
    return label


# Tests set it to make register_todo fail (one plugin's fault must not empty 我的待办).
TODO_FAILS: list[bool] = []


@hookimpl
def register_todo(ctx):
    if TODO_FAILS:
        raise RuntimeError("模拟的待办统计错误")
    if not ctx.actor.can("testplug.edit"):
        return []
    n = ctx.session.scalar(select(func.count()).select_from(Note).where(scope_filter(Note.area_id, ctx.actor))) or 0
    return [TodoItem(id="testplug.notes", title="待整理的测试便签", count=n, unit="条", page="testplug.notes",
                     filter={"state": "open"}, order=10),
            TodoItem(id="testplug.late", title="超期的测试便签", count=min(n, 1), unit="条", overdue=min(n, 1),
                     page="testplug.notes", filter={"state": "late"}, order=20),
            TodoItem(id="testplug.none", title="没有的事", count=0, page="testplug.notes")]


@hookimpl
def register_pages(ctx):
    return [PageSpec(id="testplug.notes", title="测试便签", factory=_page, order=50, permission=PERMISSION)]


def _tile(ctx, parent=None):
    from PySide6.QtWidgets import QLabel

    return QLabel("测试插件磁贴", parent)


@hookimpl
def register_dashboard_widgets(ctx):
    return [DashboardWidgetSpec(id="testplug.tile", title="测试磁贴", factory=_tile, permission=PERMISSION)]


def _build_report(sctx, params):
    from reports import Column, LedgerSpec

    rows = sctx.session.execute(select(Note.id, Note.title).where(scope_filter(Note.area_id, sctx.actor))
                                .order_by(Note.id))
    return LedgerSpec(title="测试便签台账", unit_name="测试街道办事处", period=f"{params['year']}年",
                      columns=[Column("编号", 20, align="right"), Column("标题", "*")], rows=rows)


@hookimpl
def register_reports():
    return [ReportDefinition(id="testplug.notes", title="测试便签台账", builder=_build_report,
                             parameters=(ReportParameter("year", "年度", kind="year", default=2026),),
                             permission=PERMISSION)]


COLUMNS = ("辖区编码", "标题")


def _import(sctx, path, valid_only=False):
    """CSV-like text import used by the CLI tests: 'area code,title' per line, header first."""
    sctx.actor.require("testplug.edit")
    areas = {a.code: a for a in list_areas(sctx.session)}
    result = ImportResult()
    good = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for rowno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        result.total_rows += 1
        code, _, title = line.partition(",")
        if code not in areas:
            result.errors.append(RowError(rowno, "辖区编码", code, "找不到这个辖区编码"))
            continue
        if not title.strip():
            result.errors.append(RowError(rowno, "标题", title, "标题不能为空"))
            continue
        good.append(Note(area_id=areas[code].id, title=title.strip()))
    result.valid_rows = len(good)
    if result.errors and not valid_only:
        return result
    sctx.session.add_all(good)
    sctx.session.flush()
    result.written = len(good)
    return result


def _export(sctx, path):
    # the area's code, as the import reads it (the conformance test round-trips every export)
    codes = {a.id: a.code for a in list_areas(sctx.session)}
    rows = list(sctx.session.scalars(select(Note).order_by(Note.id)))
    Path(path).write_text("\n".join([",".join(COLUMNS)] + [f"{codes.get(n.area_id, '')},{n.title}" for n in rows]),
                          encoding="utf-8")
    return len(rows)


@hookimpl
def register_importers():
    return [ImporterDefinition(kind="testplug-notes", title="测试便签", import_fn=_import, export_fn=_export,
                               permission="testplug.edit", columns=COLUMNS)]


@hookimpl
def register_settings():
    return [SettingDefinition("testplug.per_grid", "每个网格便签上限", 10, minimum=1, maximum=100)]


@hookimpl
def register_search(ctx, text):
    with ctx.service(commit=False) as sctx:
        rows = sctx.session.scalars(select(Note).where(Note.title.contains(text),
                                                       scope_filter(Note.area_id, ctx.actor)).limit(20))
        return [SearchResult(kind="testplug.note", id=n.id, title=n.title, plugin=NAME) for n in rows]


@hookimpl
def seed_demo(session, scale, rng):
    for grid in list_areas(session, level="grid"):
        session.add(Note(area_id=grid.id, title=f"{grid.name}便签{rng.randint(1, 99)}"))
    session.flush()


@hookimpl
def open_record(ctx, kind, id):
    if kind != "testplug.note":
        return None
    OPENED.append((kind, id))
    return True
