"""The holiday calendar in the database (shell.core.calendar, table core_holidays), on both engines:
seeded by the core migration from chinese-calendar, a year without calendar counted by the weekend
rule with a warning, a year imported from Excel (all-or-nothing, row errors in Chinese), editing
with permission and audit, and a cache that follows every change."""
from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from openpyxl import Workbook
from sqlalchemy import func, select, text

from shell.core import calendar
from shell.core.context import ServiceContext
from shell.core.models import AuditLog, Holiday
from shell.db.engine import make_engine
from shell.db.migrate import alembic_config, upgrade
from shell.db.session import make_session_factory
from shell.errors import NotFound, PermissionDenied, ValidationError
from tests.core.helpers import admin, build_tree, user

WARNING_2027 = "2027 年节假日安排尚未录入，期限按周末计算，请管理员录入"


def sheet(path, rows, header=("日期", "休/班", "名称")):
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


SHEET_2027 = [("2027-01-01", "休", "元旦"), ("2027-02-06", "班", "春节"), (date(2027, 2, 8), "休", "春节")]


# --- seeded by the migration -------------------------------------------------------------------------
def test_migration_seeds_the_years_chinese_calendar_knows(db):
    with db.session_factory() as s:
        assert {2025, 2026} <= set(calendar.years_known(s)) and 2027 not in calendar.years_known(s)
        d2025 = {d.day: d for d in calendar.year_days(s, 2025)}
        assert (d2025[date(2025, 10, 1)].kind, d2025[date(2025, 10, 1)].name) == ("off", "国庆节")
        assert (d2025[date(2025, 9, 28)].kind, d2025[date(2025, 9, 28)].label) == ("work", "班")   # a Sunday
        assert date(2025, 10, 4) not in d2025          # a Saturday off anyway: not a difference from Mon–Fri
        d2026 = {d.day: d for d in calendar.year_days(s, 2026)}
        assert (d2026[date(2026, 1, 1)].kind, d2026[date(2026, 1, 1)].name) == ("off", "元旦")
        assert d2026[date(2026, 1, 4)].kind == "work" and d2026[date(2026, 2, 16)].name == "春节"
        assert {d.source for d in d2026.values()} == {"chinese-calendar"}
        assert s.scalar(select(func.count()).select_from(Holiday)) == len(calendar.package_days())
        assert calendar.year_days(s, 2027) == []


def test_upgrade_of_an_older_database_seeds_the_calendar(tmp_path):
    engine = make_engine(tmp_path / "old.sqlite")
    try:
        with engine.begin() as conn:        # a database of the previous program: core at c0001
            cfg = alembic_config([])
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "c0001")
        result = upgrade(engine, [], backup=False)
        assert result.before == {"c0001"} and result.after == {"c0005"}
        with make_session_factory(engine)() as s:
            assert not calendar.is_working_day(s, date(2026, 10, 1))
            assert calendar.is_working_day(s, date(2026, 9, 20))          # a Sunday 调休
    finally:
        engine.dispose()


# --- a year without calendar ------------------------------------------------------------------------
def test_2027_without_calendar_counts_weekdays_and_says_so(db):
    with db.session_factory() as s:
        assert calendar.is_working_day(s, date(2027, 1, 1))            # a Friday: only by the weekend rule
        due = calendar.add_working_days(s, date(2026, 12, 31), 1)
        assert due.day == date(2027, 1, 1) and due.warning == WARNING_2027 and due.unknown_years == (2027,)
        assert calendar.add_working_days(s, date(2026, 12, 1), 5).warning == ""     # all in 2026
        assert calendar.span_warning(s, date(2026, 12, 25), date(2027, 1, 8)) == WARNING_2027
        assert calendar.span_warning(s, date(2026, 12, 1), date(2026, 12, 8)) == ""
        assert calendar.missing_warning([2028, 2027]) == "2027、2028 年节假日安排尚未录入，期限按周末计算，请管理员录入"


