"""出租房屋租客报备 (issue 14.6): grid.rental_report_hours was declared and read by nothing. Occupancies
now record when a tenant moved in and when the landlord reported them; late reports are listed and
counted in scope (services, the 出租房屋租客 tab, the dashboard tile, the rentals ledger), on both
engines, and g0004 fills the new columns of an existing database."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from plugins.grid import ledgers
from plugins.grid import services as svc
from plugins.grid.models import Occupancy
from plugins.grid.rules import RENTAL_REPORT_HOURS
from shell.clock import LOCAL_TZ, local_today
from shell.core import settings
from shell.core.context import Actor, AppContext, ServiceContext
from shell.core.models import AuditLog
from shell.errors import OutOfScope, PermissionDenied, ValidationError

from .conftest import FIXED_NOW, actor, make_id, make_pm


def bj(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """Beijing time in 2025 (FIXED_NOW is 2025-06-16 10:00 Beijing)."""
    return datetime(2025, month, day, hour, minute, tzinfo=LOCAL_TZ)


# name: (grid, moved in, reported (None = not yet), late at 48 h, late at 24 h, late at 100 h)
TENANTS = {
    "按时甲": ("g11", bj(6, 10, 9), bj(6, 11, 9), False, False, False),       # 24 h
    "逾期乙": ("g11", bj(6, 1, 10), bj(6, 4, 10), True, True, False),         # 72 h
    "未报丙": ("g12", bj(6, 12, 8), None, True, True, False),                 # 98 h, not reported
    "新到丁": ("g11", bj(6, 15, 12), None, False, False, False),              # 22 h, not reported yet
    "整点戊": ("g11", bj(6, 5, 8), bj(6, 7, 8), False, True, False),          # exactly 48 h: in time
    "超分己": ("g11", bj(6, 5, 8), bj(6, 7, 8, 1), True, True, False),        # 48 h 1 min
    "外区庚": ("g21", bj(6, 1, 8), bj(6, 6, 8), True, True, True),            # 120 h, the other community
}


@pytest.fixture
def tenants(tree, gdb, ctx_for):
    """Rental houses in two communities with the tenants above, plus a resident who is no tenant and
    a late tenant who has moved out (neither is ever counted)."""
    ctx = ctx_for(gdb, actor(tree.street))
    houses = {g: svc.create_house(ctx, area_id=getattr(tree, g).id, code=f"FW-{g}", address=f"{g}号楼101室",
                                  house_use="出租", owner_name="房东") for g in ("g11", "g12", "g21")}
    ids = {}
    for seq, (name, (g, moved, reported, *_)) in enumerate(TENANTS.items(), start=1):
        p = svc.register_person(ctx, area_id=getattr(tree, g).id, name=name, id_number=make_id(seq=seq), kind="floating")
        occ = svc.move_in(ctx, p.id, houses[g].id, relation_to_owner="租客", is_tenant=True, moved_in_at=moved,
                          reported_at=reported, reported=reported is not None)
        ids[name] = occ.id
    resident = svc.register_person(ctx, area_id=tree.g11.id, name="住户辛", id_number=make_id(seq=40))
    svc.move_in(ctx, resident.id, houses["g11"].id, date(2025, 5, 1), "亲属")
    gone = svc.register_person(ctx, area_id=tree.g11.id, name="搬走壬", id_number=make_id(seq=41), kind="floating")
    svc.move_in(ctx, gone.id, houses["g11"].id, relation_to_owner="租客", is_tenant=True, moved_in_at=bj(5, 1, 8),
                reported_at=bj(5, 10, 8))
    svc.move_out_of_house(ctx, gone.id, houses["g11"].id, date(2025, 6, 1))
    ctx.session.commit()
    return ids


def _late(column: int) -> set[str]:
    return {name for name, row in TENANTS.items() if row[column]}


def _names(rows) -> set[str]:
    return {r.person_name for r in rows}


def test_late_reports_listed_and_counted_in_scope(gdb, tree, tenants, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street))
    assert _names(svc.late_reports(ctx)) == _late(3) == {"逾期乙", "未报丙", "超分己", "外区庚"}
    assert svc.count_late_reports(ctx) == svc.LateReportCount(late=4, unreported=1, hours=48)
    assert svc.count_late_reports(ctx, area_id=tree.c2.id).late == 1
    rows = {svc.tenant_row(r).person_name: svc.tenant_row(r) for r in ctx.session.execute(svc.tenants_query(ctx))}
    assert set(rows) == set(TENANTS)                     # no resident, no former tenant
    assert {n for n, r in rows.items() if r.late} == _late(3)
    assert _names(map(svc.tenant_row, ctx.session.execute(svc.tenants_query(ctx, status="unreported")))) == \
        {"未报丙", "新到丁"}
    assert rows["逾期乙"].late_text(48, FIXED_NOW) == "是（入住 72 小时后报备）"
    assert rows["未报丙"].late_text(48, FIXED_NOW) == "是（入住 98 小时未报备）"
    assert rows["新到丁"].late_text(48, FIXED_NOW) == "否（尚未报备，剩 26 小时）"
    assert rows["整点戊"].late_text(48, FIXED_NOW) == "否"
    # a community's staff see their own community only
    c1 = ctx_for(gdb, actor(tree.c1))
    assert _names(svc.late_reports(c1)) == {"逾期乙", "未报丙", "超分己"}
    assert svc.count_late_reports(c1) == svc.LateReportCount(late=3, unreported=1, hours=48)
    with pytest.raises(OutOfScope):
        svc.count_late_reports(c1, area_id=tree.c2.id)
    with pytest.raises(PermissionDenied):
        svc.count_late_reports(ctx_for(gdb, actor(tree.street, codes=frozenset())))


@pytest.mark.parametrize("hours, column", [(24, 4), (100, 5), (48, 3)])
def test_the_setting_decides_what_is_late(gdb, tree, tenants, ctx_for, hours, column):
    admin = ctx_for(gdb, Actor.system())
    settings.set_value(admin, RENTAL_REPORT_HOURS, hours)
    admin.session.commit()
    ctx = ctx_for(gdb, actor(tree.street))
    expected = _late(column)
    assert _names(svc.late_reports(ctx)) == expected
    count = svc.count_late_reports(ctx)
    assert (count.late, count.hours) == (len(expected), hours)
    assert count.unreported == len(expected & {"未报丙", "新到丁"})


def test_time_passing_makes_an_unreported_tenant_late(gdb, tree, tenants, ctx_for):
    """新到丁 moved in 22 hours ago: late once 48 hours have passed, not at 48 hours."""
    def late_at(hours: float) -> bool:
        ctx = ctx_for(gdb, actor(tree.street), now=bj(6, 15, 12) + timedelta(hours=hours))
        return "新到丁" in _names(svc.late_reports(ctx))

    assert (late_at(47), late_at(48), late_at(48.02)) == (False, False, True)


def test_report_time_rules_and_correction(gdb, tree, tenants, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street))
    house = svc.houses_query(ctx.actor, "g11号楼")
    house_id = ctx.session.scalars(house).first().id
    p = svc.register_person(ctx, area_id=tree.g11.id, name="新租客", id_number=make_id(seq=50), kind="floating")
    cases = [  # (keyword arguments, field, words of the message)
        (dict(moved_in_at=bj(6, 14, 9), reported_at=bj(6, 16, 11)), "reported_at", "晚于现在"),
        (dict(moved_in_at=bj(6, 14, 9), reported_at=bj(6, 14, 8)), "reported_at", "早于入住时间"),
        (dict(moved_in_at=bj(6, 14, 9), reported_at=bj(6, 15, 8), reported=False), "reported_at", "尚未报备"),
        (dict(moved_in_at=bj(6, 14, 9), start=date(2025, 6, 13)), "start_date", "不是同一天"),
        (dict(moved_in_at="昨天"), "moved_in_at", "不是日期时间"),
    ]
    for kwargs, field, words in cases:
        with pytest.raises(ValidationError) as err:
            svc.move_in(ctx, p.id, house_id, relation_to_owner="租客", is_tenant=True, **kwargs)
        assert err.value.field == field and words in err.value.message, kwargs
    with pytest.raises(ValidationError) as err:   # a resident who is no tenant is not reported
        svc.move_in(ctx, p.id, house_id, relation_to_owner="亲属", moved_in_at=bj(6, 14, 9), reported_at=bj(6, 15, 9))
    assert "无需报备" in err.value.message
    # defaults: reported now; a naive time is Beijing time; a date alone is its 00:00 Beijing
    occ = svc.move_in(ctx, p.id, house_id, relation_to_owner="租客", is_tenant=True,
                      moved_in_at=datetime(2025, 6, 14, 9, 30))
    assert occ.moved_in_at == bj(6, 14, 9, 30) and occ.reported_at == FIXED_NOW and occ.start_date == date(2025, 6, 14)
    q = svc.register_person(ctx, area_id=tree.g11.id, name="旧租客", id_number=make_id(seq=51), kind="floating")
    old = svc.move_in(ctx, q.id, house_id, date(2025, 6, 1), "租客", is_tenant=True, reported=False)
    assert old.moved_in_at == bj(6, 1, 0) and old.reported_at is None
    ctx.session.commit()
    # 登记报备 later, audited; the rules hold for the correction too
    audits = ctx.session.scalar(select(func.count()).select_from(AuditLog))
    with pytest.raises(ValidationError):
        svc.record_tenant_report(ctx, old.id, bj(5, 31, 23))
    ctx.session.rollback()
    fixed = svc.record_tenant_report(ctx, old.id, bj(6, 2, 9), expected_version=old.version_id)
    ctx.session.commit()
    assert fixed.reported_at == bj(6, 2, 9)
    assert ctx.session.scalar(select(func.count()).select_from(AuditLog)) > audits
    assert "旧租客" not in _names(svc.late_reports(ctx))       # 33 h after moving in
    resident = ctx.session.scalar(select(Occupancy.id).where(Occupancy.is_tenant.is_(False)))
    with pytest.raises(ValidationError) as err:
        svc.record_tenant_report(ctx, resident)
    assert "无需报备" in err.value.message
    with pytest.raises(OutOfScope):
        svc.record_tenant_report(ctx_for(gdb, actor(tree.c2)), old.id)


def test_register_person_into_a_rental_house_records_the_report(gdb, tree, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street))
    h = svc.create_house(ctx, area_id=tree.g11.id, code="FW9", address="9号楼", house_use="出租")
    p = svc.register_person(ctx, area_id=tree.g11.id, name="流动甲", id_number=make_id(seq=60), kind="floating",
                            house_id=h.id, moved_in_at=bj(6, 10, 8), reported_at=bj(6, 13, 8))
    occ = ctx.session.scalar(select(Occupancy).where(Occupancy.person_id == p.id))
    assert occ.is_tenant and occ.moved_in_at == bj(6, 10, 8) and occ.reported_at == bj(6, 13, 8)
    assert _names(svc.late_reports(ctx)) == {"流动甲"}
    with pytest.raises(ValidationError) as err:
        svc.register_person(ctx, area_id=tree.g11.id, name="流动乙", id_number=make_id(seq=61), kind="floating",
                            reported_at=bj(6, 13, 8))
    assert err.value.field == "house_id"


# --- the 出租房屋租客 tab and the dashboard tile ---------------------------------------------------
@pytest.fixture
def app(gdb, tree, tenants):
    return AppContext(gdb.session_factory, actor(tree.street, name="王街道"), make_pm(), clock=lambda: FIXED_NOW)


def _column(model, title: str) -> list[str]:
    col = next(c for c in range(model.columnCount()) if model.headerData(c, Qt.Orientation.Horizontal) == title)
    return [model.data(model.index(r, col)) for r in range(model.rowCount())]


def test_tenants_tab_late_filter(qtbot, app):
    from plugins.grid.views.houses import HousesPage

    page = HousesPage(app)
    qtbot.addWidget(page)
    page.show()
    page.tabs.setCurrentWidget(page.tenants)
    tab = page.tenants
    assert page.tabs.tabText(page.tabs.indexOf(tab)) == "出租房屋租客"
    assert set(_column(tab.model, "租客")) == set(TENANTS)
    qtbot.waitUntil(lambda: tab.late_label.text() == "逾期报备 4 人（时限 48 小时）")   # counted on the pool
    tab.status.setCurrentIndex(tab.status.findText("逾期报备"))
    qtbot.waitUntil(lambda: tab.count_label.text() == "共 4 人")
    shown = dict(zip(_column(tab.model, "租客"), zip(_column(tab.model, "入住时间"), _column(tab.model, "报备时间"),
                                                     _column(tab.model, "是否逾期"), strict=True), strict=True))
    assert set(shown) == {"逾期乙", "未报丙", "超分己", "外区庚"}
    assert shown["逾期乙"] == ("2025-06-01 10:00", "2025-06-04 10:00", "是（入住 72 小时后报备）")
    assert shown["未报丙"] == ("2025-06-12 08:00", "未报备", "是（入住 98 小时未报备）")
    tab.status.setCurrentIndex(tab.status.findText("尚未报备"))
    assert set(_column(tab.model, "租客")) == {"未报丙", "新到丁"}
    # 登记报备 for 未报丙 through the dialog: the late count stays (reported 98 h late) …
    row = _column(tab.model, "租客").index("未报丙")
    tab.table.selectRow(row)
    dialog = tab.record_report()          # a child of the tab: closed with the page
    assert dialog.when.dateTime().toString("yyyy-MM-dd HH:mm") == "2025-06-16 10:00"   # the app's now
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted
    assert _column(tab.model, "租客") == ["新到丁"]
    qtbot.waitUntil(lambda: tab.late_label.text() == "逾期报备 4 人（时限 48 小时）")
    # … and a search narrows the list
    tab.status.setCurrentIndex(tab.status.findText("全部租客"))
    tab.search.setText("外区")
    tab.search.flush()
    assert _column(tab.model, "租客") == ["外区庚"]


def test_move_in_dialog_records_the_report(qtbot, app, tree):
    from plugins.grid.views.people import HouseDialog

    with app.service() as ctx:
        svc.register_person(ctx, area_id=tree.g11.id, name="对话框租客", id_number=make_id(seq=70), kind="floating")
        house_id = ctx.session.scalars(svc.houses_query(ctx.actor, "g11号楼")).first().id
    house = HouseDialog(app, house_id)
    qtbot.addWidget(house)
    qtbot.mouseClick(house.move_in_button, Qt.MouseButton.LeftButton)
    move = house.children_[-1]
    move.picker.search.setText("对话框租客")
    move.picker.search.flush()
    move.form.widget("relation_to_owner").setCurrentText("租客")
    assert move.tenant.isChecked() and move.reported.isEnabled()
    move.moved.setDateTime(move.moved.dateTime().addDays(-5))
    move.reported.setDateTime(move.reported.dateTime().addDays(-6))       # before moving in: refused inline
    qtbot.mouseClick(move.ok_button, Qt.MouseButton.LeftButton)
    assert move.isVisible() and "早于入住时间" in move.form.error_text("reported_at")
    move.unreported.setChecked(True)
    assert not move.reported.isEnabled()
    qtbot.mouseClick(move.ok_button, Qt.MouseButton.LeftButton)
    assert move.result() == move.DialogCode.Accepted
    with app.service(commit=False) as ctx:
        rows = {r.person_name: r for r in svc.late_reports(ctx)}
    assert rows["对话框租客"].reported_at is None and rows["对话框租客"].moved_in_at == FIXED_NOW - timedelta(days=5)


def test_dashboard_tile_counts_late_reports(qtbot, app):
    from shell.plugins import call_each

    spec = next(s for _, s in call_each(make_pm(), "register_dashboard_widgets", ctx=app) if s.id == "grid.summary")
    tile = spec.factory(app, None)
    qtbot.addWidget(tile)
    qtbot.waitUntil(lambda: tile.loaded)
    assert [label.text() for label in tile.labels][-1] == "租客逾期报备 4 人（其中未报备 1 人）"


# --- the rentals ledger ---------------------------------------------------------------------------
def test_rentals_ledger_columns_and_late_total(gdb, tree, tenants, ctx_for, tmp_path):
    from pypdf import PdfReader

    from reports import render_pdf

    ctx = ctx_for(gdb, actor(tree.street))
    spec = ledgers.rentals_ledger(ctx, {})
    titles = [c.title for c in spec.columns]
    assert titles[6:10] == ["租住人员", "入住时间", "报备时间", "是否逾期"]
    rows = list(spec.rows)
    by_name = {r[6]: r for r in rows}
    assert set(by_name) == set(TENANTS)                    # one row per current tenant
    assert by_name["逾期乙"][7:10] == ("2025-06-01 10:00", "2025-06-04 10:00", "是（入住 72 小时后报备）")
    assert by_name["新到丁"][8:10] == ("未报备", "否（尚未报备，剩 26 小时）")
    assert spec.totals[1] == "出租房屋 3 处" and spec.totals[6] == "7 人" and spec.totals[9] == "逾期 4 人"
    assert "逾期报备 4 人，其中至今未报备 1 人" in spec.notes[0] and "48 小时" in spec.notes[0]
    c1 = ledgers.rentals_ledger(ctx_for(gdb, actor(tree.c1)), {})
    assert {r[6] for r in c1.rows} == {"逾期乙", "未报丙", "超分己", "按时甲", "新到丁", "整点戊"}
    assert c1.totals[9] == "逾期 3 人"
    out = tmp_path / "rentals.pdf"
    render_pdf(ledgers.rentals_ledger(ctx_for(gdb, actor(tree.street)), {}), out)
    pdf = "\n".join(p.extract_text() or "" for p in PdfReader(str(out)).pages)
    for words in ("入住时间", "报备时间", "是否逾期", "逾期 4 人", "逾期乙", "未报备"):
        assert words in pdf, words


# --- g0004 on an existing database --------------------------------------------------------------
@pytest.mark.parametrize("engine_kind", ["sqlite", "pg"])
def test_g0004_fills_existing_occupancies(engine_kind, tmp_path, request):
    from alembic import command

    import plugins.grid as grid_plugin
    from shell.db.engine import make_engine
    from shell.db.migrate import alembic_config, upgrade

    url = tmp_path / "old.sqlite" if engine_kind == "sqlite" else request.getfixturevalue("pg_empty_url")
    engine = make_engine(url)
    branches = [grid_plugin.register_migrations()]
    try:
        with engine.begin() as conn:          # a database of the previous release
            cfg = alembic_config(branches)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "g0003")
        stamp = "'2025-03-05 02:00:00'"       # created_at (UTC) of the old rows
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO core_areas (id, name, level, path, sort_order, created_at, updated_at, "
                              "version_id) VALUES (1, '网格', 'grid', '/1/', 0, :t, :t, 1)"), {"t": "2025-01-01"})
            conn.execute(text("INSERT INTO grid_houses (id, area_id, code, address, house_use, created_at, updated_at, "
                              "version_id) VALUES (1, 1, 'F1', '1号', '出租', :t, :t, 1)"), {"t": "2025-01-01"})
            for pid in (1, 2, 3):
                conn.execute(text("INSERT INTO grid_persons (id, area_id, kind, status, id_type, id_number, name, "
                                  "name_initials, nationality, key_attention, notes, created_at, updated_at, version_id) "
                                  "VALUES (:i, 1, 'floating', 'active', '111', :n, '某', '', '156', false, '', :t, :t, 1)"),
                             {"i": pid, "n": make_id(seq=pid), "t": "2025-01-01"})
            for oid, tenant, start in ((1, True, "2025-03-01"), (2, False, "2025-03-01"), (3, True, "2025-03-10")):
                conn.execute(text("INSERT INTO grid_occupancies (id, area_id, house_id, person_id, relation_to_owner, "
                                  "is_tenant, start_date, created_at, updated_at, version_id) "
                                  f"VALUES (:i, 1, 1, :i, '', :tenant, :start, {stamp}, {stamp}, 1)"),
                             {"i": oid, "tenant": tenant, "start": start})
        result = upgrade(engine, branches, backup=False)
        assert result.after == {"c0005", "g0006"}  # the core tip and the grid tip
        with Session(engine) as s:
            occ = {o.id: o for o in s.scalars(select(Occupancy))}
        created = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)
        # moved in: the day's 00:00 Beijing time; reported: when the grid recorded the tenant
        assert occ[1].moved_in_at == datetime(2025, 3, 1, tzinfo=LOCAL_TZ) and occ[1].reported_at == created
        assert occ[2].moved_in_at == datetime(2025, 3, 1, tzinfo=LOCAL_TZ) and occ[2].reported_at is None
        # recorded before the move-in: counts as reported on moving in, never before it
        assert occ[3].reported_at == occ[3].moved_in_at == datetime(2025, 3, 10, tzinfo=LOCAL_TZ)
        columns = {c["name"]: c for c in inspect(engine).get_columns("grid_occupancies")}
        assert columns["moved_in_at"]["nullable"] is False and columns["reported_at"]["nullable"] is True
        with engine.begin() as conn:          # and back
            cfg = alembic_config(branches)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "g0003")
        names = {c["name"] for c in inspect(engine).get_columns("grid_occupancies")}
        assert not names & {"moved_in_at", "reported_at"}
    finally:
        engine.dispose()


# --- the demo street --------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", ["small", "medium"])
def test_demo_tenants_reported_mostly_in_time(grid_sqlite, scale):
    """Bulk rows carry both times: most tenants reported within 48 hours, some late, a few never; no
    report before the move-in or after the demo's cut-off; residents who are no tenants unreported."""
    import random

    from plugins.grid import demo
    from shell.core.demo import seed_areas

    with grid_sqlite.session_factory() as s:
        seed_areas(s, "small")
        demo.seed(s, scale, random.Random(5))
        s.commit()
        rows = s.execute(select(Occupancy.is_tenant, Occupancy.start_date, Occupancy.moved_in_at,
                                Occupancy.reported_at)).all()
        cutoff = datetime.combine(local_today(), datetime.min.time(), LOCAL_TZ)     # the demo's midnight
        tenants = [r for r in rows if r.is_tenant]
        assert len(tenants) > 100 and all(r.reported_at is None for r in rows if not r.is_tenant)
        assert all(r.moved_in_at.astimezone(LOCAL_TZ).date() == r.start_date for r in rows)
        reported = [r for r in tenants if r.reported_at is not None]
        assert all(r.moved_in_at <= r.reported_at <= cutoff for r in reported)
        in_time = sum(r.reported_at - r.moved_in_at <= timedelta(hours=48) for r in reported)
        assert 0.75 < in_time / len(tenants) < 0.92               # most within two days
        assert 0.05 < (len(reported) - in_time) / len(tenants) < 0.2 and 0 < len(tenants) - len(reported)
        count = svc.count_late_reports(ServiceContext(s, Actor.system()))
        assert 0.08 < count.late / len(tenants) < 0.25 and count.unreported > 0
