"""Benchmark: the volunteer plugin on a demo street (issue 9's targets).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/volunteer.py --db STREET.sqlite --json OUT.json
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/volunteer.py --scale small          # CI: a fresh small street
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/volunteer.py --url postgresql+psycopg://…

The street is the demo's (``jiedao demo --scale large``: 20,000 volunteers, about 300,000 point entries
over three years; the volunteer plugin's ``seed_bulk``). The benchmark works on a copy of a --db
street: the reads are measured first, then what writes (an attendance-sheet import, a certificate,
concurrent redemptions).

Measured, with the issue's targets:
- every list page's first page, by building the real page offscreen (志愿者, 志愿活动, 时长审核,
  志愿队伍, 爱心超市管理) and the 兑换 counter's volunteer search — < 100 ms;
- search by name, pinyin initials, 志愿者编号, ID number (whole, first digits, last six) and phone (whole,
  first seven) — the global search's query, and the 志愿者 page's filter (count + first page) — < 50 ms;
- the volunteer card (a sample, and the most active volunteer) — < 100 ms;
- statistics over a year (志愿服务时长统计表 by month / community / team, the dashboard's hours and
  points per month, star distribution, the store's stock ledger) — < 1 s; the three dashboard charts
  built as the 首页 builds them — < 1 s together;
- the longest GUI stall (``StallMonitor``) while an attendance sheet is imported from 数据导入导出, while
  the report centre generates the statistics, a redemption ledger and a certificate (the first report
  of the run reported apart: it loads the CJK font), and while the dashboard charts compute and draw
  (the first time apart: pyqtgraph's first plot) — < 100 ms;
- redemption throughput with concurrent clients, a hot spot (every client on one volunteer and one
  item until the points run out) and the anomaly check afterwards (ledger sum = stored balance, last
  balance_after = balance, stock = sum of moves, nothing negative, orders = redeem − refund entries).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    LIST,
    SEARCH,
    STALL,
    STAT,
    Results,
    StallMonitor,
    add_street_args,
    format_result,
    qt_app,
    street,
    street_scale,
    wait_until,
)

CARD = 0.1    # a card is a page's first screen
TILES = STAT  # the dashboard's figures


# -- the street --------------------------------------------------------------------------------------

def counts(db) -> dict[str, int]:
    from sqlalchemy import func, select

    from plugins.volunteer.models import Activity, Attendance, HoursEntry, PointsEntry, RedemptionOrder, StockMove, Volunteer

    with db.session_factory() as s:
        return {name: int(s.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in (("volunteers", Volunteer), ("activities", Activity), ("attendances", Attendance),
                                    ("hours_entries", HoursEntry), ("points_entries", PointsEntry),
                                    ("redemptions", RedemptionOrder), ("stock_moves", StockMove))}


def samples(db, rng: random.Random) -> dict:
    """Real values to search for and volunteers to open, read from the street."""
    from sqlalchemy import select

    from plugins.volunteer.models import Volunteer, VolunteerAccount

    with db.session_factory() as s:
        ids = list(s.scalars(select(Volunteer.id).where(Volunteer.active.is_(True)).order_by(Volunteer.id)))
        pick = s.get(Volunteer, ids[len(ids) // 2])
        busiest = s.scalar(select(VolunteerAccount.volunteer_id).order_by(VolunteerAccount.approved_minutes.desc(),
                                                                           VolunteerAccount.volunteer_id).limit(1))
        surname_given = pick.name
        # A two-letter initials prefix that many volunteers share (a realistic, not a lucky, query).
        prefixes = Counter(i[:2] for i in s.scalars(select(Volunteer.initials)) if len(i) >= 2)
        initials = prefixes.most_common(1)[0][0]
        return dict(ids=ids, card_sample=rng.sample(ids, min(50, len(ids))), busiest=busiest, name=surname_given,
                    surname=surname_given[0], initials=initials, number=pick.number, id_number=pick.id_number,
                    id_tail=pick.id_number[-7:-1], phone=pick.phone)


def app_context(db):
    from shell.core.context import Actor, AppContext
    from shell.plugins import make_plugin_manager

    return AppContext(db.session_factory, Actor.system(), make_plugin_manager(entry_points=False),
                      is_demo=True)


def _drain() -> None:
    from PySide6.QtCore import QCoreApplication

    QCoreApplication.processEvents()


def time_page(build, ready, repeat: int = 3) -> float:
    """Best of ``repeat``: build the page (its constructor loads the first page of rows, as the main
    window's first open does) and spin the event loop until ``ready(page)``."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        page = build()
        wait_until(lambda: ready(page), timeout=60, what="the first rows")
        best = min(best, time.perf_counter() - t)
        page.deleteLater()
        _drain()
    return best


# -- reads -------------------------------------------------------------------------------------------

def lists(res: Results, app, smp: dict) -> None:
    from plugins.volunteer.views.activities import ActivitiesPage
    from plugins.volunteer.views.approvals import ApprovalsPage
    from plugins.volunteer.views.counter import CounterPage
    from plugins.volunteer.views.store import StorePage
    from plugins.volunteer.views.teams import TeamsPage
    from plugins.volunteer.views.volunteers import VolunteersPage

    for key, label, build, ready in (
            ("volunteer.list.volunteers", "志愿者列表首页", lambda: VolunteersPage(app), lambda p: p.model.rowCount() > 0),
            ("volunteer.list.activities", "志愿活动列表首页", lambda: ActivitiesPage(app), lambda p: p.table.rowCount() > 0),
            ("volunteer.list.approvals", "时长审核队列首页", lambda: ApprovalsPage(app), lambda p: p.model.rowCount() > 0),
            ("volunteer.list.teams", "志愿队伍列表", lambda: TeamsPage(app), lambda p: p.teams.rowCount() > 0),
            ("volunteer.list.store", "爱心超市管理（物品与最近兑换）", lambda: StorePage(app),
             lambda p: p.items.rowCount() > 0 and p.orders_table.rowCount() > 0)):
        res.add(key, label, time_page(build, ready), target=LIST)
    page = CounterPage(app)
    res.time("volunteer.list.counter_picker", "兑换柜台查找志愿者（姓氏）", lambda: page.find(smp["surname"]),
             target=LIST, repeat=5)
    page.deleteLater()


def searches(res: Results, app, smp: dict) -> None:
    from plugins.volunteer import services as sv
    from plugins.volunteer.views.volunteers import VolunteersPage
    from shell.text import name_pinyin, name_syllables

    terms = (("name", "姓名", smp["name"]), ("initials", "拼音首字母", smp["initials"]),
             ("pinyin", "全拼", name_pinyin(smp["name"])), ("surname_pinyin", "姓的全拼", name_syllables(smp["name"])[0]),
             ("number", "志愿者编号", smp["number"]), ("id", "身份证号", smp["id_number"]),
             ("id_prefix", "身份证号前 10 位", smp["id_number"][:10]),
             ("id_tail", "身份证号后 6 位", smp["id_tail"]), ("phone", "电话", smp["phone"]),
             ("phone_prefix", "电话前 7 位", smp["phone"][:7]))
    for key, label, text in terms:
        def run(text=text):
            with app.service(commit=False) as ctx:
                assert sv.search_volunteers(ctx, text, limit=20), text
        res.time(f"volunteer.search.{key}", f"搜索：{label}（全局搜索）", run, target=SEARCH)
    page = VolunteersPage(app)
    for key, label, text in terms:
        res.time(f"volunteer.search.page_{key}", f"志愿者页筛选：{label}（计数+首页）",
                 lambda text=text: page.apply_search(text), target=SEARCH)
    page.deleteLater()


def cards(res: Results, app, smp: dict) -> None:
    from plugins.volunteer.views.volunteers import load_card

    load_card(app, smp["card_sample"][0])           # warm the ORM's compiled statements
    took = []
    for vid in smp["card_sample"]:
        t = time.perf_counter()
        load_card(app, vid)
        took.append(time.perf_counter() - t)
    took.sort()
    res.add("volunteer.card.median", f"志愿者卡片（{len(took)} 人中位数）", statistics.median(took), target=CARD)
    res.add("volunteer.card.p90", f"志愿者卡片（{len(took)} 人第 90 百分位）", took[int(len(took) * 0.9) - 1],
            target=CARD)
    res.time("volunteer.card.busiest", "志愿者卡片（服务最多的志愿者）", lambda: load_card(app, smp["busiest"]),
             target=CARD)


def stats(res: Results, app) -> None:
    from plugins.volunteer import ledgers
    from plugins.volunteer.views import dashboard

    last_year = date.today().year - 1
    month = date.today().replace(day=1)
    year_ago = date(month.year - 1, month.month, 1)

    def ledger(builder, params):
        def run():
            with app.service(commit=False) as ctx:
                list(builder(ctx, params).rows)
        return run

    for key, label, fn in (
            ("volunteer.stats.hours_by_month", f"时长统计表 {last_year} 年（按月份）",
             ledger(ledgers.build_hours_stats, {"year": last_year, "group": "month"})),
            ("volunteer.stats.hours_by_community", f"时长统计表 {last_year} 年（按社区）",
             ledger(ledgers.build_hours_stats, {"year": last_year, "group": "community"})),
            ("volunteer.stats.hours_by_team", f"时长统计表 {last_year} 年（按队伍）",
             ledger(ledgers.build_hours_stats, {"year": last_year, "group": "team"})),
            ("volunteer.stats.stock_year", "爱心超市库存台账（近 12 个月）",
             ledger(ledgers.build_stock, {"month_from": year_ago, "month_to": month})),
            ("volunteer.stats.hours_12m", "首页：近 12 个月服务时长", lambda: dashboard.load_hours(app)),
            ("volunteer.stats.points_12m", "首页：近 12 个月积分获得与兑换", lambda: dashboard.load_points(app)),
            ("volunteer.stats.stars", "首页：星级分布", lambda: dashboard.load_stars(app))):
        res.time(key, label, fn, target=STAT, repeat=3)


def tiles(res: Results, app) -> None:
    """The three charts as the 首页 builds them (figures on the pool, drawn on the GUI thread)."""
    from PySide6.QtWidgets import QWidget

    from plugins.volunteer.views import dashboard
    from shell.ui.widgets.charts import charts_pending

    best, stalls = float("inf"), []
    for _ in range(3):
        holder = QWidget()
        with StallMonitor() as mon:
            t = time.perf_counter()
            views = [dashboard.hours_chart(app, holder), dashboard.points_chart(app, holder),
                     dashboard.stars_chart(app, holder)]
            wait_until(lambda: all(v.data is not None for v in views) and not charts_pending(), timeout=120,
                       what="the dashboard charts")
            best = min(best, time.perf_counter() - t)
        stalls.append(mon.longest)
        holder.deleteLater()
        _drain()
    res.add("volunteer.dashboard.tiles", "首页三个图表（全部显示）", best, target=TILES)
    # The first time includes pyqtgraph's first plot in the process; later ones are a plot each.
    res.add("volunteer.stall.dashboard_first", "首页图表首次显示时界面最长卡顿", stalls[0], target=STALL,
            note="pyqtgraph 首次绘图（shell/ui/widgets/charts.py，界面线程）")
    res.add("volunteer.stall.dashboard", "首页图表再次显示时界面最长卡顿", min(stalls[1:]), target=STALL,
            note="每个图表在界面线程创建一个 pyqtgraph PlotWidget（shell/ui/widgets/charts.py）")


# -- writes (a copy of the street) -------------------------------------------------------------------

def attendance_sheet(app, folder: Path, rows: int) -> tuple[Path, int]:
    """An open activity today in the community with most volunteers and a sheet of ``rows``
    volunteers signing in and out (as typed from paper)."""
    from openpyxl import Workbook
    from sqlalchemy import func, select

    from plugins.volunteer import services as sv
    from plugins.volunteer.models import Volunteer
    from shell.clock import LOCAL_TZ

    with app.service() as ctx:
        area_id = ctx.session.scalar(select(Volunteer.area_id).where(Volunteer.active.is_(True))
                                     .group_by(Volunteer.area_id).order_by(func.count().desc()).limit(1))
        numbers = list(ctx.session.scalars(select(Volunteer.number).where(Volunteer.area_id == area_id,
                                                                        Volunteer.active.is_(True))
                                           .order_by(Volunteer.id).limit(rows)))
        day = datetime.now(LOCAL_TZ).date() - timedelta(days=1)
        start = datetime(day.year, day.month, day.day, 8, 30, tzinfo=LOCAL_TZ).astimezone(UTC)
        a = sv.create_activity(ctx, name="全民健身日志愿服务（压测）", area_id=area_id, starts_at=start,
                               ends_at=start + timedelta(hours=4), place="社区广场", content="秩序维护、引导")
        activity_id = a.id
    wb = Workbook()
    ws = wb.active
    ws.append(("活动编号", "志愿者编号", "姓名", "签到时间", "签退时间"))
    for k, number in enumerate(numbers):
        ws.append((activity_id, number, None, f"{day} 08:{25 + k % 10:02d}", f"{day} 12:{k % 40:02d}"))
    path = folder / "签到表.xlsx"
    wb.save(path)
    return path, len(numbers)


def gui_stalls(res: Results, app, folder: Path, busiest: int, sheet_rows: int) -> None:
    from PySide6.QtCore import QDate
    from sqlalchemy import select

    from plugins.volunteer.models import Volunteer
    from shell.ui.import_centre import ImportCentrePage
    from shell.ui.report_centre import ReportCentrePage

    # 数据导入导出 → 志愿活动签到表 → 从 Excel 导入 (the button's slot with the chosen file).
    path, n = attendance_sheet(app, folder, sheet_rows)
    page = ImportCentrePage(app)
    page.select_kind("volunteer-attendance")
    with StallMonitor() as mon:
        t = time.perf_counter()
        page.choose_and_import(path)
        wait_until(lambda: page.task is not None and page.task.is_finished, timeout=600, what="the import")
        took = time.perf_counter() - t
    result = page.last_result
    assert result is not None and result.ok and result.written == n, (result, n)
    res.add("volunteer.import.attendance", f"导入签到表（{n} 行）", took, note="数据导入导出页，线程池")
    res.add("volunteer.stall.import", "导入签到表时界面最长卡顿", mon.longest, target=STALL)
    page.deleteLater()

    # 报表中心: the statistics, a month of the redemption ledger, a certificate (生成并预览).
    month = date.today().replace(day=1)
    last_month = (month - timedelta(days=1)).replace(day=1)
    with app.service(commit=False) as ctx:
        number = ctx.session.scalar(select(Volunteer.number).where(Volunteer.id == busiest))
    centre = ReportCentrePage(app)
    reports = (("hours", f"时长统计表 {date.today().year - 1} 年（按月份）", "volunteer.hours",
                {"year": date.today().year - 1, "group": "month"}),
               ("redemptions", f"积分兑换台账（{last_month:%Y年%m月}）", "volunteer.redemptions",
                {"month_from": last_month, "month_to": last_month}),
               ("certificate", "志愿服务证明（服务最多的志愿者，近三年）", "volunteer.certificate",
                {"number": number, "date_from": date.today() - timedelta(days=3 * 365), "date_to": date.today()}))
    # Twice: the first report of a session also loads and parses the CJK font (ReportLab, on the pool,
    # but holding the GIL) and imports the renderers; the second pass is what every later report sees.
    first_stall = 0.0
    for rnd in (0, 1):
        for key, label, report, params in reports:
            assert centre.select_report(report), report
            for name, value in params.items():
                w = centre.editor(name)
                if hasattr(w, "set_value"):
                    w.set_value(value)
                elif hasattr(w, "setDate"):
                    w.setDate(QDate(value.year, value.month, value.day))
                elif hasattr(w, "setValue"):
                    w.setValue(value)
                elif hasattr(w, "findData"):
                    w.setCurrentIndex(w.findData(value))
                else:
                    w.setText(str(value))
            with StallMonitor() as mon:
                t = time.perf_counter()
                handle = centre.generate_preview()
                assert handle is not None, centre.error_label.text()
                wait_until(lambda: handle.is_finished, timeout=600, what=label)
                _drain()
                took = time.perf_counter() - t
            assert centre.last_result is not None and handle.error is None, (label, handle.error)
            if rnd == 0:
                first_stall = max(first_stall, mon.longest)
                continue
            res.add(f"volunteer.report.{key}", f"报表中心生成并预览：{label}（{centre.last_result.rows} 行）", took)
            res.add(f"volunteer.stall.report_{key}", f"生成{label}时界面最长卡顿", mon.longest, target=STALL)
    res.add("volunteer.stall.report_first", "本次运行首次生成报表时界面最长卡顿", first_stall, target=STALL,
            note="首次：线程池中加载中文字体（ReportLab TTFont）、导入渲染模块，分配大量对象触发整堆垃圾回收，均占用 GIL")
    centre.deleteLater()
    _drain()


def anomalies(db) -> list[str]:
    """Whole-database checks in a few aggregate queries (``services.check_consistency`` goes volunteer
    by volunteer; here the whole street is checked at once)."""
    from sqlalchemy import func, select

    from plugins.volunteer.models import HoursEntry, PointsEntry, RedemptionOrder, RewardItem, StockMove, VolunteerAccount

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


def concurrent_redeem(db, clients: int, per_client: int, pairs: list[tuple[int, int]]) -> tuple[int, int, float]:
    """``clients`` threads, each with its own sessions, redeeming one unit of a random (volunteer,
    item) pair ``per_client`` times (busy retries inside ``run_with_retry``). → (ok, refused, seconds)."""
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


def redemptions(res: Results, db, smp: dict, clients: int, per_client: int, rng: random.Random) -> list[str]:
    from sqlalchemy import func, select

    from plugins.volunteer import services as sv
    from plugins.volunteer.models import PointsEntry, RewardItem, Volunteer
    from shell.core.context import Actor, ServiceContext

    # N clients over 200 volunteers (topped up through the service so points do not run out) and the
    # cheaper items of their store without a per-person limit.
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        rich = rng.sample(smp["ids"], min(200, len(smp["ids"]) // 2))
        area_of = dict(s.execute(select(Volunteer.id, Volunteer.area_id).where(Volunteer.id.in_(rich))).all())
        cheap = {}
        for iid, aid, price in s.execute(select(RewardItem.id, RewardItem.area_id, RewardItem.points_price)
                                         .where(RewardItem.active.is_(True), RewardItem.per_person_limit == 0)):
            cheap.setdefault(aid, []).append((price, iid))
        top_price = 0
        pairs = []
        for v in rich:
            for price, iid in sorted(cheap.get(area_of[v], []))[:2]:
                pairs.append((v, iid))
                top_price = max(top_price, price)
        for v in rich:
            sv.adjust_points(ctx, v, top_price * per_client * clients, "期初积分（压测）")
        for _p, iid in {(0, iid) for _v, iid in pairs}:
            sv.stock_in(ctx, iid, clients * per_client, "压测备货")
        s.commit()
        entries_before = s.scalar(select(func.count()).select_from(PointsEntry))
    ok, refused, took = concurrent_redeem(db, clients, per_client, pairs)
    res.add("volunteer.redeem.throughput", f"兑换吞吐（{clients} 个客户端并发）", ok / took, unit="per s",
            note=f"成功 {ok}，拒绝 {refused}，{took:.1f} s")

    # Hot spot: every client on one volunteer and one item, twice as many attempts as points.
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        hot = next(v for v in smp["ids"] if v not in set(rich))
        hot_area = s.scalar(select(Volunteer.area_id).where(Volunteer.id == hot))
        item = sv.create_item(ctx, name=f"热点物品（压测 {datetime.now():%m%d%H%M%S}）", area_id=hot_area,
                              points_price=1, stock=10_000)
        sv.adjust_points(ctx, hot, clients * per_client // 2, "期初积分（压测）")
        balance = sv.account(ctx, hot)[0]
        s.commit()
        item_id = item.id
    per = max(1, 2 * balance // clients)
    ok_hot, refused_hot, took_hot = concurrent_redeem(db, clients, per, [(hot, item_id)])
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        after = sv.account(ctx, hot)[0]
        stock = sv.current_stock(ctx, item_id)
        entries_after = s.scalar(select(func.count()).select_from(PointsEntry))
    problems = []
    if not (ok_hot == balance - after and stock == 10_000 - ok_hot and after >= 0):
        problems.append(f"热点兑换超兑：成功 {ok_hot}，余额 {balance} → {after}，库存 {stock}")
    if entries_after - entries_before != ok + ok_hot + 1:     # + the hot spot's top-up
        problems.append(f"积分记录增加 {entries_after - entries_before}，应为 {ok + ok_hot + 1}")
    res.add("volunteer.redeem.hotspot", f"热点兑换（{clients} 个客户端抢同一人同一物品）", ok_hot / took_hot,
            unit="per s", note=f"余额 {balance} → {after}，成功 {ok_hot}，拒绝 {refused_hot}")
    t = time.perf_counter()
    problems += anomalies(db)
    res.add("volunteer.anomalies", "异常核对（台账 = 余额，库存 = 出入库合计，无负数）", len(problems), unit="count",
            target=1, note=f"全街道核对 {time.perf_counter() - t:.1f} s" + (f"：{problems[:3]}" if problems else ""))
    return problems


# -- main --------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_street_args(p)
    p.add_argument("--clients", type=int, default=None, help="concurrent redemption clients (8; small: 4)")
    p.add_argument("--redemptions", type=int, default=None, help="redemptions per client (100; small: 10)")
    p.add_argument("--sheet-rows", type=int, default=None, help="rows of the imported attendance sheet (300; small: 30)")
    a = p.parse_args(argv)
    qt_app()
    rng = random.Random(5)
    # One copy of the street serves reads and writes: the writes (an import, certificates, redemptions)
    # come after every read is measured, and a --scale street is built only once.
    with street(a, writes=True) as db, tempfile.TemporaryDirectory(prefix="jiedao-vol-bench-") as tmp:
        scale = street_scale(a, db)
        small = scale == "small"
        res = Results("volunteer", scale, "postgresql" if db.url.get_backend_name() == "postgresql" else "sqlite")
        res.info = counts(db)
        print(f"志愿服务（{res.engine}，{scale}）：" + "，".join(f"{k} {v:,}" for k, v in res.info.items()), flush=True)
        smp = samples(db, rng)
        app = app_context(db)
        lists(res, app, smp)
        searches(res, app, smp)
        cards(res, app, smp)
        stats(res, app)
        tiles(res, app)
        clients = a.clients or (4 if small else 8)
        per_client = a.redemptions or (10 if small else 100)
        sheet_rows = a.sheet_rows or (30 if small else 300)
        gui_stalls(res, app, Path(tmp), smp["busiest"], sheet_rows)
        problems = redemptions(res, db, smp, clients, per_client, rng)
    res.write(a.json)
    print()
    print(f"志愿服务基准（{res.engine}，{scale}）汇总：")
    for r in res.items:
        print(format_result(r) + (f"  [{r.note}]" if r.note else ""))
    missed = [r.key for r in res.items if r.met is False]
    print(f"未达标：{'、'.join(missed) if missed else '无'}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
