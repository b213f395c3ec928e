"""The bulk demo (``demo.seed_bulk``, the medium and large streets of issue 9) at small counts: every
ledger agrees with its stored balance entry by entry, the rules the services enforce hold in the
generated history too (per-person limits, stages of an attendance, certificate numbers), the same seed
on the same day gives the same rows, residents of the grid plugin's tables become volunteers, and the
activity list's counts use the (activity_id, status) index."""
from __future__ import annotations

import random
import re
from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select, text
from stdnum.cn import ric

from plugins.volunteer import services as sv
from plugins.volunteer.demo import seed_bulk
from plugins.volunteer.models import (
    Activity,
    Attendance,
    Certificate,
    Counter,
    HoursEntry,
    PointsEntry,
    RedemptionLine,
    RedemptionOrder,
    RewardItem,
    StockMove,
    TeamMembership,
    Volunteer,
    VolunteerAccount,
)
from shell.clock import LOCAL_TZ
from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database

from .conftest import id_number, seed_areas

TODAY = date(2026, 11, 22)
SMALL = dict(volunteers=240, attendances=2_400, today=TODAY)


def _seed(db, seed: int = 3, **kw) -> dict:
    with db.session_factory() as s:
        counts = seed_bulk(s, random.Random(seed), **{**SMALL, **kw})
        s.commit()
    return counts


@pytest.fixture
def bulk(vdb):
    seed_areas(vdb)
    counts = _seed(vdb)
    return vdb, counts


def test_bulk_seed_ledgers_agree_entry_by_entry(bulk):
    db, counts = bulk
    assert counts["volunteer_volunteers"] == 240 and counts["volunteer_points_ledger"] > 2_000
    with db.session_factory() as s:
        assert sv.check_consistency(s) == []
        balance, minutes = defaultdict(int), defaultdict(int)
        for vid, points, after in s.execute(select(PointsEntry.volunteer_id, PointsEntry.points,
                                                   PointsEntry.balance_after).order_by(PointsEntry.id)):
            balance[vid] += points
            assert after == balance[vid] >= 0
        for vid, m, after in s.execute(select(HoursEntry.volunteer_id, HoursEntry.minutes, HoursEntry.balance_after)
                                       .order_by(HoursEntry.id)):
            minutes[vid] += m
            assert after == minutes[vid]
        for vid, points, mins in s.execute(select(VolunteerAccount.volunteer_id, VolunteerAccount.points_balance,
                                                  VolunteerAccount.approved_minutes)):
            assert (points, mins) == (balance[vid], minutes[vid])
        stock = defaultdict(int)
        for iid, qty, after in s.execute(select(StockMove.item_id, StockMove.quantity, StockMove.stock_after)
                                         .order_by(StockMove.id)):
            stock[iid] += qty
            assert after == stock[iid] >= 0
        assert dict(s.execute(select(RewardItem.id, RewardItem.stock)).all()) == {k: v for k, v in stock.items()}
        # Ledger ids follow time, as if each entry had been written when it happened.
        ats = list(s.scalars(select(PointsEntry.at).order_by(PointsEntry.id)))
        assert ats == sorted(ats)