def test_imported_2027_makes_new_year_a_holiday(db, tmp_path):
    actor = admin(db)
    with db.session_factory() as s:
        result = calendar.import_year(ServiceContext(s, actor), sheet(tmp_path / "2027.xlsx", SHEET_2027))
        assert result.ok and result.years == [2027] and result.written == 3
        s.commit()
    with db.session_factory() as s:
        assert not calendar.is_working_day(s, date(2027, 1, 1))
        assert calendar.is_working_day(s, date(2027, 2, 6))             # the Saturday 班
        due = calendar.add_working_days(s, date(2026, 12, 31), 1)
        assert due.day == date(2027, 1, 4) and due.warning == ""       # Friday 1st off, then the weekend
        assert [(d.day, d.kind, d.name, d.source) for d in calendar.year_days(s, 2027)] == [
            (date(2027, 1, 1), "off", "元旦", "导入"), (date(2027, 2, 6), "work", "春节", "导入"),
            (date(2027, 2, 8), "off", "春节", "导入")]
        inserts = s.scalars(select(AuditLog).where(AuditLog.entity == "core_holidays", AuditLog.action == "insert"))
        assert sorted(a.after["day"] for a in inserts) == ["2027-01-01", "2027-02-06", "2027-02-08"]
        assert all(a.actor_name == "管理员" for a in s.scalars(select(AuditLog).where(AuditLog.entity == "core_holidays")))
        assert s.scalar(select(AuditLog.summary).where(AuditLog.action == "import", AuditLog.entity == "core_holidays"))\
            .startswith("导入节假日安排 2027 年，共 3 天")
    # Importing the year again replaces it as a whole: the 8th is gone, the 1st stays.
    with db.session_factory() as s:
        calendar.import_year(ServiceContext(s, actor), sheet(tmp_path / "again.xlsx", SHEET_2027[:2]))
        s.commit()
        assert [d.day for d in calendar.year_days(s, 2027)] == [date(2027, 1, 1), date(2027, 2, 6)]
        assert s.scalar(select(func.count()).select_from(AuditLog)
                        .where(AuditLog.entity == "core_holidays", AuditLog.action == "delete")) == 1


BAD_ROWS = [
    (("2027-13-01", "休", "元旦"), "日期", "2027-13-01", "不是有效的日期"),
    ((None, "休", "元旦"), "日期", None, "日期不能为空"),
    (("2027-01-07", "放", "x"), "休/班", "放", "应填“休”（放假）或“班”（调休上班）"),
    (("2027-01-05", "班", "x"), "休/班", "班", "2027-01-05 是星期二，本来就是工作日"),
    (("2027-02-09", "休", "春" * 51), "名称", "春" * 51, "最多 50 个字"),
    (("2027-01-01", "休", "重复"), "日期", "2027-01-01", "与第 2 行重复"),
]


@pytest.mark.parametrize("row,column,value,reason", BAD_ROWS, ids=[b[3][:8] for b in BAD_ROWS])
def test_import_row_errors_name_row_column_value_and_write_nothing(db, tmp_path, row, column, value, reason):
    actor = admin(db)
    path = sheet(tmp_path / "bad.xlsx", [("2027-01-01", "休", "元旦"), ("2027-02-06", "班", "春节"), row])
    with db.session_factory() as s:
        result = calendar.import_year(ServiceContext(s, actor), path)
        assert not result.ok and len(result.errors) == 1
        e = result.errors[0]
        assert (e.row, e.column, e.value) == (4, column, value) and reason in e.reason
        assert str(e).startswith(f"第 4 行，“{column}”列")
        s.commit()
    with db.session_factory() as s:
        assert calendar.year_days(s, 2027) == []            # all-or-nothing: the two good rows neither
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity == "core_holidays")) == 0


@pytest.mark.parametrize("header,message",
                         [(("日期", "类型", "名称"), "缺少列：休/班"), (("日期", "休/班", "名称"), "没有数据行")])
def test_import_refuses_a_wrong_file(db, tmp_path, header, message):
    actor = admin(db)
    with db.session_factory() as s:
        with pytest.raises(ValidationError, match=message):
            calendar.import_year(ServiceContext(s, actor), sheet(tmp_path / "x.xlsx", [], header=header))
        (tmp_path / "n.xlsx").write_text("not excel")
        with pytest.raises(ValidationError, match="无法读取文件"):
            calendar.import_year(ServiceContext(s, actor), tmp_path / "n.xlsx")


