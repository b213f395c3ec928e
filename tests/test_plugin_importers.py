"""Every importer of the volunteer, partybuilding and emergency plugins, table-driven on the small demo
street through ``shell.core.transfer.run_import`` (the import engine, issue 16): a bad row is named by
row, column and the value as typed, in Chinese; any bad row writes nothing; "only valid rows" writes the
good ones; a cancel — before or after the rows are written — writes nothing; and an export imports
again into a street that lacks those records, giving the same export."""
from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.core.demo_people import DemoPeople
from shell.core.transfer import ImportCancelled, available_importers, run_export, run_import
from shell.plugins import make_plugin_manager

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def pm():
    return make_plugin_manager(entry_points=False)


@pytest.fixture(scope="module")
def street(sqlite_templates, tmp_path_factory):
    """The small demo street with every built-in plugin, copied once for this module (each test
    works on a further copy)."""
    from shell.testing import ALL_BUILTINS

    return sqlite_templates.copy(tmp_path_factory.mktemp("street") / "demo.sqlite", ALL_BUILTINS, demo=True)


@pytest.fixture
def db(street, tmp_path, pm):
    path = tmp_path / "street.sqlite"
    shutil.copyfile(street, path)
    database = open_database(path, pm=pm, backup=False)
    yield database
    database.dispose()


def _definition(pm, kind):
    return {d.kind: d for _p, d in available_importers(pm)}[kind]


def _sheet(path: Path, header, rows) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append([r.get(h) for h in header])
    wb.save(path)
    return path


def _scalar(db, sql: str):
    with db.session_factory() as s:
        return s.execute(text(sql)).scalar()


