"""A rolled-back transaction leaves nothing behind, suite-wide, on SQLite and PostgreSQL (issue 14.1).

1. Every importer registered through ``register_importers``, run through ``run_import`` on a file of
   valid rows from the demo street: cancelled (``cancel=lambda: True``) it raises ``ImportCancelled``,
   and with a failing last row it is refused — both times every table's checksum, read from another
   connection, is unchanged. The importer is watched to really write the valid rows inside the
   transaction first, so the test cannot pass because nothing was tried.
2. Every public service function (the list tests/test_permissions.py walks), called as the superuser
   with real arguments in a fresh session whose first write is the call, then rolled back: no table
   it wrote to differs from before (and at the end no table at all).

An importer or a service that commits on its own, or a savepoint the driver commits by itself (the
pysqlite driver did, before shell/db/engine.py began the transaction), fails here.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import re
import shutil
import uuid
from types import SimpleNamespace

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select, text

from shell.core import auth
from shell.core.context import ServiceContext
from shell.core.database import open_database
from shell.core.demo import create_demo
from shell.core.models import Area, User
from shell.core.transfer import ImportCancelled, available_importers, run_import
from shell.db.base import Base
from shell.db.serverize import table_checksum
from shell.plugins import BUILTIN_PLUGINS, call_each, make_plugin_manager
from shell.errors import JiedaoError

from tests.test_permissions import FUNCTIONS, _models_by_stem, dummy

DML = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)


def _pm():
    return make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)


class Checksums:
    """Every table's (rows, checksum), read on a connection of its own; ``changes()`` names the
    tables that differ from the last reading and takes the new one as the reference."""

    def __init__(self, db):
        self.db = db
        self.tables = {t.name: t for t in Base.metadata.sorted_tables}
        self.state = self.read()

    def read(self, names=None):
        with self.db.engine.connect() as conn:
            return {n: table_checksum(conn, self.tables[n]) for n in (names or self.tables) if n in self.tables}

    def changes(self, names=None) -> list[str]:
        now = self.read(names)
        diff = [f"{n}: {self.state[n][0]} → {now[n][0]} rows" + ("" if self.state[n][0] != now[n][0] else
                                                                 " (contents changed)")
                for n in now if now[n] != self.state[n]]
        self.state.update(now)
        return diff


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    """The small demo street, built once; the PostgreSQL street is a copy of it (copying is several
    times faster than seeding the demo again on the server)."""
    path = tmp_path_factory.mktemp("rollback") / "demo.sqlite"
    create_demo(path, pm=_pm()).dispose()
    return path


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def street(request, demo_file, tmp_path_factory):
    """The demo street on one engine, with the superuser logged in (the login's own bookkeeping is
    written before the first checksum)."""
    drop = None
    pm = _pm()
    if request.param == "sqlite":
        target = tmp_path_factory.mktemp("rollback-sqlite") / "street.sqlite"
        shutil.copy(demo_file, target)
    else:
        from sqlalchemy.engine import make_url

        from shell.db.mappers import plugin_module_names
        from shell.db.migrate import plugin_branches
        from shell.db.serverize import migrate_sqlite_to_server
        from tests.conftest import PG_URL

        server = request.getfixturevalue("pg_server")
        name = f"jd_test_rollback_{uuid.uuid4().hex[:10]}"
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        drop = (server, name)
        target = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
        migrate_sqlite_to_server(demo_file, target, plugin_branches(pm), plugin_module_names(pm))
    db = open_database(target, pm=pm, backup=False)
    admin = auth.login(db.session_factory, "admin", "demo1234")
    assert admin.is_superuser
    yield SimpleNamespace(db=db, pm=pm, admin=admin, sums=Checksums(db), engine=request.param)
    db.dispose()
    if drop is not None:
        with drop[0].connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{drop[1]}" WITH (FORCE)'))


# === 1. importers ====================================================================================
def _id_number(seq: int, birth: str = "19850312", region: str = "330102") -> str:
    from stdnum.cn import ric

    body = f"{region}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _uscc(seq: int) -> str:
    from stdnum.cn import uscc

    body = f"9133010{seq:010d}"
    return body + uscc.calc_check_digit(body)


def _grid(s):
    grid = s.scalars(select(Area).where(Area.level == "grid").order_by(Area.id)).first()
    return f"{s.get(Area, grid.parent_id).name}/{grid.name}"


def _community(s):
    return s.scalars(select(Area).where(Area.level == "community").order_by(Area.id)).first().name


def _persons(s):
    grid = _grid(s)
    return (["姓名", "公民身份号码", "责任网格"],
            [["回滚甲", _id_number(901), grid], ["回滚乙", _id_number(902), grid]],
            ["回滚丙", _id_number(903)[:-1] + ("0" if _id_number(903)[-1] != "0" else "1"), grid])


def _houses(s):
    grid = _grid(s)
    return (["房屋编号", "地址", "责任网格"],
            [["RB-H0001", "回滚路1号", grid], ["RB-H0002", "回滚路2号", grid]],
            ["RB-H0003", "回滚路3号", "月亮社区/第九网格"])


def _households(s):
    grid = _grid(s)
    return (["户号", "所属网格"], [["RB-F0001", grid], ["RB-F0002", grid]], ["RB-F0003", "月亮社区/第九网格"])


def _organisations(s):
    grid = _grid(s)
    return (["组织名称", "组织类别", "统一社会信用代码", "所属网格"],
            [["回滚科技有限公司", "非公有制经济组织", _uscc(1), grid], ["回滚志愿者协会", "社会组织", _uscc(2), grid]],
            ["回滚商店", "非公有制经济组织", "不是信用代码", grid])


def _members(s):
    from plugins.partybuilding.models import PartyOrg

    # A branch whose bare name is unique (the importer refuses an ambiguous one).
    names = (select(PartyOrg.name).group_by(PartyOrg.name).having(func.count() == 1))
    org = s.scalars(select(PartyOrg).where(PartyOrg.name.in_(names), PartyOrg.dissolved_on.is_(None))
                    .order_by(PartyOrg.kind != "general_branch", PartyOrg.id)).first()
    header = ["姓名", "性别", "公民身份号码", "所在党组织", "发展阶段", "申请入党日期", "确定积极分子日期",
              "确定发展对象日期", "加入党组织日期", "转为正式党员日期"]
    dates = ["2009-03-01", "2009-09-01", "2010-03-01", "2010-07-01", "2011-07-01"]
    return (header,
            [["回滚党员甲", "男", _id_number(911), org.name, "正式党员", *dates],
             ["回滚党员乙", "男", _id_number(913), org.name, "正式党员", *dates]],
            ["回滚党员丙", "男", _id_number(915), "没有这个党组织", "正式党员", *dates])


def _volunteers(s):
    community = _community(s)
    return (["姓名", "身份证号", "所属社区"],
            [["回滚志愿者甲", _id_number(921), community], ["回滚志愿者乙", _id_number(922), community]],
            ["回滚志愿者丙", "12345", community])


def _attendance(s):
    from plugins.volunteer.models import Activity, Attendance, Volunteer
    from shell.clock import LOCAL_TZ

    now = dt.datetime.now(dt.timezone.utc)
    # An open activity that has ended, with room for two more
    for a in s.scalars(select(Activity).where(Activity.status == "open").order_by(Activity.starts_at.desc())):
        ends = a.ends_at if a.ends_at.tzinfo else a.ends_at.replace(tzinfo=dt.timezone.utc)
        taken = s.scalar(select(func.count()).select_from(Attendance).where(Attendance.activity_id == a.id,
                                                                            Attendance.status != "cancelled"))
        if ends < now and (not a.capacity or a.capacity - taken >= 2):
            break
    else:
        pytest.fail("the demo has no open activity that has ended")
    busy = select(Attendance.volunteer_id).where(Attendance.activity_id == a.id)
    vols = list(s.scalars(select(Volunteer).where(Volunteer.active.is_(True), Volunteer.area_id == a.area_id,
                                                  Volunteer.id.not_in(busy)).order_by(Volunteer.id).limit(3)))
    starts = a.starts_at if a.starts_at.tzinfo else a.starts_at.replace(tzinfo=dt.timezone.utc)
    t_in = (starts + dt.timedelta(minutes=5)).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    t_out = (starts + dt.timedelta(minutes=65)).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    return (["活动编号", "志愿者编号", "姓名", "签到时间", "签退时间"],
            [[a.id, v.number, v.name, t_in, t_out] for v in vols[:2]],
            [a.id, vols[2].number, vols[2].name, t_out, t_in])     # signed out before signing in


def _items(s):
    return (["物资编码", "物资名称", "规格型号", "计量单位"],
            [["2999901", "回滚手电筒", "强光", "个"], ["2999902", "回滚雨衣", "均码", "件"]],
            ["2999903", "", "均码", "件"])


def _stock(s):
    from plugins.emergency.models import Item, Warehouse

    wh = s.scalars(select(Warehouse).order_by(Warehouse.id)).first()
    item = s.scalars(select(Item).order_by(Item.id)).first()
    cells = [wh.name, item.code, item.name, item.spec, item.unit]
    return (["仓库", "物资编码", "物资名称", "规格型号", "计量单位", "批次号", "生产日期", "有效期至", "数量", "来源单位"],
            [[*cells, "RB-B1", "2026-01-01", "2028-01-01", 5, "回滚捐赠"],
             [*cells, "RB-B2", "2026-02-01", "2028-02-01", 7, "回滚捐赠"]],
            [*cells, "RB-B3", "2026-02-01", "2028-02-01", "五箱", "回滚捐赠"])


# kind → (session) → (header, valid rows, a failing row). A new importer fails
# test_every_importer_has_a_file until it is given one here.
FILES = {
    "grid-persons": _persons, "grid-houses": _houses, "grid-households": _households,
    "grid-organisations": _organisations, "partybuilding-members": _members,
    "volunteer-volunteers": _volunteers, "volunteer-attendance": _attendance,
    "emergency-items": _items, "emergency-stock": _stock,
}


def _registered():
    """Every importer the builtin plugins register (not only the first of each kind)."""
    return [(plugin, d) for plugin, d in call_each(_pm(), "register_importers") if d.import_fn is not None]


def test_every_importer_has_a_file():
    kinds = [d.kind for _p, d in _registered()]
    assert sorted(kinds) == sorted(FILES), "give every registered importer a file in FILES"
    assert len(kinds) == len(FILES) == 9


def _xlsx(path, header, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _counts(session) -> int:
    """Rows in every table, as this session's transaction sees them."""
    return sum(session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables)


