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
from types import SimpleNamespace

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select
from sqlalchemy import inspect as sa_inspect

from shell.core import auth
from shell.core.context import ServiceContext
from shell.core.database import open_database
from shell.core.models import Area, User
from shell.core.transfer import ImportCancelled, run_import
from shell.db.base import Base
from shell.db.serverize import table_checksum
from shell.errors import JiedaoError
from shell.plugins import BUILTIN_PLUGINS, call_each, make_plugin_manager
from shell.testing import ALL_BUILTINS
from tests.test_permissions import FUNCTIONS, dummy

DML = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)


def _pm():
    return make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)


class Checksums:
    """Every table's (rows, checksum), read on a connection of its own; ``changes()`` names the
    tables that differ from the last reading and takes the new one as the reference."""

    def __init__(self, db):
        self.db = db
        # Only this database's tables: another test module may have mapped a test plugin's model.
        present = set(sa_inspect(db.engine).get_table_names())
        self.tables = {t.name: t for t in Base.metadata.sorted_tables if t.name in present}
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


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def street(request, sqlite_templates, tmp_path_factory):
    """The small demo street on one engine (a copy of the run's template: a file copy, or a clone of
    the PostgreSQL template database), with the superuser logged in (the login's own bookkeeping is
    written before the first checksum)."""
    pm = _pm()
    if request.param == "sqlite":
        db = sqlite_templates.open(tmp_path_factory.mktemp("rollback-sqlite") / "street.sqlite", ALL_BUILTINS,
                                   demo=True, pm=pm)
        yield from _logged_in(db, pm, request.param)
        return
    with request.getfixturevalue("pg_templates").clone(ALL_BUILTINS, demo=True, prefix="jd_test_rollback") as url:
        yield from _logged_in(open_database(url, pm=pm, backup=False), pm, request.param)


def _logged_in(db, pm, engine):
    admin = auth.login(db.session_factory, "admin", "demo1234")
    assert admin.is_superuser
    yield SimpleNamespace(db=db, pm=pm, admin=admin, sums=Checksums(db), engine=engine)
    db.dispose()


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

    now = dt.datetime.now(dt.UTC)
    # An open activity that has ended, with room for two more
    for a in s.scalars(select(Activity).where(Activity.status == "open").order_by(Activity.starts_at.desc())):
        ends = a.ends_at if a.ends_at.tzinfo else a.ends_at.replace(tzinfo=dt.UTC)
        taken = s.scalar(select(func.count()).select_from(Attendance).where(Attendance.activity_id == a.id,
                                                                            Attendance.status != "cancelled"))
        if ends < now and (not a.capacity or a.capacity - taken >= 2):
            break
    else:
        pytest.fail("the demo has no open activity that has ended")
    busy = select(Attendance.volunteer_id).where(Attendance.activity_id == a.id)
    vols = list(s.scalars(select(Volunteer).where(Volunteer.active.is_(True), Volunteer.area_id == a.area_id,
                                                  Volunteer.id.not_in(busy)).order_by(Volunteer.id).limit(3)))
    starts = a.starts_at if a.starts_at.tzinfo else a.starts_at.replace(tzinfo=dt.UTC)
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


KINDS = sorted(d.kind for _p, d in _registered())


def test_every_registered_importer_is_covered():
    """The cases below are the importers the hook registers, each with a file here."""
    assert len(KINDS) == len(set(KINDS)) == len(FILES) and set(KINDS) == set(FILES), \
        f"registered {KINDS}, files for {sorted(FILES)}: give every importer a file in FILES"