def _shown(v) -> str:
    """A cell as the user reads it (the reader gives numbers as floats: -3 typed is -3.0 read)."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return "" if v is None else str(v)


# --- what each importer gets: good rows, bad rows (with the cell the error must name), a count -----
@dataclass(frozen=True)
class Case:
    kind: str
    good: Callable      # (db) -> list of {column: value}
    bad: Callable       # (db) -> list of ({column: value}, column named, reason fragment)
    count: str          # SQL counting what the import writes
    exported: str = ""  # with an exporter: the tables (and what hangs on them) a street without them lacks


def _rng():
    return random.Random(16)


def _new_people(db, table: str, n: int):
    used = {r[0] for r in _rows(db, f"SELECT id_number FROM {table}")}
    people, out = DemoPeople(_rng()), []
    while len(out) < n:
        sex = people.sex()
        number = people.id_number(people.birth_in_years(1960, 1995), sex, region="330106")
        if number not in used:
            used.add(number)
            out.append((people.name(sex), number, sex))
    return out


def _rows(db, sql: str):
    with db.session_factory() as s:
        return list(s.execute(text(sql)))


def _community(db) -> str:
    from shell.core.matching import area_paths

    with db.session_factory() as s:
        area_id = s.execute(text("SELECT id FROM core_areas WHERE level = 'community' ORDER BY id")).scalar()
        return area_paths(s)[area_id]


def volunteers_good(db):
    return [{"姓名": name, "身份证号": number, "性别": sex, "联系电话": f"1390000{k:04d}", "所属社区": _community(db),
             "服务技能": "助老、应急救护", "登记日期": "2024/5/1", "状态": "停用" if k == 1 else "在册"}
            for k, (name, number, sex) in enumerate(_new_people(db, "volunteer_volunteers", 3))]


def volunteers_bad(db):
    (name, number, _sex), = _new_people(db, "volunteer_volunteers", 1)
    base = {"姓名": name, "身份证号": number, "所属社区": _community(db)}
    return [(dict(base, 身份证号="330102199001011239"), "身份证号", "校验"),
            (dict(base, 联系电话="12345"), "联系电话", "格式不对"),
            (dict(base, 所属社区="不存在社区"), "所属社区", "找不到"),
            (dict(base, 状态="离开"), "状态", "在册"),
            (dict(base, 登记日期="去年"), "登记日期", "不是日期"),
            (dict(base, 姓名=""), "姓名", "请填写姓名")]


def _open_activity(db) -> tuple[int, list[str]]:
    """An open activity yesterday 08:30–12:30 (Shanghai) in the community with most active
    volunteers, and their numbers."""
    from plugins.volunteer import services as sv
    from shell.clock import LOCAL_TZ

    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        area_id, = s.execute(text("SELECT area_id FROM volunteer_volunteers WHERE active GROUP BY area_id "
                                  "ORDER BY count(*) DESC LIMIT 1")).one()
        numbers = [r[0] for r in s.execute(text(f"SELECT number FROM volunteer_volunteers WHERE active AND area_id = "
                                                f"{area_id} ORDER BY id LIMIT 4"))]
        day = datetime.now(LOCAL_TZ).date() - timedelta(days=1)
        start = datetime(day.year, day.month, day.day, 8, 30, tzinfo=LOCAL_TZ).astimezone(UTC)
        a = sv.create_activity(ctx, name="导入测试活动", area_id=area_id, starts_at=start,
                               ends_at=start + timedelta(hours=4), place="社区广场", content="秩序维护")
        s.commit()
        return a.id, numbers


def attendance_good(db):
    aid, numbers = _open_activity(db)
    return [{"活动编号": aid, "志愿者编号": n, "签到时间": "08:40", "签退时间": "11:50"} for n in numbers[:3]]


def attendance_bad(db):
    aid, numbers = _open_activity(db)

    def row(activity, number, t_in="08:40", t_out="11:50"):
        return {"活动编号": activity, "志愿者编号": number, "签到时间": t_in, "签退时间": t_out}
    return [(row("abc", numbers[3]), "活动编号", "活动编号"),
            (row(aid, "ZY9999999"), "志愿者编号", "没有这个志愿者"),
            (row(aid, numbers[3], t_in="九点"), "签到时间", "不是时间"),
            (row(aid, numbers[3], "11:00", "10:00"), "签退时间", "应晚于签到时间")]


def _branches(db) -> list[str]:
    return [r[0] for r in _rows(db, "SELECT name FROM partybuilding_orgs WHERE level BETWEEN 2 AND 3 AND dissolved_on "
                                    "IS NULL GROUP BY name HAVING count(*) = 1 ORDER BY name")]


def members_good(db):
    orgs = _branches(db)
    return [{"姓名": name, "公民身份号码": number, "所在党组织": orgs[k % len(orgs)], "发展阶段": "正式党员",
             "加入党组织日期": "2010-07-01", "转为正式党员日期": date(2011, 7, 1), "月收入（元）": 4200.5,
             "联系电话": 13900001111, "人员类别": "退休"}
            for k, (name, number, _sex) in enumerate(_new_people(db, "partybuilding_members", 3))]


def members_bad(db):
    (name, number, _sex), = _new_people(db, "partybuilding_members", 1)
    base = {"姓名": name, "公民身份号码": number, "所在党组织": _branches(db)[0], "发展阶段": "入党申请人",
            "申请入党日期": "2025.3.1"}
    return [(dict(base, 公民身份号码="110105199503030000"), "公民身份号码", "校验"),
            (dict(base, 所在党组织="不存在的支部"), "所在党组织", "找不到"),
            (dict(base, 申请入党日期="去年"), "申请入党日期", "不是日期"),
            (dict(base, 发展阶段="党员"), "发展阶段", "应为"),
            (dict(base, 申请入党日期="2099-01-01"), "申请入党日期", "不能晚于今天"),
            (dict(base, **{"月收入（元）": "很多"}), "月收入（元）", "应为数字")]


def items_good(db):
    return [{"物资编码": f"10101{k:02d}", "物资名称": f"导入物资{k}", "规格型号": "标准", "计量单位": "件"} for k in (1, 2, 3)]


def items_bad(db):
    base = {"物资编码": "1010199", "物资名称": "导入坏物资", "规格型号": "", "计量单位": "个"}
    return [(dict(base, 物资编码="4020101"), "物资编码", "大类"),
            (dict(base, 物资编码="10a0101"), "物资编码", "数字"),
            (dict(base, 计量单位=""), "计量单位", "请填写计量单位"),
            (dict(base, 物资名称="长" * 101), "物资名称", "太长")]


def _stock_row(db, k: int) -> dict:
    from shell.core.matching import area_paths, path_text

    with db.session_factory() as s:
        paths = area_paths(s)
        area_id, wh = s.execute(text("SELECT area_id, name FROM emergency_warehouses WHERE active ORDER BY id")).first()
        code, name, spec, unit = s.execute(text("SELECT code, name, spec, unit FROM emergency_items ORDER BY id")).first()
    today = date.today()
    return {"仓库": path_text([paths[area_id], wh]), "物资编码": code, "物资名称": name, "规格型号": spec, "计量单位": unit,
            "批次号": f"IMPTEST-{k}", "生产日期": (today - timedelta(days=30)).isoformat(),
            "有效期至": (today + timedelta(days=700)).isoformat(), "数量": 5 + k, "来源单位": "区应急管理局"}


def stock_good(db):
    return [_stock_row(db, k) for k in (1, 2, 3)]


def stock_bad(db):
    base = _stock_row(db, 9)
    return [(dict(base, 仓库="不存在的库"), "仓库", "找不到"),
            (dict(base, 数量=-3), "数量", "必须大于 0"),
            (dict(base, 生产日期="2026-13-01"), "生产日期", "不是日期"),
            (dict(base, 有效期至="2020-01-01"), "有效期至", "过期物资不能入库"),
            (dict(base, 批次号=""), "批次号", "请填写批次号")]


CASES = [
    Case("volunteer-volunteers", volunteers_good, volunteers_bad, "SELECT count(*) FROM volunteer_volunteers",
         "volunteer_volunteers"),
    Case("volunteer-attendance", attendance_good, attendance_bad,
         "SELECT count(*) FROM volunteer_attendances WHERE status = 'signed_out'"),
    Case("partybuilding-members", members_good, members_bad, "SELECT count(*) FROM partybuilding_members",
         "partybuilding_members"),
    Case("emergency-items", items_good, items_bad, "SELECT count(*) FROM emergency_items", "emergency_items"),
    Case("emergency-stock", stock_good, stock_bad, "SELECT count(*) FROM emergency_stock_moves",
         "emergency_batches"),
]
IDS = [c.kind for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_rows_are_named_and_nothing_is_written(case, db, pm, tmp_path):
    d = _definition(pm, case.kind)
    good, bad = case.good(db), case.bad(db)
    path = _sheet(tmp_path / "in.xlsx", d.columns, good + [row for row, _c, _r in bad])
    before = _scalar(db, case.count)
    result = run_import(db.session_factory, Actor.system(), d, path)
    assert (result.total_rows, result.valid_rows, result.written) == (len(good) + len(bad), len(good), 0)
    assert _scalar(db, case.count) == before                       # all or nothing
    by_cell = {(e.row, e.column): e for e in result.errors}
    for n, (row, column, fragment) in enumerate(bad, start=len(good) + 2):
        e = by_cell.get((n, column))
        assert e is not None, f"row {n} {column}: {[str(x) for x in result.errors if x.row == n]}"
        assert _shown(e.value) == _shown(row.get(column)), str(e)         # the cell as typed
        assert fragment in e.reason and CJK.search(e.reason), str(e)
        assert str(e).startswith(f"第 {n} 行，“{column}”列")
    # only the valid rows, when the user accepts them
    kept = run_import(db.session_factory, Actor.system(), d, path, valid_only=True)
    assert kept.written == len(good) and len(kept.errors) >= len(bad)
    assert _scalar(db, case.count) == before + len(good)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cancel_writes_nothing(case, db, pm, tmp_path):
    d = _definition(pm, case.kind)
    path = _sheet(tmp_path / "in.xlsx", d.columns, case.good(db))
    before = _scalar(db, case.count)
    with pytest.raises(ImportCancelled):          # cancelled while the rows are checked
        run_import(db.session_factory, Actor.system(), d, path, cancel=lambda: True)
    asked = []

    def late():          # cancelled once the rows are written, before the commit
        asked.append(1)
        return len(asked) >= 2
    with pytest.raises(ImportCancelled):
        run_import(db.session_factory, Actor.system(), d, path, cancel=late)
    assert len(asked) == 2 and _scalar(db, case.count) == before


def _dependents(table: str) -> list:
    """``table`` and every table that refers to it (through foreign keys, transitively), the
    referring ones first — what a street without ``table``'s records lacks."""
    from shell.db.base import Base

    tables = {t.name: t for t in Base.metadata.sorted_tables}
    out = {table}
    grew = True
    while grew:
        grew = False
        for t in tables.values():
            if t.name not in out and any(fk.column.table.name in out for fk in t.foreign_keys):
                out.add(t.name)
                grew = True
    return [t for t in reversed(Base.metadata.sorted_tables) if t.name in out]