@pytest.mark.parametrize("kind", sorted(FILES))
def test_a_cancelled_or_refused_import_leaves_every_table_as_it_was(street, kind, tmp_path):
    (_plugin, definition), = [(p, d) for p, d in _registered() if d.kind == kind]
    with street.db.session_factory() as s:
        header, good, bad = FILES[kind](s)
        before = _counts(s)
    seen = {}

    def watched(ctx, path, valid_only):
        result = definition.import_fn(ctx, path, valid_only)
        ctx.session.flush()
        seen.update(result=result, added=_counts(ctx.session) - before)
        return result

    spied = dataclasses.replace(definition, import_fn=watched)

    # (a) valid rows, cancelled after they were written
    path = _xlsx(tmp_path / "good.xlsx", header, good)
    with pytest.raises(ImportCancelled):
        run_import(street.db.session_factory, street.admin, spied, path, cancel=lambda: True)
    result = seen["result"]
    assert result.ok and result.written == len(good), [str(e) for e in result.errors]
    assert seen["added"] >= len(good), "the importer wrote nothing: the test would prove nothing"
    assert street.sums.changes() == [], f"{kind}: a cancelled import left writes behind"

    # (b) the same rows and a failing last one: refused
    seen.clear()
    path = _xlsx(tmp_path / "bad.xlsx", header, good + [bad])
    result = run_import(street.db.session_factory, street.admin, spied, path)
    assert not result.ok and result.written == 0
    assert result.valid_rows == len(good), [str(e) for e in result.errors]
    assert {e.row for e in result.errors} == {len(good) + 2}, [str(e) for e in result.errors]
    assert street.sums.changes() == [], f"{kind}: a refused import left writes behind"
