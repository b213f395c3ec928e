"""我的待办 of the volunteer, Party and emergency lines (issue #17 §1): on the demo street each item's
count equals a count made here by hand from the tables and the domain's rules (DOMAIN.md: probation
one year plus its extension, 30 days' notice, receipts owed, minimum stock, the first expiry band,
review dates, one comprehensive drill a year), and a click on the 首页 opens the page showing exactly
those rows, with a filter the user can clear."""
from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from shell.core.database import open_database
from shell.core.models import Area
from shell.testing import ALL_BUILTINS, demo_actor

# Roles with a scope (community_staff: 和平里社区) and without (admin), and the lines' own clerks.
ROLES = ("admin", "community_staff", "partybuilding_clerk", "emergency_keeper", "volunteer_admin")
LINES = ("volunteer", "partybuilding", "emergency")


@pytest.fixture(scope="module")
def demo(tmp_path_factory, sqlite_templates):
    from shell.plugins import make_plugin_manager

    path = sqlite_templates.copy(tmp_path_factory.mktemp("todo_lines") / "demo.sqlite", ALL_BUILTINS, demo=True)
    db = open_database(path, pm=make_plugin_manager(entry_points=False), backup=False)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def pg_demo(pg_templates):
    """The same street on PostgreSQL (the template other tests of the run share)."""
    from shell.plugins import make_plugin_manager

    with pg_templates.clone(ALL_BUILTINS, demo=True, prefix="jd_test_todo") as url:
        db = open_database(url, pm=make_plugin_manager(entry_points=False), backup=False)
        yield db
        db.dispose()


def line_items(ctx) -> dict[str, object]:
    from plugins.emergency import todo as emergency_todo
    from plugins.partybuilding import todo as party_todo
    from plugins.volunteer import todo as volunteer_todo

    return {i.id: i for module in (volunteer_todo, party_todo, emergency_todo) for i in module.items(ctx)}


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    return date(y, m, min(d.day, monthrange(y, m)[1]))


class Hand:
    """Counts from the rows themselves, for one actor."""

    def __init__(self, ctx):
        self.s, self.actor, self.today = ctx.session, ctx.actor, ctx.today()
        self.paths = dict(self.s.execute(select(Area.id, Area.path)).all())

    def seen(self, area_id) -> bool:
        return self.actor.in_scope(self.paths.get(area_id))

    def approvals(self) -> int:
        from plugins.volunteer.models import Activity, Attendance

        rows = self.s.execute(select(Attendance.status, Activity.area_id)
                              .join(Activity, Activity.id == Attendance.activity_id)).all()
        return sum(1 for status, area in rows if status == "signed_out" and self.seen(area))

    def ended_open(self, now) -> int:
        from plugins.volunteer.models import Activity

        def past(ends):   # stored in UTC, naive on SQLite
            return ends < (now.replace(tzinfo=None) if ends.tzinfo is None else now)

        return sum(1 for a in self.s.scalars(select(Activity).where(Activity.status == "open"))
                   if self.seen(a.area_id) and past(a.ends_at))

    def probation(self) -> tuple[int, int]:
        from plugins.partybuilding.models import Member, PartyOrg

        rows = self.s.execute(select(Member.admitted_on, Member.extension_months, PartyOrg.area_id)
                              .join(PartyOrg, PartyOrg.id == Member.org_id)
                              .where(Member.stage == "probationary", Member.status == "normal")).all()
        due = overdue = 0
        for admitted, extension, area in rows:
            if not self.seen(area):
                continue
            end = add_months(admitted, 12 + (extension or 0))   # one year from the vote, plus the extension
            overdue += end < self.today
            due += self.today <= end <= self.today + timedelta(days=30)
        return due, overdue

    def receipts(self) -> tuple[int, int]:
        from plugins.partybuilding.models import PartyOrg, Transfer

        orgs = dict(self.s.execute(select(PartyOrg.id, PartyOrg.area_id)).all())
        waiting = late = 0
        for t in self.s.scalars(select(Transfer).where(Transfer.direction == "out")):
            if t.status == "issued" and self.seen(orgs[t.from_org_id or t.to_org_id]):
                waiting += 1
                late += t.receipt_due_on is not None and t.receipt_due_on < self.today
        return waiting, late

    def below_minimum(self) -> int:
        from plugins.emergency.models import Batch, MinStock, Warehouse

        areas = dict(self.s.execute(select(Warehouse.id, Warehouse.area_id)).all())
        usable: dict[tuple[int, int], int] = {}
        for b in self.s.scalars(select(Batch)):
            if b.expiry_date is None or b.expiry_date >= self.today:
                usable[(b.warehouse_id, b.item_id)] = usable.get((b.warehouse_id, b.item_id), 0) + b.qty
        return sum(1 for m in self.s.scalars(select(MinStock))
                   if self.seen(areas[m.warehouse_id]) and usable.get((m.warehouse_id, m.item_id), 0) < m.min_qty)

    def expiring(self) -> tuple[int, int]:
        from plugins.emergency.models import Batch, Warehouse

        areas = dict(self.s.execute(select(Warehouse.id, Warehouse.area_id)).all())
        found = [b.expiry_date for b in self.s.scalars(select(Batch).where(Batch.qty > 0, Batch.expiry_date.is_not(None)))
                 if self.seen(areas[b.warehouse_id]) and b.expiry_date <= self.today + timedelta(days=30)]
        return len(found), sum(1 for d in found if d < self.today)

    def plans(self) -> tuple[int, int]:
        from plugins.emergency.models import Plan

        found = [p.review_on for p in self.s.scalars(select(Plan).where(Plan.active.is_(True)))
                 if p.review_on is not None and self.seen(p.area_id) and p.review_on <= self.today + timedelta(days=30)]
        return len(found), sum(1 for d in found if d < self.today)

    def drills_behind(self) -> int:
        from plugins.emergency.models import Drill

        held = {d.area_id for d in self.s.scalars(select(Drill).where(Drill.content == "comprehensive"))
                if d.status in ("held", "evaluated") and d.held_on is not None and d.held_on.year == self.today.year}
        units = self.s.scalars(select(Area).where(Area.level.in_(("street", "community")), Area.closed_on.is_(None)))
        return sum(1 for a in units if self.seen(a.id) and a.id not in held)