def test_bulk_seed_follows_the_services_rules(bulk):
    db, _counts = bulk
    with db.session_factory() as s:
        # One hours entry and one earn entry per approved attendance, with its minutes and points.
        approved = {a.id: a for a in s.scalars(select(Attendance).where(Attendance.status == "approved"))}
        hours = {h.attendance_id: h for h in s.scalars(select(HoursEntry))}
        earn = {p.attendance_id: p for p in s.scalars(select(PointsEntry).where(PointsEntry.kind == "earn"))}
        assert approved and set(hours) == set(approved) == set(earn)
        acts = {a.id: a for a in s.scalars(select(Activity))}
        for att in approved.values():
            a = acts[att.activity_id]
            raw, credited = sv.compute_minutes(att.signed_in_at, att.signed_out_at, a.cap_minutes)
            assert (att.raw_minutes, att.minutes) == (raw, credited)
            assert hours[att.id].minutes == credited
            assert earn[att.id].points == att.points == sv.points_for(credited, a.points_per_hour)
            assert hours[att.id].service_date == att.signed_in_at.astimezone(LOCAL_TZ).date()
            assert att.approved_at > att.signed_out_at > att.signed_in_at
        # Stages by the activity's date: upcoming → enrolled; last week → waiting; older → decided.
        for att in s.scalars(select(Attendance)):
            day = acts[att.activity_id].starts_at.astimezone(LOCAL_TZ).date()
            if day >= TODAY:
                assert att.status == "enrolled" and acts[att.activity_id].status == "open"
            elif day >= TODAY - timedelta(days=7):
                assert att.status == "signed_out"
            else:
                assert att.status in ("approved", "rejected", "cancelled")
                assert acts[att.activity_id].status == "closed"
        # Orders: lines priced as the catalogue, stock moved per line, cancelled ones refunded.
        prices = dict(s.execute(select(RewardItem.id, RewardItem.points_price)).all())
        lines = defaultdict(list)
        for ln in s.scalars(select(RedemptionLine)):
            lines[ln.order_id].append(ln)
        for o in s.scalars(select(RedemptionOrder)):
            assert lines[o.id] and o.total_points == sum(ln.quantity * prices[ln.item_id] for ln in lines[o.id])
            kinds = sorted(s.scalars(select(PointsEntry.kind).where(PointsEntry.order_id == o.id)))
            assert kinds == (["redeem", "refund"] if o.status == "cancelled" else ["redeem"])
            assert s.scalar(select(func.count()).select_from(StockMove).where(StockMove.order_id == o.id)) == \
                len(lines[o.id]) * (2 if o.status == "cancelled" else 1)
        # Per-person limits (month / year) hold over the history.
        taken = defaultdict(int)
        limits = {i.id: (i.per_person_limit, i.limit_period) for i in s.scalars(select(RewardItem))}
        for vid, at, iid, qty in s.execute(select(RedemptionOrder.volunteer_id, RedemptionOrder.at,
                                                  RedemptionLine.item_id, RedemptionLine.quantity)
                                           .join(RedemptionLine, RedemptionLine.order_id == RedemptionOrder.id)
                                           .where(RedemptionOrder.status == "done")):
            limit, period = limits[iid]
            if limit:
                local = at.astimezone(LOCAL_TZ)
                key = (vid, iid, local.year, local.month if period == "month" else 0)
                taken[key] += qty
                assert taken[key] <= limit, key
        # People: valid, unique ID numbers, sex and birth date as the number says, one account each.
        vols = list(s.scalars(select(Volunteer)))
        assert len({v.id_number for v in vols}) == len(vols)
        for v in vols:
            assert ric.is_valid(v.id_number)
            assert v.birth_date == date(int(v.id_number[6:10]), int(v.id_number[10:12]), int(v.id_number[12:14]))
            assert v.gender == ("男" if int(v.id_number[16]) % 2 else "女")
            assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", v.name) and v.initials
            assert v.registered_on <= TODAY
        assert s.scalar(select(func.count()).select_from(VolunteerAccount)) == len(vols)
        assert all(m.joined_on >= s.get(Volunteer, m.volunteer_id).registered_on
                   for m in s.scalars(select(TeamMembership)))
        numbers = list(s.scalars(select(Certificate.number)))
        assert len(set(numbers)) == len(numbers)
        assert s.scalar(select(Counter.value).where(Counter.name == "volunteer_number")) == len(vols)
        # The services carry on where the demo stopped: the next volunteer gets the next number.
        ctx = ServiceContext(s, Actor.system())
        community = vols[0].area_id
        v = sv.register_volunteer(ctx, name="新来者", id_number=id_number("19491231", 2, "110105"), area_id=community)
        assert v.number == f"ZY{len(vols) + 1:07d}"
        # Stars follow approved hours: the distribution counts every active volunteer once.
        assert sum(n for _label, n in sv.star_distribution(ctx)) == \
            s.scalar(select(func.count()).select_from(Volunteer).where(Volunteer.active.is_(True)))
        s.rollback()


