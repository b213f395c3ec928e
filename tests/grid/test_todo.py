"""The grid's 我的待办 (issue #17 §1): for every demo role, each item's count is exactly what its page
shows with the item's filter (events by status, visits overdue/due, tenants reported late)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from plugins.grid import services as svc
from plugins.grid import todo
from plugins.grid.models import Event
from shell.core.database import open_database
from shell.testing import DEMO_ROLES


def count(ctx, q) -> int:
    return ctx.session.scalar(select(func.count()).select_from(q.order_by(None).subquery()))


@pytest.fixture(scope="module")
def demo(tmp_path_factory, sqlite_templates):
    from shell.testing import ALL_BUILTINS

    path = sqlite_templates.copy(tmp_path_factory.mktemp("todo") / "demo.sqlite", ALL_BUILTINS, demo=True)
    from shell.plugins import make_plugin_manager

    db = open_database(path, pm=make_plugin_manager(entry_points=False), backup=False)
    yield db
    db.dispose()


@pytest.mark.parametrize("role", DEMO_ROLES)
def test_each_item_counts_what_its_page_shows(demo, role, make_ctx):
    from shell.testing import demo_actor

    ctx = make_ctx(demo, demo_actor(demo, role))
    items = {i.id: i for i in todo.items(ctx)}
    today = ctx.today()
    for item in items.values():
        assert item.count >= 0 and 0 <= item.overdue <= item.count, item
        if item.page == "grid.events":
            # The events page lists a status code with events_query(actor, status=code).
            shown = svc.events_query(ctx.actor, status=item.filter["code"])
            assert count(ctx, shown) == item.count, item
            if item.filter["code"] != "reported":
                assert count(ctx, shown.where(Event.deadline < today)) == item.overdue, item
        elif item.id == "grid.visits.overdue":
            assert count(ctx, svc.specials_query(ctx.actor, overdue_on=today)) == item.count
        elif item.id == "grid.visits.due":
            q = svc.specials_query(ctx.actor, due_between=(today, today + timedelta(days=item.filter["due_days"])))
            assert count(ctx, q) == item.count
        elif item.id == "grid.tenants.late":
            assert count(ctx, svc.tenants_query(ctx, status="late")) == item.count
        else:
            pytest.fail(f"an item no test checks: {item}")
    # Only steps the role may take are offered.
    for st, action, _title in todo.WAITING:
        if f"grid.events.{st}" in items:
            assert ctx.actor.can(svc.TRANSITIONS[action].permission)


def test_the_demo_street_has_work_waiting(demo, make_ctx):
    """The demo gives each kind of item something to show (else the test above proves little)."""
    from shell.testing import demo_actor

    ctx = make_ctx(demo, demo_actor(demo, "admin"))
    got = {i.id: i.count for i in todo.items(ctx)}
    assert got["grid.visits.overdue"] > 0 and got["grid.tenants.late"] > 0
    assert sum(n for k, n in got.items() if k.startswith("grid.events.")) > 0


def _page_model(page):
    """The lazy list a 待办 link lands on (the houses page: its 租客 tab)."""
    return page.tenants.model if hasattr(page, "tenants") else page.model


def test_each_link_opens_its_page_showing_exactly_the_counted_records(demo, qtbot):
    """Clicked through the 首页 panel as the street's administrator: each page shows ``count`` rows."""
    from shell.core import auth
    from shell.core.context import AppContext
    from shell.plugins import make_plugin_manager
    from shell.ui.todo_panel import TodoPanel

    pm = make_plugin_manager(entry_points=False)
    actor = auth.login(demo.session_factory, "admin", "demo1234", labels=auth.collect_permissions(pm))
    pages = {}

    def open_page(page_id):
        if page_id not in pages:
            from shell.plugins import call_each

            spec = next(s for _p, s in call_each(pm, "register_pages", ctx=app) if s.id == page_id)
            pages[page_id] = spec.factory(app, None)
            qtbot.addWidget(pages[page_id])
        return pages[page_id]

    app = AppContext(demo.session_factory, actor, plugin_manager=pm, extras={"open_page": open_page})
    panel = TodoPanel(app)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.todo is not None, timeout=20000)
    grid_items = [(b, i) for b, (p, i) in zip(panel.buttons, panel.todo.items, strict=True) if p == "grid"]
    assert grid_items
    for button, item in grid_items:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        model = _page_model(pages[item.page])
        qtbot.waitUntil(lambda m=model: not m.counting, timeout=20000)
        assert model.total == item.count, item