def _xlsx(path, header, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _counts(session, tables) -> int:
    """Rows in every table, as this session's transaction sees them."""
    return sum(session.scalar(select(func.count()).select_from(t)) for t in tables)


@pytest.mark.parametrize("kind", KINDS)
def test_a_cancelled_or_refused_import_leaves_every_table_as_it_was(street, kind, tmp_path):
    assert kind in FILES, f"give the importer {kind} a file in FILES"
    (_plugin, definition), = [(p, d) for p, d in _registered() if d.kind == kind]
    with street.db.session_factory() as s:
        header, good, bad = FILES[kind](s)
        before = _counts(s, street.sums.tables.values())
    seen = {}

    def watched(ctx, path, valid_only):
        result = definition.import_fn(ctx, path, valid_only)
        ctx.session.flush()
        seen.update(result=result, added=_counts(ctx.session, street.sums.tables.values()) - before)
        return result

    spied = dataclasses.replace(definition, import_fn=watched)

    # (a) valid rows, cancelled after they were written
    path = _xlsx(tmp_path / "good.xlsx", header, good)
    with pytest.raises(ImportCancelled):
        run_import(street.db.session_factory, street.admin, spied, path, cancel=lambda: True)
    result = seen["result"]
    assert result.ok and result.written == len(good), [str(e) for e in result.errors]
    assert seen["added"] >= len(good), "the importer wrote nothing: the test would prove nothing"
    left = street.sums.changes()
    assert not left, f"{kind}: a cancelled import left writes behind: " + "; ".join(left)

    # (b) the same rows and a failing last one: refused
    seen.clear()
    path = _xlsx(tmp_path / "bad.xlsx", header, good + [bad])
    result = run_import(street.db.session_factory, street.admin, spied, path)
    assert not result.ok and result.written == 0
    assert result.valid_rows == len(good), [str(e) for e in result.errors]
    assert {e.row for e in result.errors} == {len(good) + 2}, [str(e) for e in result.errors]
    left = street.sums.changes()
    assert not left, f"{kind}: a refused import left writes behind: " + "; ".join(left)


# === 2. services =====================================================================================
def _record_ids(s, present) -> dict[str, int]:
    """'<plugin>:<stem>' → the id of a real row, for every mapped class ('grid:person' → a person,
    'volunteer:activity' → an activity …), the first by id; REAL_ARGS picks better ones where it matters."""
    out: dict[str, int] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        parts = cls.__module__.split(".")
        plugin = parts[1] if parts[0] == "plugins" else "core"
        if "id" not in mapper.columns or mapper.local_table.name not in present:
            continue
        row = s.scalar(select(cls.id).order_by(cls.id).limit(1))
        if row is not None:
            out[f"{plugin}:{cls.__name__.lower()}"] = row
    return out


def _generic_value(name: str, plugin: str, ids: dict[str, int], areas: dict[str, int]):
    n = name.lower()
    if n in ("on", "as_of"):
        return dt.date.today()
    if n == "area_id":
        return areas["grid" if plugin == "grid" else "community"]
    stem = n[:-3].replace("_", "") if n.endswith("_id") else n[:-4].replace("_", "") if n.endswith("_ids") else None
    if stem is not None:
        found = [v for k, v in ids.items() if k.startswith(f"{plugin}:") and (k.endswith(":" + stem) or k.endswith(stem))]
        if found:
            return found[0] if n.endswith("_id") else [found[0]]
    return dummy(name)


def _call_args(fn, plugin, ids, areas, given: dict):
    """Keyword arguments: the given ones (also those only ``**fields`` takes), then a generic value
    for every other required parameter."""
    kwargs = dict(given)
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in kwargs or p.default is not inspect.Parameter.empty:
            continue
        kwargs[p.name] = _generic_value(p.name, plugin, ids, areas)
    return kwargs


class Refs:
    """Real rows of the demo street, for the argument builders below."""

    def __init__(self, s):
        self.s = s
        self.now = dt.datetime.now(dt.UTC)
        self.today = dt.date.today()
        self.street, self.community, self.grid = (
            s.scalar(select(Area.id).where(Area.level == lvl).order_by(Area.id)) for lvl in ("street", "community", "grid"))

    def id(self, model, *where, order=None):
        found = self.s.scalar(select(model.id).where(*where).order_by(order if order is not None else model.id).limit(1))
        assert found is not None, f"the demo has no {model.__name__} where {where}"
        return found

    def row(self, model, *where, order=None):
        return self.s.get(model, self.id(model, *where, order=order))


def _em():
    from plugins.emergency import models
    return models


def _gr():
    from plugins.grid import models
    return models


def _pb():
    from plugins.partybuilding import models
    return models


def _vo():
    from plugins.volunteer import models
    return models


def _batch(r, *where):
    m = _em()
    return r.row(m.Batch, m.Batch.qty > 2, *where)


def _open_activity(r):
    m = _vo()
    return r.row(m.Activity, m.Activity.status == "open", m.Activity.ends_at < r.now, order=m.Activity.starts_at.desc())


def _attendance(r, status):
    m = _vo()
    return r.row(m.Attendance, m.Attendance.status == status)


def _volunteer_not_in(r, activity):
    m = _vo()
    return r.id(m.Volunteer, m.Volunteer.active.is_(True), m.Volunteer.area_id == activity.area_id,
                m.Volunteer.id.not_in(select(m.Attendance.volunteer_id).where(m.Attendance.activity_id == activity.id)))


def _full_member(r):
    m = _pb()
    return r.id(m.Member, m.Member.stage == "full", m.Member.status == "normal")


def _branch(r, kind="branch"):
    m = _pb()
    return r.id(m.PartyOrg, m.PartyOrg.kind == kind, m.PartyOrg.dissolved_on.is_(None))


def _event(r, status):
    m = _gr()
    return r.id(m.Event, m.Event.status == status)


def _movable_person(r):
    """A resident who is no household head and lives in a house."""
    m = _gr()
    return r.row(m.Person, m.Person.household_id.is_not(None), m.Person.relation_to_head != "户主",
                 m.Person.status == "active")


def _redeem_args(r):
    """The cheapest reward in stock, for a volunteer of its area who can afford it."""
    m = _vo()
    item = r.row(m.RewardItem, m.RewardItem.active.is_(True), m.RewardItem.stock > 0, order=m.RewardItem.points_price)
    volunteer = r.s.scalar(select(m.VolunteerAccount.volunteer_id)
                           .join(m.Volunteer, m.Volunteer.id == m.VolunteerAccount.volunteer_id)
                           .where(m.VolunteerAccount.points_balance >= item.points_price,
                                  m.Volunteer.area_id == item.area_id).limit(1))
    return dict(volunteer_id=volunteer, items={item.id: 1})


def _duty_date(r):
    return r.today + dt.timedelta(days=400)


def _setting():
    from plugins.grid.rules import SETTINGS
    return SETTINGS[0]


# Arguments for the services the generic ones (a real row per ``<stem>_id``, dummy() otherwise) do
# not get past validation. qualname → (Refs) → {parameter: value}.
REAL_ARGS = {
    # --- emergency
    "plugins.emergency.services.adjust": lambda r: dict(batch_id=_batch(r).id, delta=-1, reason="损坏"),
    "plugins.emergency.services.create_item": lambda r: dict(code="2999991", name="回滚头灯", unit="个"),
    "plugins.emergency.services.create_plan": lambda r: dict(title="回滚预案", category="自然灾害", level="专项预案"),
    "plugins.emergency.services.create_shelter": lambda r: dict(name="回滚避难场所", location="回滚路", area_m2=500,
                                                                capacity=100),
    "plugins.emergency.services.create_team": lambda r: dict(name="回滚救援队", kind="volunteer"),
    "plugins.emergency.services.issue": lambda r: dict(batch_id=_batch(r).id, qty=1),
    "plugins.emergency.services.issue_fefo": lambda r: dict(warehouse_id=_batch(r).warehouse_id,
                                                            item_id=_batch(r).item_id, qty=1),
    "plugins.emergency.services.plan_drill": lambda r: dict(title="回滚演练", form="tabletop",
                                                            content=next(iter(_em().DRILL_CONTENTS)),
                                                            purpose=next(iter(_em().DRILL_PURPOSES)),
                                                            planned_on=r.today + dt.timedelta(days=30)),
    "plugins.emergency.services.receive": lambda r: dict(warehouse_id=_batch(r).warehouse_id, item_id=_batch(r).item_id,
                                                         qty=3, batch_no="RB-S1"),
    "plugins.emergency.services.set_duty": lambda r: dict(duty_date=_duty_date(r), shift="full", leader="回滚领导",
                                                          staff="回滚值班员"),
    "plugins.emergency.services.set_min_stock": lambda r: dict(warehouse_id=_batch(r).warehouse_id,
                                                               item_id=_batch(r).item_id, min_qty=1),
    "plugins.emergency.services.set_shelter_status": lambda r: dict(status="maintenance"),
    "plugins.emergency.services.transfer": lambda r: dict(
        batch_id=_batch(r).id, qty=1,
        to_warehouse_id=r.id(_em().Warehouse, _em().Warehouse.id != _batch(r).warehouse_id)),
    "plugins.emergency.services.update_plan": lambda r: dict(title="回滚后的预案名"),
    "plugins.emergency.services.update_shelter": lambda r: dict(name="回滚后的场所名"),
    "plugins.emergency.services.update_warehouse": lambda r: dict(name="回滚后的仓库名"),
    "plugins.emergency.services.setting": lambda r: dict(key="emergency.alert_days_1"),
    # --- grid
    "plugins.grid.services.monthly_counts": lambda r: dict(year=r.today.year),
    "plugins.grid.services.add_attachment": lambda r: dict(event_id=_event(r, "dispatched"), name="回滚.txt",
                                                           data=b"rollback"),
    "plugins.grid.services.add_special": lambda r: dict(group="released",
                                                        details={"release_date": r.today - dt.timedelta(days=30)}),
    "plugins.grid.services.assign_staff": lambda r: dict(grid_id=r.grid, role="worker", name="回滚网格员"),
    "plugins.grid.services.record_callback": lambda r: dict(event_id=_event(r, "closed"), satisfaction="满意"),
    "plugins.grid.services.log_to_event": lambda r: dict(
        log_id=r.id(_gr().VisitLog, _gr().VisitLog.finding.is_not(None), _gr().VisitLog.finding != "",
                    _gr().VisitLog.event_id.is_(None))),
    "plugins.grid.services.change_head": lambda r: dict(household_id=_movable_person(r).household_id,
                                                        new_head_id=_movable_person(r).id, old_head_relation="配偶"),
    "plugins.grid.services.move_in": lambda r: dict(
        person_id=r.id(_gr().Person, _gr().Person.status == "active", _gr().Person.id.not_in(
            select(_gr().Occupancy.person_id).where(_gr().Occupancy.end_date.is_(None)))),
        house_id=r.id(_gr().House, order=_gr().House.id.desc())),
    "plugins.grid.services.register_organisation": lambda r: dict(kind="社会组织", name="回滚协会", credit_code=_uscc(3)),
    "plugins.grid.services.register_person": lambda r: dict(name="回滚居民", id_number=_id_number(931)),
    "plugins.grid.services.remove_from_household": lambda r: dict(household_id=_movable_person(r).household_id,
                                                                  person_id=_movable_person(r).id),
    "plugins.grid.services.save_category": lambda r: dict(name="回滚类别", deadline_days=5),
    "plugins.grid.services.set_relation": lambda r: dict(household_id=_movable_person(r).household_id,
                                                         person_id=_movable_person(r).id, relation="其他"),
    "plugins.grid.services.transition": lambda r: dict(event_id=_event(r, "dispatched"), action="handle",
                                                       comment="已处置"),
    "plugins.grid.services.update_house": lambda r: dict(address="回滚后的地址"),
    "plugins.grid.services.update_household": lambda r: dict(notes="回滚备注"),
    "plugins.grid.services.update_organisation": lambda r: dict(address="回滚后的地址"),
    "plugins.grid.services.update_person": lambda r: dict(phone="13900009999"),
    # --- partybuilding
    "plugins.partybuilding.services.advance_stage": lambda r: dict(
        member_id=r.id(_pb().Member, _pb().Member.stage == "applicant", _pb().Member.status == "normal"),
        to_stage="activist", on=r.today),
    "plugins.partybuilding.services.create_member": lambda r: dict(name="回滚党员", id_number=_id_number(941),
                                                                   org_id=_branch(r), applied_on=r.today),
    "plugins.partybuilding.services.create_org": lambda r: dict(name="回滚党小组", kind="group", parent_id=_branch(r)),
    "plugins.partybuilding.services.dissolve_org": lambda r: dict(
        org_id=r.id(_pb().PartyOrg, _pb().PartyOrg.kind == "household", _pb().PartyOrg.dissolved_on.is_(None)),
        reason="回滚"),
    "plugins.partybuilding.services.extend_probation": lambda r: dict(
        member_id=r.id(_pb().Member, _pb().Member.stage == "probationary", _pb().Member.status == "normal"),
        months=6, on=r.today),
    "plugins.partybuilding.services.issue_transfer_letter": lambda r: dict(member_id=_full_member(r),
                                                                           destination="外省某党委"),
    "plugins.partybuilding.services.join_org": lambda r: dict(member_id=_full_member(r),
                                                              org_id=r.id(_pb().PartyOrg, _pb().PartyOrg.kind == "branch",
                                                                          order=_pb().PartyOrg.id.desc())),
    "plugins.partybuilding.services.record_meeting": lambda r: dict(org_id=_branch(r), kind="lecture", held_on=r.today,
                                                                    topic="回滚党课"),
    "plugins.partybuilding.services.payments": lambda r: dict(start="2026-01", end="2026-12"),
    "plugins.partybuilding.services.record_payment": lambda r: dict(member_id=_full_member(r), month="2031-01"),
    "plugins.partybuilding.services.record_payments": lambda r: dict(member_ids=[_full_member(r)], month="2031-01"),
    "plugins.partybuilding.services.register_incoming": lambda r: dict(
        org_id=_branch(r), origin="外省某党委", letter_number="RB-001", name="回滚转入党员",
        id_number=_id_number(951), stage="full", applied_on=dt.date(2009, 3, 1),
        activist_on=dt.date(2009, 9, 1), candidate_on=dt.date(2010, 3, 1), admitted_on=dt.date(2010, 7, 1),
        full_on=dt.date(2011, 7, 1)),
    "plugins.partybuilding.services.set_households": lambda r: dict(org_id=_branch(r, "household"),
                                                                    households=["回滚户"]),
    "plugins.partybuilding.services.set_meeting_rule": lambda r: dict(kind="lecture", period="quarter", min_count=2),
    "plugins.partybuilding.services.set_status": lambda r: dict(member_id=_full_member(r), status="suspended",
                                                                reason="回滚"),
    "plugins.partybuilding.services.update_committee": lambda r: dict(
        org_id=_branch(r), has_committee=True, committee_size=3, elected_on=r.today),
    "plugins.partybuilding.services.update_member": lambda r: dict(member_id=_full_member(r), phone="13900008888"),
    "plugins.partybuilding.services.link_household": lambda r: dict(
        org_id=_branch(r, "household"), record_kind="grid.household",
        record_id=r.id(_gr().Household, order=_gr().Household.id.desc()), label="回滚户"),
    "plugins.volunteer.services.add_member": lambda r: dict(
        volunteer_id=r.id(_vo().Volunteer, _vo().Volunteer.active.is_(True), _vo().Volunteer.id.not_in(
            select(_vo().TeamMembership.volunteer_id).where(_vo().TeamMembership.team_id == r.id(_vo().Team)))),
        team_id=r.id(_vo().Team)),
    "plugins.volunteer.services.cancel_enrolment": lambda r: dict(attendance_id=_attendance(r, "enrolled").id),
    "plugins.volunteer.services.close_activity": lambda r: dict(activity_id=_open_activity(r).id),
    "plugins.volunteer.services.correct_times": lambda r: dict(
        attendance_id=_attendance(r, "signed_out").id, reason="补录更正",
        signed_in_at=_attendance(r, "signed_out").signed_in_at,
        signed_out_at=_attendance(r, "signed_out").signed_out_at - dt.timedelta(minutes=5)),
    "plugins.volunteer.services.create_activity": lambda r: dict(
        name="回滚活动", starts_at=r.now + dt.timedelta(days=3), ends_at=r.now + dt.timedelta(days=3, hours=2)),
    "plugins.volunteer.services.enrol": lambda r: dict(activity_id=_open_activity(r).id,
                                                       volunteer_id=_volunteer_not_in(r, _open_activity(r))),
    "plugins.volunteer.services.record_attendance": lambda r: dict(
        activity_id=_open_activity(r).id, volunteer_id=_volunteer_not_in(r, _open_activity(r)),
        signed_in_at=_as_utc(_open_activity(r).starts_at), signed_out_at=_as_utc(_open_activity(r).starts_at)
        + dt.timedelta(hours=1)),
    "plugins.volunteer.services.redeem": lambda r: _redeem_args(r),
    "plugins.volunteer.services.register_volunteer": lambda r: dict(name="回滚志愿者", id_number=_id_number(961)),
    "plugins.volunteer.services.reverse_attendance": lambda r: dict(
        attendance_id=r.id(_vo().Attendance, _vo().Attendance.status == "approved", _vo().Attendance.volunteer_id == (
            select(_vo().VolunteerAccount.volunteer_id).order_by(_vo().VolunteerAccount.points_balance.desc())
            .limit(1).scalar_subquery())), reason="重复计入"),
    "plugins.volunteer.services.sign_in": lambda r: dict(activity_id=_open_activity(r).id,
                                                         volunteer_id=_volunteer_not_in(r, _open_activity(r)),
                                                         at=_as_utc(_open_activity(r).starts_at)),
    "plugins.volunteer.services.update_activity": lambda r: dict(activity_id=_open_activity(r).id, place="回滚地点"),
    "plugins.volunteer.services.update_team": lambda r: dict(name="回滚后的队名"),
    "plugins.volunteer.services.update_volunteer": lambda r: dict(phone="13900007777"),
    "plugins.volunteer.services.set_active": lambda r: dict(active=False, reason="回滚"),
    "plugins.volunteer.services.set_item_active": lambda r: dict(active=False),
    "plugins.volunteer.services.approve": lambda r: dict(attendance_ids=[_attendance(r, "signed_out").id]),
    "plugins.volunteer.services.reject": lambda r: dict(attendance_ids=[_attendance(r, "signed_out").id],
                                                        reason="未按时到岗"),
    "plugins.volunteer.services.expire_points": lambda r: dict(as_of=r.today + dt.timedelta(days=365 * 5)),
    # --- core
    "shell.core.areas.close_area": lambda r: dict(area_id=r.grid, reason="回滚"),
    "shell.core.areas.create_area": lambda r: dict(name="回滚网格", level="grid", parent_id=r.community),
    "shell.core.auth.create_user": lambda r: dict(username="rollback_user", display_name="回滚用户",
                                                  password="Rollback2026", area_id=r.community),
    "shell.core.auth.reset_password": lambda r: dict(user_id=r.id(User, User.username != "admin"),
                                                     new_password="Rollback2026"),
    "shell.core.auth.save_role": lambda r: dict(name="rollback_role", title="回滚角色", codes=["grid.view"],
                                                known_codes=["grid.view"]),
    "shell.core.auth.update_user": lambda r: dict(user_id=r.id(User, User.username != "admin"), phone="13900006666"),
    "shell.core.settings.set_value": lambda r: dict(definition=_setting(), value=_setting().default + 1),
}


def _as_utc(value):
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# Services not called here, and why.
NOT_CALLED = {
    "plugins.grid.services.allowed_actions": "pure: takes a loaded event, reads and writes nothing",
    "plugins.grid.services.check_attachment_size": "pure: compares two numbers",
    "shell.core.auth.change_own_password": "needs the actor's own password; the superuser's is the demo's, "
                                           "its write is tested in tests/core/test_auth.py",
}
class Commits:
    """Did anything reach the database since the last look? Every COMMIT through SQLAlchemy, and on
    SQLite also what the driver commits on its own (``PRAGMA data_version`` on a connection of its
    own moves whenever another connection's write reaches the file). Cheap enough to ask after every
    call; the checksums then name what changed."""

    def __init__(self, db):
        self.engine, self.count = db.engine, 0
        self.raw = db.engine.raw_connection() if db.engine.dialect.name == "sqlite" else None
        self.version = self._version()
        event.listen(self.engine, "commit", self._commit)

    def _commit(self, _conn):
        self.count += 1

    def _version(self):
        if self.raw is None:
            return None
        cur = self.raw.cursor()
        cur.execute("PRAGMA data_version")
        value = cur.fetchone()[0]
        cur.close()
        return value

    def seen(self) -> bool:
        version = self._version()
        found = bool(self.count) or version != self.version
        self.count, self.version = 0, version
        return found

    def close(self):
        event.remove(self.engine, "commit", self._commit)
        if self.raw is not None:
            self.raw.close()


# Services the demo street gives no record to act on, so they refuse before writing, and why. A
# service given arguments in REAL_ARGS must not refuse them; one left to the generic arguments may
# (a new one, until it is given some), as long as MIN_WRITERS services still write.
REFUSED_HERE = {
    **{f"plugins.emergency.services.{f}": "the demo street has no stocktake"
       for f in ("cancel_stocktake", "post_stocktake", "record_count", "record_counts", "stocktake_lines",
                 "stocktake_sheet")},
    **{f"plugins.emergency.services.{f}": "every demo drill is already evaluated"
       for f in ("cancel_drill", "evaluate_drill", "record_drill_held")},
    "plugins.grid.services.attachment_data": "the demo street has no attachment",
    "plugins.grid.services.delete_attachment": "the demo street has no attachment",
    "plugins.partybuilding.services.unlink_household": "the demo street has no household link",
    "plugins.volunteer.services.sign_out": "no demo volunteer is signed in and not yet out",
    "plugins.partybuilding.services.move_org": "every demo 党小组 name recurs under every branch",
    "shell.core.areas.move_area": "every demo grid name recurs in every community",
    "shell.core.auth.delete_role": "the demo has only the preset roles, which cannot be deleted",
    # reads, given a dummy key: nothing to write either way
    "plugins.emergency.services.item_by_code": "a read",
    "plugins.emergency.services.suggest_fefo": "a read",
    "plugins.grid.services.find_household": "a read",
    "plugins.volunteer.services.find_by_number": "a read",
    "plugins.volunteer.services.latest_certificate_number": "a read",
}
# At least this many services must really write before the rollback (the test is not vacuous).
MIN_WRITERS = 110


def test_every_service_rolled_back_leaves_nothing(street):
    db, admin = street.db, street.admin
    statements: list[str] = []

    def watch(_conn, _cursor, statement, *_args):
        m = DML.match(statement)
        if m:
            statements.append(m.group(1))

    with db.session_factory() as s:
        refs = Refs(s)
        ids = _record_ids(s, street.sums.tables)
        areas = {"street": refs.street, "community": refs.community, "grid": refs.grid}
        given = {}
        for qualname, _fn in FUNCTIONS:
            if qualname in REAL_ARGS:
                given[qualname] = REAL_ARGS[qualname](refs)
        s.rollback()
    for table in (REAL_ARGS, NOT_CALLED, REFUSED_HERE):
        assert set(table) <= set(dict(FUNCTIONS)), f"no such service: {set(table) - set(dict(FUNCTIONS))}"
    assert not street.sums.changes(), "the database changed before the test"
    wrote, refused, problems = [], {}, []
    event.listen(db.engine, "before_cursor_execute", watch)
    commits = Commits(db)
    try:
        for qualname, fn in FUNCTIONS:
            if qualname in NOT_CALLED:
                continue
            plugin = qualname.split(".")[1] if qualname.startswith("plugins.") else "core"
            kwargs = _call_args(fn, plugin, ids, areas, given.get(qualname, {}))
            statements.clear()
            with db.session_factory() as s:   # a fresh session: the call is its first write
                try:
                    fn(ServiceContext(s, admin), **kwargs)
                    if s.new or s.dirty or s.deleted:
                        s.flush()
                except JiedaoError as exc:
                    refused[qualname] = exc.message
                except Exception as exc:  # noqa: BLE001 - dummy arguments may crash a service, real ones not
                    refused[qualname] = f"{type(exc).__name__}: {exc}"
                    if qualname in REAL_ARGS:
                        problems.append(f"{qualname}({kwargs}): {type(exc).__name__}: {exc}")
                finally:
                    s.rollback()
            tables = set(statements) - {"alembic_version"}
            if tables and qualname not in refused:
                wrote.append(qualname)
            if commits.seen():
                left = street.sums.changes(tables or None)
                problems.append(f"{qualname}: committed; " + ("; ".join(left) or "no table differs"))
    finally:
        commits.close()
        event.remove(db.engine, "before_cursor_execute", watch)
    problems += [f"(after all services) {c}" for c in street.sums.changes()]
    assert not problems, "rolled back, yet written:\n" + "\n".join(problems)
    built = {q: m for q, m in refused.items() if q in REAL_ARGS}
    assert not built, "refused the arguments built for them:\n" + "\n".join(f"{q}: {m}" for q, m in sorted(built.items()))
    assert len(wrote) >= MIN_WRITERS, (
        f"only {len(wrote)} of {len(FUNCTIONS)} services wrote before the rollback; refused without a reason in "
        "REFUSED_HERE (give them arguments in REAL_ARGS):\n"
        + "\n".join(f"{q}: {m}" for q, m in sorted(refused.items()) if q not in REFUSED_HERE))