def _dump(db) -> dict[str, list[tuple]]:
    tables = ("volunteer_volunteers", "volunteer_accounts", "volunteer_teams", "volunteer_team_members",
              "volunteer_activities", "volunteer_attendances", "volunteer_hours_ledger", "volunteer_points_ledger",
              "volunteer_reward_items", "volunteer_redemptions", "volunteer_redemption_lines",
              "volunteer_stock_moves", "volunteer_certificates", "volunteer_counters")
    out = {}
    with db.engine.connect() as conn:
        for t in tables:
            result = conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))
            keep = [i for i, c in enumerate(result.keys()) if c not in ("created_at", "updated_at")]
            out[t] = [tuple(row[i] for i in keep) for row in result]
    return out


def test_bulk_seed_is_deterministic(vol_template, tmp_path, vpm):
    import shutil

    dumps = []
    for k in range(2):
        path = tmp_path / f"run{k}.sqlite"
        shutil.copy(vol_template, path)
        db = open_database(path, pm=vpm, backup=False)
        seed_areas(db)
        _seed(db, seed=11, volunteers=120, attendances=1_000)
        dumps.append(_dump(db))
        db.dispose()
    assert dumps[0] == dumps[1]
    assert len(dumps[0]["volunteer_points_ledger"]) > 500


def test_bulk_seed_takes_volunteers_from_the_residents(vol_sqlite):
    """With the grid plugin's residents in the database (read by plain SQL, no grid import), most
    volunteers are residents of their community: same name, ID number and phone."""
    _street, (c1, _p1), (c2, _p2) = seed_areas(vol_sqlite)
    rng = random.Random(5)
    residents = []
    with vol_sqlite.engine.begin() as conn:
        conn.execute(text("CREATE TABLE grid_persons (id INTEGER PRIMARY KEY, area_id INTEGER, status TEXT, "
                          "id_type TEXT, id_number TEXT, name TEXT, sex TEXT, birth_date DATE, phone TEXT, "
                          "current_address TEXT)"))
        for k in range(1, 2001):
            birth = date(1950 + k % 50, 1 + k % 12, 1 + k % 28)
            body = f"330122{birth:%Y%m%d}{k % 1000:03d}"      # 桐庐县: valid for any birth year
            idn = body + ric.calc_check_digit(body + "0")
            if idn in {r[0] for r in residents}:
                continue
            name = "居民" + "甲乙丙丁戊己庚辛"[k % 8]
            sex = "男" if int(idn[16]) % 2 else "女"
            residents.append((idn, name))
            conn.execute(text("INSERT INTO grid_persons VALUES (:id, :area, 'active', '111', :idn, "
                              ":name, :sex, :birth, :phone, '幸福苑 1 幢')"),
                         dict(id=k, area=c1 if k % 2 else c2, idn=idn, name=name, sex=sex, birth=birth,
                              phone=f"139{k:08d}"))
    with vol_sqlite.session_factory() as s:
        seed_bulk(s, rng, volunteers=200, attendances=1_000, today=TODAY)
        s.commit()
        known = dict(residents)
        vols = list(s.execute(select(Volunteer.id_number, Volunteer.name, Volunteer.phone)))
        from_grid = [v for v in vols if v[0] in known]
        assert len(from_grid) >= 0.5 * len(vols)
        assert all(known[idn] == name and phone.startswith("139") for idn, name, phone in from_grid)


def _captured(db, fn) -> list[tuple[str, object]]:
    captured = []

    def capture(_conn, _cursor, statement, params, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return captured


def test_activity_list_counts_use_the_activity_status_index(bulk):
    """v0003: the per-activity counts of the activity list (enrolled, waiting for approval) search
    (activity_id, status); before, 'waiting' walked every signed-out record for each listed activity."""
    db, _counts = bulk
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        captured = _captured(db, lambda: sv.activity_rows(ctx, limit=200))
        statement, params = next((st, p) for st, p in captured if "volunteer_attendances" in st)
        conn = s.connection()
        if db.is_sqlite:
            plan = " | ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
            assert plan.count("ix_volunteer_attendances_activity_status") == 2, plan
            assert "ix_volunteer_attendances_status" not in plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, params))
            assert "ix_volunteer_attendances_activity_status" in plan, plan
            assert "Seq Scan on volunteer_attendances" not in plan
        rows, total = sv.activity_rows(ctx, limit=200)
        assert total == s.scalar(select(func.count()).select_from(Activity)) and len(rows) == min(200, total)
        a = rows[0]
        assert a.enrolled == s.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.activity_id == a.activity_id, Attendance.status != "cancelled"))


