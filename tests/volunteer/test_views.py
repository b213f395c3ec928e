"""The 志愿者 page (pytest-qt, real widgets) on a demo database seeded by the volunteer plugin:
masked list, pinyin-initials search, the volunteer card against the service values, and the page
being offered only to users with volunteer.view."""
from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QDate, Qt
from sqlalchemy import func, select

import plugins.volunteer as plugin
from plugins.volunteer import services as sv
from plugins.volunteer.models import Volunteer
from plugins.volunteer.views.volunteers import VolunteersPage
from shell.contracts import PageSpec
from shell.core.context import Actor, AppContext, ServiceContext
from shell.core.models import Area
from shell.plugins import call_each

from .conftest import actor_for, make_pm

MASKED_ID = re.compile(r"^\d{4}\*{10}[\dX]{4}$")
MASKED_PHONE = re.compile(r"^\d{3}\*{4}\d{4}$")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, sqlite_templates):
    """The demo street with the volunteer plugin: a copy of the run's template (seeded without error)."""
    from .conftest import VOLUNTEER

    db = sqlite_templates.open(tmp_path_factory.mktemp("vol-views") / "demo.sqlite", VOLUNTEER, demo=True, pm=make_pm())
    yield db
    db.dispose()


@pytest.fixture
def app(demo_db):
    return AppContext(demo_db.session_factory, Actor.system(), make_pm())


def _column(page, title):
    model = page.model
    return next(c for c in range(model.columnCount()) if model.headerData(c, _horizontal()) == title)


def _horizontal():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def _cells(page, title):
    col = _column(page, title)
    return [page.model.data(page.model.index(r, col)) for r in range(page.model.rowCount())]


def _collect(app_ctx):
    """The plugins' register_pages (not the core's) filtered by permission, as collect_pages does."""
    return [spec for p, spec in call_each(app_ctx.plugin_manager, "register_pages", ctx=app_ctx)
            if p != "core" and isinstance(spec, PageSpec) and (spec.permission is None or app_ctx.actor.can(spec.permission))]


def test_list_shows_all_volunteers_with_masked_ids_and_phones(qtbot, app, demo_db):
    page = VolunteersPage(app)
    qtbot.addWidget(page)
    with demo_db.session_factory() as s:
        volunteers = list(s.scalars(select(Volunteer)))
    assert page.model.total == len(volunteers) >= 60
    assert page.count_label.text() == f"共 {len(volunteers)} 名志愿者"
    ids = _cells(page, "公民身份号码")
    assert ids and all(MASKED_ID.match(v) for v in ids)
    full_ids = {v.id_number for v in volunteers}
    assert not full_ids & set(ids)
    phones = [p for p in _cells(page, "联系电话") if p]
    assert phones and all(MASKED_PHONE.match(p) for p in phones)
    assert not {v.phone for v in volunteers} & set(phones)
    assert _cells(page, "志愿者编号")[0] == min(v.number for v in volunteers)


def test_typing_pinyin_initials_filters_the_list(qtbot, app, demo_db):
    page = VolunteersPage(app)
    qtbot.addWidget(page)
    page.show()
    with demo_db.session_factory() as s:
        target = s.scalars(select(Volunteer).order_by(Volunteer.id.desc())).first()
        expected = {v.number for v in s.scalars(select(Volunteer)) if v.initials.startswith(target.initials)}
    assert target.initials.isascii() and target.initials.isalpha()
    qtbot.keyClicks(page.search, target.initials.upper())
    qtbot.waitUntil(lambda: page.model.total == len(expected), timeout=3000)
    assert set(_cells(page, "志愿者编号")) == expected
    assert target.number in expected and len(expected) < 60
    # 志愿者编号 finds exactly one; clearing shows everyone again.
    page.search.setText(target.number)
    page.search.flush()
    assert _cells(page, "志愿者编号") == [target.number]
    page.search.clear()
    page.search.flush()
    assert page.model.total >= 60


def test_selecting_a_row_shows_the_card_with_service_values(qtbot, app, demo_db):
    page = VolunteersPage(app)
    qtbot.addWidget(page)
    page.show()
    assert page.card.stack.currentIndex() == 0          # nothing selected yet
    # The volunteer with the most approved hours, so star level, hours and points are not all zero.
    row = max(range(page.model.rowCount()), key=lambda r: page.model.row_object(r)[2])
    volunteer_id = page.model.row_object(row)[0].id
    page.table.selectRow(row)
    qtbot.waitUntil(lambda: page.card.data is not None and page.card.data.volunteer_id == volunteer_id, timeout=2000)
    with demo_db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        card = sv.volunteer_card(ctx, volunteer_id)
        points, minutes = sv.account(ctx, volunteer_id)
        hours = sv.hours_history(ctx, volunteer_id)
        area = s.get(Area, card.volunteer.area_id).name
        name, number = card.volunteer.name, card.volunteer.number
    assert minutes > 0
    panel = page.card
    assert panel.stack.currentIndex() == 1
    assert panel.name_label.text() == name
    assert panel.fields["number"].text() == number
    assert panel.fields["area"].text() == area
    assert panel.fields["star"].text() == sv.star_label(minutes) == card.star_label
    assert panel.star_badge.text().count("★") == sv.star_level(minutes)
    assert panel.fields["hours"].text() == f"{sv.hours_text(minutes)} 小时"
    assert panel.fields["points"].text() == f"{points} 分"
    assert MASKED_PHONE.match(panel.fields["phone"].text())
    # Latest ledger entries, newest first, at most 20 each, with the balances after each entry.
    assert 0 < panel.hours_table.rowCount() == len(hours) <= 20
    assert panel.hours_table.item(0, 3).text() == sv.hours_text(hours[0].balance_after) == sv.hours_text(minutes)
    assert 0 < panel.points_table.rowCount() == len(card.points_history) <= 20
    assert panel.points_table.item(0, 3).text() == str(card.points_history[0].balance_after) == str(points)
    # A new search resets the list and hides the card.
    page.apply_search("zzzzzz")
    assert page.model.rowCount() == 0 and panel.stack.currentIndex() == 0