def test_editing_needs_settings_permission(db, tmp_path):
    actor = admin(db)
    ids = build_tree(db, actor)
    worker = user(db, actor, "worker1", ids["和平社区/第一网格"], roles=["grid_worker"])
    with db.session_factory() as s:
        ctx = ServiceContext(s, worker)
        for call in (lambda: calendar.set_day(ctx, date(2027, 1, 1), "休", "元旦"),
                     lambda: calendar.clear_day(ctx, date(2026, 1, 1)),
                     lambda: calendar.import_year(ctx, sheet(tmp_path / "ok.xlsx", SHEET_2027))):
            with pytest.raises(PermissionDenied, match="修改系统设置与规则"):
                call()
        assert calendar.year_days(s, 2027) == [] and calendar.add_working_days(s, date(2026, 12, 31), 1).warning


def test_set_and_clear_a_day_audited_and_seen_at_once(db):
    actor = admin(db)
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        assert calendar.is_working_day(s, date(2027, 1, 1))          # loads the cache
        day = calendar.set_day(ctx, date(2027, 1, 1), "休", " 元旦 ")
        assert (day.kind, day.name, day.source) == ("off", "元旦", "手工")
        assert not calendar.is_working_day(s, date(2027, 1, 1))      # same transaction: seen at once
        calendar.set_day(ctx, date(2027, 1, 1), "off", "元旦节")      # an update of the same row
        with pytest.raises(ValidationError, match="星期二，本来就是工作日"):
            calendar.set_day(ctx, date(2027, 1, 5), "班")
        s.commit()
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        assert calendar.year_days(s, 2027)[0].name == "元旦节"
        calendar.clear_day(ctx, date(2027, 1, 1))
        with pytest.raises(NotFound, match="无需清除"):
            calendar.clear_day(ctx, date(2027, 1, 1))
        s.commit()
        assert calendar.is_working_day(s, date(2027, 1, 1)) and 2027 not in calendar.years_known(s)
        actions = list(s.execute(select(AuditLog.action, AuditLog.entity_id).where(AuditLog.entity == "core_holidays")
                                 .order_by(AuditLog.id)))
        assert [a for a, _ in actions] == ["insert", "update", "delete"] and len({i for _, i in actions}) == 1


def test_cache_follows_rollback_and_another_desktop(db):
    actor = admin(db)
    with db.session_factory() as s:
        assert calendar.is_working_day(s, date(2027, 1, 1))
        calendar.set_day(ServiceContext(s, actor), date(2027, 1, 1), "休", "元旦")
        assert not calendar.is_working_day(s, date(2027, 1, 1))
        s.rollback()
        assert calendar.is_working_day(s, date(2027, 1, 1))          # the rolled-back day is gone again
    # Another desktop: its own engine on the same database commits a change.
    other = make_engine(db.url)
    try:
        reader = db.session_factory()
        assert calendar.is_working_day(reader, date(2027, 1, 1))
        reader.commit()
        with make_session_factory(other)() as s:
            calendar.set_day(ServiceContext(s, actor), date(2027, 1, 1), "休", "元旦")
            s.commit()
        assert not calendar.is_working_day(reader, date(2027, 1, 1))  # the next transaction sees it
        reader.close()
    finally:
        other.dispose()


@pytest.mark.parametrize("today,expected", [
    (date(2026, 10, 31), ""),                  # before November: next year's schedule is not due yet
    (date(2026, 11, 1), WARNING_2027),
    (date(2026, 12, 31), WARNING_2027),
    (date(2027, 3, 1), WARNING_2027),          # the current year missing: always
    (date(2026, 5, 1), ""),
])
def test_upcoming_warning_from_1_november(db, today, expected):
    with db.session_factory() as s:
        assert calendar.upcoming_warning(s, today) == expected


def test_template_reads_back(tmp_path, db):
    with db.session_factory() as s:
        days = calendar.year_days(s, 2026)
    path = calendar.write_template(tmp_path / "t.xlsx", 2026, days)
    rows, errors, total = calendar.read_sheet(path)
    assert errors == [] and total == len(days) and [(d, k) for _n, d, k, _name in rows] == [(d.day, d.kind) for d in days]
    empty = calendar.write_template(tmp_path / "e.xlsx", 2027)
    with pytest.raises(ValidationError, match="没有数据行"):
        calendar.read_sheet(empty)
    with db.engine.connect() as conn:      # the template's example sheet is not imported
        assert conn.execute(text("SELECT count(*) FROM core_holidays WHERE day >= '2027-01-01'")).scalar() == 0