def test_redemption_ledger_lists_every_order_with_its_items(bulk):
    """积分兑换台账 reads plain rows (no ORM objects): every order of the period once, its items as
    text, cancelled ones with their reason."""
    from plugins.volunteer.ledgers import build_redemptions

    db, _counts = bulk
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        first, last = s.execute(select(func.min(RedemptionOrder.at), func.max(RedemptionOrder.at))).one()
        spec = build_redemptions(ctx, {"month_from": first.astimezone(LOCAL_TZ).date().replace(day=1),
                                       "month_to": last.astimezone(LOCAL_TZ).date().replace(day=1)})
        rows = list(spec.rows)
        orders = {o.id: o for o in s.scalars(select(RedemptionOrder))}
        assert [r[0] for r in rows] == sorted(orders)
        names = dict(s.execute(select(RewardItem.id, RewardItem.name)).all())
        for oid, _at, _name, _number, items, total, status, _handler in rows:
            o = orders[oid]
            assert items == "；".join(f"{names[ln.item_id]}×{ln.quantity}" for ln in o.lines)
            assert total == o.total_points
            assert status.startswith("已撤销（") == (o.status == "cancelled")


def test_activities_page_lists_the_newest_and_counts_all(bulk, qtbot, monkeypatch):
    from plugins.volunteer.views.activities import ActivitiesPage
    from shell.core.context import AppContext

    from .conftest import make_pm

    db, _counts = bulk
    monkeypatch.setattr(ActivitiesPage, "LIMIT", 25)
    page = ActivitiesPage(AppContext(db.session_factory, Actor.system(), make_pm()))
    qtbot.addWidget(page)
    with db.session_factory() as s:
        total = s.scalar(select(func.count()).select_from(Activity))
        newest = list(s.scalars(select(Activity.id).order_by(Activity.starts_at.desc(), Activity.id.desc()).limit(25)))
    assert [r.activity_id for r in page.rows] == newest and page.table.rowCount() == 25
    assert page.count_label.text() == f"共 {total} 个活动，列出最近 25 个（可按队伍、日期筛选）"


def test_search_forms_find_the_volunteer_and_use_indexes(bulk):
    """Each way of typing a volunteer finds them; a whole ID number, ID/phone prefixes, initials and
    志愿者编号 are served by an index (v0004 on PostgreSQL, GLOB on SQLite); short digit fragments
    and parts of a name scan the volunteer table by design."""
    db, _counts = bulk
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        v = s.scalar(select(Volunteer).where(Volunteer.phone.like("1%")).order_by(Volunteer.id).offset(7).limit(1))
        forms = {"id": (v.id_number, True), "id_prefix": (v.id_number[:10], True),
                 "id_tail": (v.id_number[-7:-1], False), "phone": (v.phone, True), "phone_prefix": (v.phone[:7], True),
                 "number": (v.number, True), "number_digits": (v.number[2:], True),
                 "initials": (v.initials.upper(), True), "name": (v.name[1:], False)}
        conn = s.connection()
        if not db.is_sqlite:
            conn.exec_driver_sql("SET enable_seqscan = off")
        for label, (term, indexed) in forms.items():
            captured = _captured(db, lambda: sv.search_volunteers(ctx, term, limit=50))
            assert v.id in [x.id for x in sv.list_volunteers(ctx, term, limit=5000)], label
            statement, params = captured[-1]
            if db.is_sqlite:
                plan = " | ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
                scans = "SCAN volunteer_volunteers" in plan
            else:
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, params))
                scans = "Seq Scan on volunteer_volunteers" in plan or (
                    "volunteer_volunteers" in plan and "Index Cond" not in plan and "Recheck Cond" not in plan)
            assert scans != indexed, (label, plan)
        s.rollback()