def test_hours_history_and_list_query_services(demo_db):
    with demo_db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        v = s.scalars(select(Volunteer).order_by(Volunteer.id)).first()
        entries = sv.hours_history(ctx, v.id, limit=3)
        assert len(entries) <= 3 and [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)
        rows = s.execute(sv.volunteer_list_query(ctx, v.number)).all()
        assert len(rows) == 1 and rows[0][0].id == v.id
        assert (rows[0][3], rows[0][2]) == sv.account(ctx, v.id)
        from shell.errors import PermissionDenied

        nobody = ServiceContext(s, actor_for("/", name="无权限"))
        with pytest.raises(PermissionDenied):
            sv.volunteer_list_query(nobody)
        with pytest.raises(PermissionDenied):
            sv.hours_history(nobody, v.id)


def test_hook_register_pages_respects_view_permission(qtbot, demo_db):
    with demo_db.session_factory() as s:
        street = s.scalars(select(Area).where(Area.level == "street")).first().path
    pm = make_pm()
    viewer = AppContext(demo_db.session_factory, actor_for(street, "volunteer.view"), pm)
    specs = _collect(viewer)
    assert [(s.id, s.title, s.order, s.permission) for s in specs] == [
        ("volunteer.volunteers", "志愿者", 30, "volunteer.view"),
        ("volunteer.activities", "志愿活动", 31, "volunteer.view"),
        ("volunteer.teams", "志愿队伍", 34, "volunteer.view")]
    page = specs[0].factory(viewer, None)
    qtbot.addWidget(page)
    assert page.objectName() == "volunteer-volunteers" and page.model.total >= 60
    assert not page.card.certificate_button.isVisibleTo(page.card)   # no volunteer.certificate
    activities = specs[1].factory(viewer, None)
    qtbot.addWidget(activities)
    assert activities.objectName() == "volunteer-activities" and activities.total == len(activities.rows) > 0
    assert not activities.new_button.isEnabled()                     # no volunteer.activity
    teams = specs[2].factory(viewer, None)
    qtbot.addWidget(teams)
    assert teams.objectName() == "volunteer-teams" and teams.rows
    leader = AppContext(demo_db.session_factory, actor_for(street, "volunteer.view", "volunteer.approve"), pm)
    approvals = {s.id: s for s in _collect(leader)}["volunteer.approvals"]
    assert (approvals.title, approvals.permission) == ("时长审核", "volunteer.approve")
    queue = approvals.factory(leader, None)
    qtbot.addWidget(queue)
    assert queue.objectName() == "volunteer-approvals" and queue.model.total > 0
    stranger = AppContext(demo_db.session_factory, actor_for(street, "volunteer.manage"), pm)
    assert _collect(stranger) == []
    assert plugin.register_pages(ctx=stranger)[0].permission == "volunteer.view"


# ---------------------------------------------------------------- certificate from the card

def _row_with_hours(page, most=True):
    rows = range(page.model.rowCount())
    return (max if most else min)(rows, key=lambda r: page.model.row_object(r)[2])