def _export(db, d, path) -> list[tuple]:
    run_export(db.session_factory, Actor.system(), d, path)
    return sorted(tuple("" if v is None else str(v) for v in r)
                  for r in openpyxl.load_workbook(path).active.iter_rows(min_row=2, values_only=True))


@pytest.mark.parametrize("case", [c for c in CASES if c.exported], ids=[c.kind for c in CASES if c.exported])
def test_export_imports_again(case, db, pm, tmp_path):
    d = _definition(pm, case.kind)
    first = _export(db, d, tmp_path / "export.xlsx")
    assert first
    with db.session_factory() as s:       # the same street without these records
        tables = _dependents(case.exported)
        names = ", ".join(f"'{t.name}'" for t in tables)
        # the append-only ledgers' guard triggers stand aside while the street is emptied of them
        triggers = list(s.execute(text(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                       f"AND tbl_name IN ({names})")))
        for name, _sql in triggers:
            s.execute(text(f'DROP TRIGGER "{name}"'))
        for t in tables:
            s.execute(t.delete())
        for _name, sql in triggers:
            s.execute(text(sql))
        s.commit()
    result = run_import(db.session_factory, Actor.system(), d, tmp_path / "export.xlsx", valid_only=True)
    expired = [e for e in result.errors if "过期物资不能入库" in e.reason]   # stock past its date stays out
    assert len(result.errors) == len(expired) and result.written == len(first) - len(expired), result.errors[:3]
    again = _export(db, d, tmp_path / "again.xlsx")
    if not expired:
        assert again == first
    else:
        today = date.today().isoformat()
        assert again == [r for r in first if not (r[7] and r[7][:10] < today)]
