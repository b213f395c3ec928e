"""Benchmark: the volunteer plugin at street scale (issue 5's performance targets, for orientation;
not a timed test).

    .venv/bin/python benchmarks/volunteer.py                     # 20,000 volunteers, 300,000 point entries, SQLite
    .venv/bin/python benchmarks/volunteer.py --url postgresql+psycopg://postgres@127.0.0.1:5432/jd_vol_bench
    .venv/bin/python benchmarks/volunteer.py --tiny              # smoke run (a few seconds)

The data are written with bulk inserts (SQLAlchemy Core executemany) and are consistent by
construction: every volunteer's points ledger carries running balances that end at the stored
balance; approved attendances have their hours entries and earn entries; redemptions have their
order, line and stock move. Measured:

- the volunteer card (``views.volunteers.load_card``: card, hours and points history) — target < 100 ms;
- the monthly statistics: 志愿服务时长统计表 by month (the report builder, rows consumed) and the
  dashboard's hours / points per month — target < 1 s each;
- redemption throughput with N concurrent clients (threads, each with its own connection and
  transactions through ``services.run_with_retry``) against a pool of volunteers and items, then a
  hot spot (all clients on one volunteer and one item until the points run out) — afterwards the
  anomaly check: ledger sum == stored balance and last ``balance_after`` == balance for every
  volunteer, stock == sum of its moves for every item, orders == redeem entries, nothing negative.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志文斌慧宁海燕春梅晨欣怡子轩浩然雨涵梓萱俊杰晓东丹凤振华淑珍秀英德明"
BATCH = 10_000


def build(db, volunteers: int, entries: int, communities: int, rng: random.Random) -> dict:
    """Areas through the services, everything else with bulk inserts. Returns a few ids for the runs."""
    from sqlalchemy import insert, select
    from stdnum.cn import ric

    from plugins.volunteer.models import (Activity, Attendance, HoursEntry, PointsEntry, RedemptionLine,
                                          RedemptionOrder, RewardItem, StockMove, Team, Volunteer, VolunteerAccount)
    from shell.core.areas import create_area
    from shell.core.context import Actor, ServiceContext
    from shell.text import pinyin_initials

    def put(session, model, rows):
        for k in range(0, len(rows), BATCH):
            session.execute(insert(model), rows[k:k + BATCH])

    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = create_area(ctx, "青石街道", "street")
        area_ids = [create_area(ctx, f"社区{c + 1:02d}", "community", street.id).id for c in range(communities)]
        s.commit()

    now = datetime.now(timezone.utc).replace(microsecond=0)
    start = now - timedelta(days=365)
    with db.session_factory() as s:
        # Volunteers and their accounts.
        seen, vrows = set(), []
        initials_cache = {}
        for i in range(volunteers):
            while True:
                birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 55 * 365))
                body = f"330102{birth:%Y%m%d}{rng.randrange(1000):03d}"
                number = body + ric.calc_check_digit(body + "0")
                if number not in seen:
                    seen.add(number)
                    break
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            if name not in initials_cache:
                initials_cache[name] = pinyin_initials(name)
            vrows.append(dict(area_id=area_ids[i % communities], number=f"ZY{i + 1:07d}", name=name,
                              initials=initials_cache[name], gender="男" if int(number[16]) % 2 else "女",
                              birth_date=birth, id_type="111", id_number=number,
                              phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}", skills="助老陪护",
                              address="", registered_on=birth + timedelta(days=18 * 365), active=True,
                              inactive_reason="", notes="", version_id=1, created_at=now, updated_at=now))
        put(s, Volunteer, vrows)
        vids = list(s.scalars(select(Volunteer.id).order_by(Volunteer.id)))
        area_of = {vid: vrows[k]["area_id"] for k, vid in enumerate(vids)}

        # Teams, a store per community, activities over the last year.
        put(s, Team, [dict(area_id=a, name=f"志愿服务队{t + 1}", leader_name="", phone="", description="", active=True,
                           version_id=1, created_at=now, updated_at=now) for a in area_ids for t in range(3)])
        teams = {}
        for tid, aid in s.execute(select(Team.id, Team.area_id)):
            teams.setdefault(aid, []).append(tid)
        put(s, RewardItem, [dict(area_id=a, name=f"物品{k + 1}", unit="件", points_price=p, stock=0, per_person_limit=0,
                                 limit_period="none", active=True, version_id=1, created_at=now, updated_at=now)
                            for a in area_ids for k, p in enumerate((3, 5, 10, 20))])
        items = {}
        for iid, aid, price in s.execute(select(RewardItem.id, RewardItem.area_id, RewardItem.points_price)):
            items.setdefault(aid, []).append((iid, price))
        n_act = max(20, entries // 300)
        act_rows = []
        for k in range(n_act):
            at = start + timedelta(days=rng.randrange(0, 360), hours=rng.choice((1, 2, 6, 7)))
            aid = area_ids[k % communities]
            act_rows.append(dict(area_id=aid, team_id=rng.choice(teams[aid]), name=f"志愿活动{k + 1}", organiser="",
                                 starts_at=at, ends_at=at + timedelta(hours=3), place="社区", target="居民", content="服务",
                                 leader_name="", recorder_name="", capacity=None, cap_minutes=120, points_per_hour=10,
                                 status="closed", version_id=1, created_at=now, updated_at=now))
        put(s, Activity, act_rows)
        acts = {}
        for act_id, aid, at in s.execute(select(Activity.id, Activity.area_id, Activity.starts_at)):
            acts.setdefault(aid, []).append((act_id, at))

        # Per volunteer: about 2/3 of the entries are earnings from approved attendances, 1/3 redemptions.
        per = max(2, entries // volunteers)
        att_rows, plan = [], []
        for vid in vids:
            choices = acts[area_of[vid]]
            picked = rng.sample(choices, min(len(choices), max(1, per * 2 // 3)))
            for act_id, at in sorted(picked, key=lambda x: x[1]):
                minutes = rng.randrange(60, 181)
                credited = min(minutes, 120)
                att_rows.append(dict(activity_id=act_id, volunteer_id=vid, status="approved", enrolled_at=at,
                                     signed_in_at=at, signed_out_at=at + timedelta(minutes=minutes),
                                     minutes=credited, raw_minutes=minutes, points=credited * 10 // 60, quality="良好",
                                     approved_by=None, approved_at=at + timedelta(days=1), note="", version_id=1,
                                     created_at=at, updated_at=at))
            plan.append((vid, per - len(picked)))
        put(s, Attendance, att_rows)
        atts = {}
        for att_id, vid, act_at, minutes in s.execute(
                select(Attendance.id, Attendance.volunteer_id, Attendance.signed_in_at, Attendance.minutes)
                .order_by(Attendance.volunteer_id, Attendance.signed_in_at)):
            atts.setdefault(vid, []).append((att_id, act_at, minutes))

        # Orders first (their ids are needed by the ledger), then hours, points and stock moves.
        order_rows, events = [], {}
        for vid, n_redeem in plan:
            evs = [("earn", at + timedelta(days=1), att_id, m) for att_id, at, m in atts.get(vid, [])]
            for _ in range(n_redeem):
                evs.append(("redeem", start + timedelta(days=rng.randrange(1, 364), hours=rng.randrange(0, 10)), None, 0))
            evs.sort(key=lambda e: e[1])
            events[vid] = evs
        hours_rows, point_rows, pending_orders = [], [], []
        for vid, evs in events.items():
            balance = minutes_total = 0
            for kind, at, att_id, minutes in evs:
                if kind == "earn":
                    pts = minutes * 10 // 60
                    minutes_total += minutes
                    hours_rows.append(dict(volunteer_id=vid, at=at, service_date=(at - timedelta(days=1)).date(),
                                           kind="approve", minutes=minutes, balance_after=minutes_total,
                                           attendance_id=att_id, reverses_id=None, reason="审核计入", created_by=None))
                    balance += pts
                    point_rows.append(dict(volunteer_id=vid, at=at, kind="earn", points=pts, balance_after=balance,
                                           attendance_id=att_id, order_id=None, reverses_id=None, reason="服务积分",
                                           created_by=None))
                else:
                    affordable = [(iid, p) for iid, p in items[area_of[vid]] if p <= balance]
                    if not affordable:
                        # Nothing affordable: a small adjustment keeps the number of entries.
                        balance += 1
                        point_rows.append(dict(volunteer_id=vid, at=at, kind="adjust", points=1, balance_after=balance,
                                               attendance_id=None, order_id=None, reverses_id=None, reason="活动奖励",
                                               created_by=None))
                        continue
                    iid, price = rng.choice(affordable)
                    balance -= price
                    pending_orders.append(len(point_rows))
                    point_rows.append(dict(volunteer_id=vid, at=at, kind="redeem", points=-price, balance_after=balance,
                                           attendance_id=None, order_id=None, reverses_id=None, reason="爱心超市兑换",
                                           created_by=None, _item=iid))
                    order_rows.append(dict(volunteer_id=vid, area_id=area_of[vid], at=at, total_points=price,
                                           status="done", handled_by=None, cancelled_at=None, cancel_reason=""))
        put(s, RedemptionOrder, order_rows)
        order_ids = list(s.scalars(select(RedemptionOrder.id).order_by(RedemptionOrder.id)))
        line_rows, move_rows, redeemed = [], [], {}
        for oid, idx in zip(order_ids, pending_orders):
            row = point_rows[idx]
            iid = row.pop("_item")
            row["order_id"] = oid
            line_rows.append(dict(order_id=oid, item_id=iid, quantity=1, points_price=-row["points"]))
            redeemed[iid] = redeemed.get(iid, 0) + 1
        # Stock: an opening stock-in large enough, then one move per redemption, running stock after each.
        stock = {}
        for aid, lst in items.items():
            for iid, _p in lst:
                stock[iid] = redeemed.get(iid, 0) + 1000
                move_rows.append(dict(item_id=iid, at=start, kind="in", quantity=stock[iid], stock_after=stock[iid],
                                      order_id=None, reason="期初入库", created_by=None))
        for line, oid in zip(line_rows, order_ids):
            iid = line["item_id"]
            stock[iid] -= 1
            move_rows.append(dict(item_id=iid, at=start, kind="redeem", quantity=-1, stock_after=stock[iid],
                                  order_id=oid, reason="兑换", created_by=None))
        put(s, RedemptionLine, line_rows)
        put(s, HoursEntry, hours_rows)
        put(s, PointsEntry, point_rows)
        put(s, StockMove, move_rows)
        minutes_of, points_of = {}, {}
        for r in hours_rows:
            minutes_of[r["volunteer_id"]] = r["balance_after"]
        for r in point_rows:
            points_of[r["volunteer_id"]] = r["balance_after"]
        put(s, VolunteerAccount, [dict(volunteer_id=v, points_balance=points_of.get(v, 0),
                                       approved_minutes=minutes_of.get(v, 0)) for v in vids])
        items_table = RewardItem.__table__
        from sqlalchemy import bindparam, update

        s.execute(update(items_table).where(items_table.c.id == bindparam("iid")).values(stock=bindparam("st")),
                  [dict(iid=i, st=st) for i, st in stock.items()])
        s.commit()
    return dict(volunteers=vids, points=len(point_rows), hours=len(hours_rows), orders=len(order_ids),
                items=items, area_ids=area_ids, area_of=area_of)


def anomalies(db) -> list[str]:
    """Whole-database checks in a few aggregate queries (services.check_consistency per volunteer is
    for tests; here 20,000 volunteers are checked at once)."""
    from sqlalchemy import func, select

    from plugins.volunteer.models import (HoursEntry, PointsEntry, RedemptionOrder, RewardItem, StockMove,
                                          VolunteerAccount)

    out = []
    with db.session_factory() as s:
        ledger = (select(PointsEntry.volunteer_id, func.sum(PointsEntry.points).label("n"),
                         func.max(PointsEntry.id).label("last")).group_by(PointsEntry.volunteer_id).subquery())
        rows = s.execute(select(VolunteerAccount.volunteer_id, VolunteerAccount.points_balance, ledger.c.n,
                                PointsEntry.balance_after)
                         .outerjoin(ledger, ledger.c.volunteer_id == VolunteerAccount.volunteer_id)
                         .outerjoin(PointsEntry, PointsEntry.id == ledger.c.last)).all()
        for vid, bal, total, last in rows:
            if bal != (total or 0) or (last is not None and last != bal) or bal < 0:
                out.append(f"志愿者 {vid}：余额 {bal}，台账合计 {total}，最后结余 {last}")
        hours = (select(HoursEntry.volunteer_id, func.sum(HoursEntry.minutes).label("n"))
                 .group_by(HoursEntry.volunteer_id).subquery())
        for vid, m, total in s.execute(select(VolunteerAccount.volunteer_id, VolunteerAccount.approved_minutes, hours.c.n)
                                       .outerjoin(hours, hours.c.volunteer_id == VolunteerAccount.volunteer_id)):
            if m != (total or 0) or m < 0:
                out.append(f"志愿者 {vid}：时长 {m}，台账合计 {total}")
        moves = select(StockMove.item_id, func.sum(StockMove.quantity).label("n")).group_by(StockMove.item_id).subquery()
        for iid, st, total in s.execute(select(RewardItem.id, RewardItem.stock, moves.c.n)
                                        .outerjoin(moves, moves.c.item_id == RewardItem.id)):
            if st != (total or 0) or st < 0:
                out.append(f"物品 {iid}：库存 {st}，出入库合计 {total}")
        negative = s.scalar(select(func.count()).select_from(PointsEntry).where(PointsEntry.balance_after < 0))
        if negative:
            out.append(f"{negative} 笔积分记录的结余为负")
        done = s.scalar(select(func.count()).select_from(RedemptionOrder).where(RedemptionOrder.status == "done"))
        redeem = s.scalar(select(func.count()).select_from(PointsEntry).where(PointsEntry.kind == "redeem"))
        refund = s.scalar(select(func.count()).select_from(PointsEntry).where(PointsEntry.kind == "refund"))
        if done != redeem - refund:
            out.append(f"已兑换单 {done} 张，兑换记录 {redeem} 笔，退回 {refund} 笔")
    return out


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def concurrent_redeem(db, clients: int, per_client: int, pairs: list[tuple[int, int]]) -> tuple[int, int, float]:
    """``clients`` threads, each its own sessions/connections, redeeming one unit of a random
    (volunteer, item) pair ``per_client`` times (busy retries inside ``run_with_retry``). Returns
    (succeeded, refused, seconds)."""
    from plugins.volunteer import services as sv
    from shell.core.context import Actor
    from shell.errors import JiedaoError

    ok = refused = 0
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(k: int) -> None:
        nonlocal ok, refused
        rng = random.Random(k)
        mine_ok = mine_refused = 0
        barrier.wait()
        for _ in range(per_client):
            vid, iid = rng.choice(pairs)
            try:
                sv.run_with_retry(db.session_factory, Actor.system(), lambda ctx: sv.redeem(ctx, vid, {iid: 1}).id,
                                  attempts=20)
                mine_ok += 1
            except JiedaoError:
                mine_refused += 1
        with lock:
            ok += mine_ok
            refused += mine_refused

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return ok, refused, time.perf_counter() - t


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--volunteers", type=int, default=20_000)
    p.add_argument("--entries", type=int, default=300_000, help="points ledger entries (about)")
    p.add_argument("--communities", type=int, default=20)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--redemptions", type=int, default=100, help="redemptions per client")
    p.add_argument("--url", help="an empty PostgreSQL database (default: a temporary SQLite file)")
    p.add_argument("--tiny", action="store_true")
    a = p.parse_args(argv)
    if a.tiny:
        a.volunteers, a.entries, a.communities, a.redemptions = 500, 5_000, 3, 10

    from sqlalchemy import func, select

    from plugins.volunteer import ledgers
    from plugins.volunteer import services as sv
    from plugins.volunteer.models import PointsEntry, Volunteer
    from shell.core.context import Actor, AppContext, ServiceContext
    from shell.core.database import open_database
    from shell.plugins import make_plugin_manager

    tmp = Path(tempfile.mkdtemp(prefix="jiedao-volunteer-bench-"))
    pm = make_plugin_manager(builtins=["plugins.volunteer"], entry_points=False)
    db = open_database(a.url or tmp / "bench.sqlite", pm=pm, backup=False)
    engine = "PostgreSQL" if db.url.get_backend_name() == "postgresql" else "SQLite"
    rng = random.Random(5)
    t = time.perf_counter()
    info = build(db, a.volunteers, a.entries, a.communities, rng)
    print(f"准备（{engine}）：{len(info['volunteers']):,} 名志愿者，{info['points']:,} 笔积分记录，"
          f"{info['hours']:,} 笔时长记录，{info['orders']:,} 张兑换单，用时 {time.perf_counter() - t:.1f} s（不计入）")
    if engine == "PostgreSQL":   # fresh statistics after the bulk load, as autovacuum would gather
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    problems = anomalies(db)
    assert not problems, problems[:5]

    results = []
    app = AppContext(db.session_factory, Actor.system(), pm)
    from plugins.volunteer.views.volunteers import load_card   # plain function; no QApplication needed

    sample = rng.sample(info["volunteers"], min(50, len(info["volunteers"])))
    load_card(app, sample[0])                                   # warm caches and the ORM compile cache
    times = []
    for vid in sample:
        t = time.perf_counter()
        card = load_card(app, vid)
        times.append(time.perf_counter() - t)
        assert card.points_rows
    results.append(("志愿者卡片打开（load_card，50 人）", f"中位 {statistics.median(times) * 1000:.1f} ms，"
                    f"最慢 {max(times) * 1000:.1f} ms", "< 100 ms"))

    year = datetime.now(timezone.utc).year
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        for label, fn in (
                ("志愿服务时长统计表（按月份）", lambda: list(ledgers.build_hours_stats(ctx, {"year": year, "group": "month"}).rows)),
                ("志愿服务时长统计表（按社区）", lambda: list(ledgers.build_hours_stats(ctx, {"year": year, "group": "community"}).rows)),
                ("首页：近 12 个月服务时长", lambda: sv.hours_by_month(ctx)),
                ("首页：近 12 个月积分获得与兑换", lambda: sv.points_by_month(ctx)),
                ("首页：星级分布", lambda: sv.star_distribution(ctx))):
            took = timed(fn, repeat=3)
            results.append((label, f"{took * 1000:.0f} ms", "< 1 s"))

    # Redemption throughput: N clients over 200 volunteers (topped up with an adjustment through the
    # service, so points do not run out) and the cheaper items of their store.
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        rich = rng.sample(info["volunteers"], min(200, len(info["volunteers"])))
        for v in rich:
            sv.adjust_points(ctx, v, 50 * a.redemptions, "期初积分（压测）")
        s.commit()
    pairs = [(v, iid) for v in rich for iid, price in info["items"][info["area_of"][v]] if price <= 5]
    with db.session_factory() as s:
        entries_before = s.scalar(select(func.count()).select_from(PointsEntry))
    ok, refused, took = concurrent_redeem(db, a.clients, a.redemptions, pairs)
    results.append((f"兑换吞吐（{a.clients} 个客户端并发，{len(rich)} 名志愿者）",
                    f"{ok / took:,.0f} 单/秒（成功 {ok}，拒绝 {refused}，{took:.1f} s）", "报告数值"))

    # Hot spot: every client on one volunteer and one item, twice as many attempts as points: the
    # balance runs out and nothing overspends.
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        hot = next(v for v in info["volunteers"] if v not in set(rich))
        item = sv.create_item(ctx, name="热点物品", area_id=info["area_of"][hot], points_price=1, stock=10_000)
        top_up = a.clients * a.redemptions // 2
        sv.adjust_points(ctx, hot, top_up, "期初积分（压测）")
        balance = sv.account(ctx, hot)[0]
        s.commit()
        item_id = item.id
    per = max(1, 2 * balance // a.clients)
    ok_hot, refused_hot, took_hot = concurrent_redeem(db, a.clients, per, [(hot, item_id)])
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        after = sv.account(ctx, hot)[0]
        stock = sv.current_stock(ctx, item_id)
    assert ok_hot == balance - after and stock == 10_000 - ok_hot and after >= 0, (ok_hot, balance, after, stock)
    results.append((f"热点兑换（{a.clients} 个客户端抢同一人同一物品）",
                    f"{ok_hot / took_hot:,.0f} 单/秒；余额 {balance} → {after}，成功 {ok_hot}，拒绝 {refused_hot}",
                    "不超兑"))
    problems = anomalies(db)
    with db.session_factory() as s:
        entries_after = s.scalar(select(func.count()).select_from(PointsEntry))
        volunteers = s.scalar(select(func.count()).select_from(Volunteer))
    assert entries_after - entries_before == ok + ok_hot + 1      # + the hot spot's top-up
    results.append(("异常核对（台账合计 = 余额，库存 = 出入库合计，无负数）",
                    "0 处异常" if not problems else f"{len(problems)} 处异常：{problems[:3]}", "0"))

    print()
    print(f"| 操作（{engine}，{volunteers:,} 名志愿者，{entries_after:,} 笔积分记录） | 结果 | 目标 |")
    print("|---|---|---|")
    for label, value, target in results:
        print(f"| {label} | {value} | {target} |")
    db.dispose()
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