def test_print_certificate_from_the_card(qtbot, app, demo_db):
    from plugins.volunteer.models import Certificate

    page = VolunteersPage(app)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    row = _row_with_hours(page)
    volunteer = page.model.row_object(row)[0]
    page.select_row(row)
    qtbot.waitUntil(lambda: page.card.data is not None and page.card.data.volunteer_id == volunteer.id, timeout=2000)
    button = page.card.certificate_button
    assert button.isVisible() and button.isEnabled()
    with demo_db.session_factory() as s:
        before = s.scalar(select(func.count()).select_from(Certificate))
        minutes = sv.account(ServiceContext(s, Actor.system()), volunteer.id)[1]

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = page.certificates.dialog
    assert dialog.isVisible() and not dialog.date_from.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)     # all approved service
    qtbot.waitUntil(lambda: page.certificates.preview is not None, timeout=20000)
    preview = page.certificates.preview
    qtbot.addWidget(preview)
    with demo_db.session_factory() as s:
        cert = s.scalars(select(Certificate).order_by(Certificate.id.desc())).first()
        assert s.scalar(select(func.count()).select_from(Certificate)) == before + 1
    assert (cert.volunteer_id, cert.minutes) == (volunteer.id, minutes)
    assert preview.isVisible() and preview.preview.page_count() >= 1
    assert preview.title_label.text() == f"志愿服务证明 {cert.number} — {volunteer.name}"
    assert preview.preview.suggested_name == f"志愿服务证明-{volunteer.name}-{cert.number}.pdf"
    assert preview.preview.print_button.isEnabled() and preview.preview.save_button.isEnabled()
    assert page.card.message.text() == f"已出具志愿服务证明，编号 {cert.number}。"

    # A period without approved service: refused with the service's reason, no number issued.
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = page.certificates.dialog
    qtbot.mouseClick(dialog.limit, Qt.MouseButton.LeftButton)
    assert dialog.date_from.isEnabled()
    dialog.date_from.setDate(QDate(2001, 1, 1))
    dialog.date_to.setDate(QDate(2001, 12, 31))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.card.message.text().startswith("未能出具证明"), timeout=20000)
    assert f"“{volunteer.name}”在所选期间没有已审核的服务时长" in page.card.message.text()
    with demo_db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == before + 1


# ---------------------------------------------------------------- dashboard charts

def test_hook_register_dashboard_widgets_draw_the_service_figures(qtbot, demo_db):
    from shell.ui.dashboard import collect_tiles

    with demo_db.session_factory() as s:
        street = s.scalars(select(Area).where(Area.level == "street")).first().path
        ctx = ServiceContext(s, Actor.system())
        hours = sv.hours_by_month(ctx)
        points = sv.points_by_month(ctx)
        stars = sv.star_distribution(ctx)
        active = s.scalar(select(func.count()).select_from(Volunteer).where(Volunteer.active.is_(True)))
        # The month sums agree with the ledgers they come from.
        from plugins.volunteer.models import HoursEntry, PointsEntry

        first = hours[0][0]
        assert sum(m for _d, m in hours) == s.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0))
                                                     .where(HoursEntry.service_date >= first))
        assert sum(e for _d, e, _r in points) == s.scalar(
            select(func.coalesce(func.sum(PointsEntry.points), 0))
            .where(PointsEntry.kind == "earn", PointsEntry.at >= sv.local_midnight(points[0][0])))
    assert sum(n for _l, n in stars) == active and [lbl for lbl, _n in stars][:2] == ["未评星", "一星"]
    assert len(hours) == len(points) == 12 and any(m for _d, m in hours)

    pm = make_pm()
    viewer = AppContext(demo_db.session_factory, actor_for(street, "volunteer.view"), pm)
    tiles = {spec.id: spec for plugin, spec in collect_tiles(viewer) if plugin == "volunteer"}
    assert list(tiles) == ["volunteer.hours_chart", "volunteer.points_chart", "volunteer.stars_chart"]
    views = {}
    for tile_id, spec in tiles.items():
        view = spec.factory(viewer, None)
        qtbot.addWidget(view)
        views[tile_id] = view
    qtbot.waitUntil(lambda: all(v.data is not None for v in views.values()), timeout=20000)
    h, p, st = (views[k].data for k in tiles)
    assert h.series[0][1] == [round(m / 60, 1) for _d, m in hours]
    assert [name for name, _v in p.series] == ["获得积分", "兑换积分"]
    assert list(p.series[0][1]) == [e for _d, e, _r in points] and list(p.series[1][1]) == [r for _d, _e, r in points]
    assert list(st.categories) == ["未评星", "一星", "二星", "三星", "四星", "五星"]
    assert list(st.series[0][1]) == [n for _l, n in stars]
    assert h.categories[-1] == f"{hours[-1][0].month}月" and h.categories[-2] == ""
    assert all(v.plot is not None for v in views.values())          # drawn, not the empty message
    nobody = AppContext(demo_db.session_factory, actor_for(street, "volunteer.manage"), pm)
    assert [spec.id for plugin, spec in collect_tiles(nobody) if plugin == "volunteer"] == []


def test_hook_open_record_shows_the_volunteer_card(qtbot, app, demo_db):
    with demo_db.session_factory() as s:
        v = s.scalars(select(Volunteer).order_by(Volunteer.id.desc())).first()
        vid, name, number = v.id, v.name, v.number
    pages = {}

    def open_page(page_id):
        if page_id not in pages:
            pages[page_id] = VolunteersPage(app)
            qtbot.addWidget(pages[page_id])
        return pages[page_id]

    app.extras["open_page"] = open_page
    assert plugin.open_record(ctx=app, kind="volunteer.volunteer", id=vid) is True
    page = pages["volunteer.volunteers"]
    assert page.search.text() == number and page.model.rowCount() == 1
    assert page.card.data.volunteer_id == vid and page.card.name_label.text() == name
    assert plugin.open_record(ctx=app, kind="grid.person", id=vid) is None
    assert plugin.open_record(ctx=app, kind="volunteer.volunteer", id=10**9) is False
    assert "不存在" in page.card.empty_hint.text()
