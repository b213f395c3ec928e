"""The 志愿者 page (pytest-qt, real widgets) on a demo database seeded by the volunteer plugin:
masked list, pinyin-initials search, the volunteer card against the service values, and the page
being offered only to users with volunteer.view."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

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
def demo_db(tmp_path_factory):
    from shell.core.demo import create_demo

    db = create_demo(tmp_path_factory.mktemp("vol-views") / "demo.sqlite", pm=make_pm())
    assert db.seed_errors == {}
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
    """register_pages filtered by permission, as shell.ui.main_window.collect_pages does."""
    return [spec for _p, spec in call_each(app_ctx.plugin_manager, "register_pages", ctx=app_ctx)
            if isinstance(spec, PageSpec) and (spec.permission is None or app_ctx.actor.can(spec.permission))]


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
        ("volunteer.volunteers", "志愿者", 30, "volunteer.view")]
    page = specs[0].factory(viewer, None)
    qtbot.addWidget(page)
    assert page.objectName() == "volunteer-volunteers" and page.model.total >= 60
    stranger = AppContext(demo_db.session_factory, actor_for(street, "volunteer.manage"), pm)
    assert _collect(stranger) == []
    assert plugin.register_pages(ctx=stranger)[0].permission == "volunteer.view"