@pytest.mark.parametrize(("engine", "role"), [("sqlite", r) for r in ROLES]
                         + [("pg", "admin"), ("pg", "community_staff")])
def test_each_count_is_the_hand_count(request, engine, role, make_ctx):
    from plugins.partybuilding import services as pb

    db = request.getfixturevalue("demo" if engine == "sqlite" else "pg_demo")
    ctx = make_ctx(db, demo_actor(db, role))
    got = line_items(ctx)
    hand = Hand(ctx)
    can = ctx.actor.can
    for item in got.values():
        assert item.count >= 0 and 0 <= item.overdue <= item.count, item
    expected: dict[str, tuple[int, int]] = {}
    if can("volunteer.approve"):
        expected["volunteer.approvals.pending"] = (hand.approvals(), 0)
    if can("volunteer.activity") and can("volunteer.view"):
        n = hand.ended_open(ctx.now())
        expected["volunteer.activities.ended_open"] = (n, n)
    if can("partybuilding.member.manage"):
        due, overdue = hand.probation()
        expected["partybuilding.probation.due"] = (due, 0)
        expected["partybuilding.probation.overdue"] = (overdue, overdue)
    if can("partybuilding.transfer"):
        expected["partybuilding.transfers.receipts"] = hand.receipts()
    if can("emergency.stock.manage"):
        expected["emergency.stock.below_min"] = (hand.below_minimum(), 0)
        expected["emergency.stock.expiring"] = hand.expiring()
    if can("emergency.plan.manage"):
        expected["emergency.plans.review"] = hand.plans()
    if can("emergency.drill.manage"):
        expected["emergency.drills.behind"] = (hand.drills_behind(), 0)
    assert {k: (i.count, i.overdue) for k, i in got.items() if k in expected} == expected
    # The 三会一课 item, month by month: this quarter's ended months short of a rule are its overdue
    # part; the rest is this month's and this quarter's meetings not yet held.
    meetings = got.pop("partybuilding.meetings.outstanding", None)
    assert set(got) == set(expected)
    if not can("partybuilding.meeting"):
        assert meetings is None
        return
    today = ctx.today()
    first = 3 * ((today.month - 1) // 3) + 1
    missing = sum(len(pb.compliance(ctx, today.year, month=m, only_missing=True)) for m in range(first, today.month))
    this_month = [r for r in pb.compliance(ctx, today.year, month=today.month) if r.status != "ok"]
    quarterly = [r for r in pb.compliance(ctx, today.year, quarter=(today.month - 1) // 3 + 1)
                 if r.status != "ok" and "季度" in r.period_label]
    assert (meetings.count, meetings.overdue) == (missing + len(this_month) + len(quarterly), missing)


def test_the_demo_street_has_each_kind_of_work(demo, make_ctx):
    """Else the tests here prove little: the administrator has every item with something in it."""
    ctx = make_ctx(demo, demo_actor(demo, "admin"))
    got = {k: i.count for k, i in line_items(ctx).items()}
    assert set(got) == {"volunteer.approvals.pending", "volunteer.activities.ended_open",
                        "partybuilding.probation.due", "partybuilding.probation.overdue",
                        "partybuilding.transfers.receipts", "partybuilding.meetings.outstanding",
                        "emergency.stock.below_min", "emergency.stock.expiring", "emergency.plans.review",
                        "emergency.drills.behind"}
    assert all(n > 0 for n in got.values()), got


def shown_rows(page, item) -> int:
    """What the page lists for the item, as the user sees it."""
    if item.page == "volunteer.approvals":
        return page.model.total
    if item.page == "volunteer.activities":
        assert page.total == page.table.rowCount()
        return page.total
    if item.page == "partybuilding.alerts":
        return page.tabs.currentWidget().rowCount()
    if item.page in ("partybuilding.transfers", "partybuilding.compliance"):
        return page.table.rowCount()
    if item.id == "emergency.stock.below_min":
        return len({(r.warehouse_id, r.item_id) for r in page.model.rows})
    if item.id == "emergency.stock.expiring":
        return len(page.model.rows)
    if item.page == "emergency.plans":
        assert page.tabs.currentIndex() == 1
        return page.due_model.rowCount()
    if item.page == "emergency.drills":
        assert page.tabs.currentIndex() == 1
        return page.compliance.rowCount()
    raise AssertionError(f"an item no test checks: {item}")


def settled(page) -> bool:
    """The page has its rows (some count or load on the thread pool)."""
    model = getattr(page, "model", None)
    if getattr(model, "counting", False):
        return False
    if getattr(page, "loading", False):                      # 组织生活落实
        return False
    if page.objectName() == "partybuilding-alerts":
        return page.data is not None and page.wanted_tab is None and page.status.text() != "正在统计…"
    return True


def test_each_link_opens_its_page_showing_exactly_the_counted_rows(demo, qtbot):
    from shell.core import auth
    from shell.core.context import AppContext
    from shell.plugins import call_each, make_plugin_manager
    from shell.ui.todo_panel import TodoPanel

    pm = make_plugin_manager(entry_points=False)
    actor = auth.login(demo.session_factory, "admin", "demo1234", labels=auth.collect_permissions(pm))
    pages = {}

    def open_page(page_id):
        if page_id not in pages:
            spec = next(s for _p, s in call_each(pm, "register_pages", ctx=app) if s.id == page_id)
            pages[page_id] = spec.factory(app, None)
            qtbot.addWidget(pages[page_id])
        return pages[page_id]

    app = AppContext(demo.session_factory, actor, plugin_manager=pm, extras={"open_page": open_page})
    panel = TodoPanel(app)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.todo is not None, timeout=20000)
    clicked = [(b, i) for b, (p, i) in zip(panel.buttons, panel.todo.items, strict=True) if p in LINES]
    assert len(clicked) == 10
    for button, item in clicked:
        assert button.text().startswith(item.title)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        page = pages[item.page]
        qtbot.waitUntil(lambda p=page: settled(p), timeout=20000)
        assert shown_rows(page, item) == item.count, item

    # The stock page names its filter and clears it: back to one warehouse, no 仓库 column.
    stock = pages["emergency.stock"]
    assert stock.alert_filter == "below_min" and not stock.filter_label.isHidden()
    assert stock.filter_label.text() == "筛选：各仓库低于最低库存的物资"
    assert not stock.table.isColumnHidden(9)      # 仓库
    assert not stock.warehouse.isEnabled()
    qtbot.mouseClick(stock.clear_filter_button, Qt.MouseButton.LeftButton)
    assert stock.alert_filter is None and stock.clear_filter_button.isHidden()
    assert stock.warehouse.isEnabled() and stock.table.isColumnHidden(9)
    # The Party pages' 显示 boxes say what is shown, and 全部 / 本年度全部 is one choice away.
    assert pages["partybuilding.compliance"].show_mode.currentText() == "未落实（缺项和本期尚未开）"
    assert pages["partybuilding.transfers"].show_mode.currentText() == "待收回执（各年度）"
    assert pages["volunteer.approvals"].pending_radio.isChecked()
    assert pages["volunteer.activities"].status_filter.currentText() == "已过结束时间未结束"


@pytest.mark.parametrize(("role", "left_out"), [
    ("grid_worker", {"volunteer.hours_chart", "volunteer.points_chart", "volunteer.stars_chart"}),
    ("admin", set()),
])
def test_tiles_with_nothing_to_show_are_left_out(demo, qtbot, role, left_out):
    """A grid worker has no volunteers in their grid: the three volunteer charts are left out of the
    首页 and the tiles after them close up; the administrator sees all of them."""
    from shell.core.context import AppContext
    from shell.plugins import make_plugin_manager
    from shell.ui.dashboard import DashboardPage
    from shell.ui.widgets.charts import ChartView

    pm = make_plugin_manager(entry_points=False)
    app = AppContext(demo.session_factory, demo_actor(demo, role), plugin_manager=pm)
    page = DashboardPage(app)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.ready, timeout=20000)
    charts = [t.body for t in page.tiles if isinstance(t.body, ChartView)]
    assert len(charts) == 3
    qtbot.waitUntil(lambda: all(c.data is not None for c in charts), timeout=20000)
    assert page.empty_tiles == left_out
    shown = page.shown_tiles()
    assert [t.spec.id for t in page.tiles if not t.isHidden()] == [t.spec.id for t in shown]
    assert all(t.spec.id not in left_out for t in shown) and "grid.summary" in [t.spec.id for t in shown]
    # Row by row without gaps: each shown tile starts where the previous one ended.
    col = 0
    for tile in shown:
        r, c, _rows, span = page.grid.getItemPosition(page.grid.indexOf(tile))
        assert c == (col if col + span <= 3 else 0)
        col = (c + span) % 3
