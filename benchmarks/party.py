"""Benchmark: the party-building plugin on a street with a big organisation tree (issue 6's
performance targets, for orientation; not a timed test).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/party.py           # 2,000 organisations, 10,000 members, SQLite
    .venv/bin/python benchmarks/party.py --url postgresql+psycopg://postgres@127.0.0.1:5432/jd_bench
    .venv/bin/python benchmarks/party.py --tiny                               # smoke run (a few seconds)

The tree and members, their dues from 2025-01 and a year of meetings (支委会 with attendance) are
written with bulk inserts (SQLAlchemy Core executemany; not timed). Measured, with the number of SQL
statements of one run: the dues arrears of every member (``arrears``, what the 党员提醒 page lists),
one community's 党费收缴 sheet (``dues_sheet``) and the meeting compliance for the year
(``compliance``) — all set-based, a fixed handful of statements; the tree with member counts
(``org_tree``, two queries) and the 党组织与党员 page showing it (the QTreeWidget filled, the first
node's findings and first member page) — target < 500 ms; moving a subtree holding 1,000 members
(validation, preview counts, the move with its paths rewritten in one UPDATE, commit) — target < 1 s;
the 党员花名册 (16 items) of every member rendered to PDF through ``shell.core.reporting.generate`` —
"at the report engine's rate": compare rows/s with ``benchmarks/ledger_pdf.py`` (10,000 rows ≤ 1 s
there, a 10-column ledger).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬燕彩春菊凤洁梅琳素云莲真环雪荣"


def build(db, orgs_target: int, members_target: int, big: int, rng: random.Random):
    """Areas (1 street, C communities × 10 grids) and the five-level tree with explicit ids and paths,
    then members with their membership periods. Returns (big branch id, target 党总支 id, its name)."""
    from sqlalchemy import insert, text
    from stdnum.cn import ric

    from plugins.partybuilding.models import Attendance, DuesPayment, Meeting, Member, Membership, PartyOrg
    from shell.core.areas import create_area
    from shell.core.context import Actor, ServiceContext
    from shell.text import pinyin_initials

    now = datetime.now(timezone.utc)
    communities = max(2, orgs_target // 100)
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = create_area(ctx, "青石街道", "street")
        coms = []
        for c in range(communities):
            com = create_area(ctx, f"社区{c + 1:02d}", "community", street.id)
            coms.append((com.id, [create_area(ctx, f"网格{g + 1:02d}", "grid", com.id).id for g in range(10)]))
        s.commit()

    rows: list[dict] = []

    def org(parent, kind, level, name, area):
        oid = len(rows) + 1
        path = (parent["path"] if parent else "/") + f"{oid}/"
        row = dict(id=oid, parent_id=parent["id"] if parent else None, kind=kind, level=level, name=name, area_id=area,
                   path=path, sort_order=0, founded_on=date(2010, 1, 1), has_committee=False, version_id=1,
                   created_at=now, updated_at=now)
        rows.append(row)
        return row

    top = org(None, "working_committee", 1, "中共青石街道工作委员会", street.id)
    branches, groups, leaves = [], [], []
    for c, (com_id, grids) in enumerate(coms):
        cc = org(top, "community_committee", 2, f"中共社区{c + 1:02d}委员会", com_id)
        for g, grid in enumerate(grids):
            branches.append(org(cc, "branch", 3, f"第{g + 1}网格党支部", grid))
    # The target of the subtree move: a second 党总支 on the first community.
    target = org(top, "general_branch", 2, "中共社区01第二总支部委员会", coms[0][0])
    big_branch = org(rows[1], "branch", 3, "社区01大党支部", coms[0][0])
    k = 0
    while len(rows) < orgs_target:  # 党小组 with a 党员中心户 each, round the branches, to the exact count
        k += 1
        for b in branches + [big_branch]:
            if len(rows) >= orgs_target:
                break
            grp = org(b, "group", 4, f"{k}号楼党小组", b["area_id"])
            groups.append(grp)
            if len(rows) < orgs_target:
                leaves.append(org(grp, "household", 5, f"{k}号楼党员中心户", b["area_id"]))
    big_orgs = [r for r in rows if r["path"].startswith(big_branch["path"])]
    others = [r for r in rows if r["level"] >= 3 and not r["path"].startswith(big_branch["path"])]

    members, periods, used = [], [], set()
    for i in range(members_target):
        home = big_orgs[i % len(big_orgs)] if i < big else others[i % len(others)]
        while True:
            birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
            body = f"110105{birth:%Y%m%d}{rng.randrange(1000):03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in used:
                used.add(number)
                break
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        admitted = date(max(birth.year + 19, 1975), rng.randrange(1, 13), 1)
        full = i % 20 != 0
        members.append(dict(id=i + 1, name=name, initials=pinyin_initials(name), sex="男" if int(number[16]) % 2 else "女",
                            ethnicity="汉族", id_number=number, birth_date=birth, education="大学本科",
                            category="retired" if birth.year < 1965 else "employed", org_id=home["id"],
                            stage="full" if full else "probationary", admitted_on=min(admitted, date(2025, 6, 1)),
                            full_on=date(min(admitted.year, 2024) + 1, admitted.month, 1) if full else None,
                            job="职员", phone=f"13{rng.randrange(10**9):09d}", address=f"青石路{i % 500}号",
                            status="normal", version_id=1, created_at=now, updated_at=now))
        periods.append(dict(member_id=i + 1, org_id=home["id"], start_on=date(2020, 1, 1), reason="登记",
                            created_at=now, updated_at=now))
    for b in branches + [big_branch]:  # every branch has a 支委会 of 3 (its meetings need a quorum check)
        b.update(has_committee=True, committee_size=3, committee_elected_on=date(2023, 1, 1))
    payments = dues_rows(members, rng, now)
    meetings, attendance = meeting_rows(branches + [big_branch], groups, members, rng, now)
    with db.session_factory() as s:
        s.execute(insert(PartyOrg), rows)
        for k in range(0, len(members), 5000):
            s.execute(insert(Member), members[k:k + 5000])
            s.execute(insert(Membership), periods[k:k + 5000])
        for table, batch in ((DuesPayment, payments), (Meeting, meetings), (Attendance, attendance)):
            for k in range(0, len(batch), 20000):
                s.execute(insert(table), batch[k:k + 20000])
        if s.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("partybuilding_orgs", "partybuilding_members", "partybuilding_meetings"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        s.commit()
    return len(rows), big_branch["id"], target["id"], len(payments), len(meetings)


DUES_SINCE = "2025-01"     # partybuilding.dues.since in the benchmark: the ledger starts in January 2025
DUES_UPTO = "2026-10"
YEAR = 2026


def dues_rows(members: list[dict], rng, now) -> list[dict]:
    """Dues from 2025-01 to 2026-10: most members paid up (or one month behind), some stopped months
    ago (a few past the 6-month flag), some with a hole in the middle, a few never paid."""
    from plugins.partybuilding import services as svc

    months = svc.month_range(DUES_SINCE, DUES_UPTO)
    out = []
    for m in members:
        first = max(DUES_SINCE, svc.month_key(m["admitted_on"]))
        mine = [mo for mo in months if mo >= first]
        r = rng.random()
        if r < 0.6:
            pass
        elif r < 0.75:
            mine = mine[:-1]
        elif r < 0.88:
            mine = mine[:-rng.randrange(2, 12)]
        elif r < 0.97:
            hole = rng.randrange(len(mine)) if mine else 0
            mine = mine[:hole] + mine[hole + rng.randrange(1, 4):]
        else:
            mine = []
        for mo in mine:
            out.append(dict(member_id=m["id"], month=mo, amount_fen=1000, base_fen=None,
                            paid_on=date(int(mo[:4]), int(mo[5:]), 15), created_at=now, updated_at=now))
    return out


def meeting_rows(branches: list[dict], groups: list[dict], members: list[dict], rng, now):
    """A year of meetings: per branch 主题党日 and 支委会 monthly (the 支委会 with 3 attendance rows,
    now and then short of a quorum), 党员大会 and 党课 quarterly; per 党小组 a meeting most months."""
    meetings, attendance = [], []

    def add(org, kind, held):
        mid = len(meetings) + 1
        meetings.append(dict(id=mid, org_id=org["id"], kind=kind, held_on=held, topic=f"{held.month}月{kind}",
                             version_id=1, created_at=now, updated_at=now))
        return mid

    for month in range(1, 13):
        for b in branches:
            held = date(YEAR, month, rng.randrange(1, 28))
            if rng.random() < 0.9:
                add(b, "theme_day", held)
            if rng.random() < 0.9:
                mid = add(b, "committee", held)
                present = rng.random() < 0.9
                for k, who in enumerate(rng.sample(range(1, len(members) + 1), 3)):
                    ok = present or k == 0
                    attendance.append(dict(meeting_id=mid, member_id=who, present=ok,
                                           absence_reason=None if ok else "出差"))
            if month % 3 == 0 and rng.random() < 0.9:
                add(b, "assembly", held)
                add(b, "lecture", held)
        for g in groups:
            if rng.random() < 0.8:
                add(g, "group", date(YEAR, month, rng.randrange(1, 28)))
    return meetings, attendance


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orgs", type=int, default=2000)
    p.add_argument("--members", type=int, default=10_000)
    p.add_argument("--subtree", type=int, default=1000, help="members in the subtree that is moved")
    p.add_argument("--url", help="an empty PostgreSQL database (default: a temporary SQLite file)")
    p.add_argument("--tiny", action="store_true")
    a = p.parse_args(argv)
    if a.tiny:
        a.orgs, a.members, a.subtree = 200, 1000, 100
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from plugins.partybuilding import services as svc
    from shell.core import reporting
    from shell.core.context import Actor, AppContext, ServiceContext
    from shell.core.database import open_database
    from shell.plugins import call_each, make_plugin_manager

    tmp = Path(tempfile.mkdtemp(prefix="jiedao-party-bench-"))
    pm = make_plugin_manager(builtins=["plugins.partybuilding"], entry_points=False)
    db = open_database(a.url or tmp / "bench.sqlite", pm=pm, backup=False)
    rng = random.Random(6)
    t = time.perf_counter()
    n_orgs, big_id, target_id, n_payments, n_meetings = build(db, a.orgs, a.members, a.subtree, rng)
    print(f"准备：{n_orgs} 个党组织、{a.members} 名党员、{n_payments} 笔党费、{YEAR} 年 {n_meetings} 次会议，"
          f"批量写入 {time.perf_counter() - t:.1f} s（不计入），数据库 {db.engine.dialect.name}")
    actor = Actor.system()
    results: list[tuple[str, str, str]] = []

    from shell.core import settings as core_settings

    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        since = next(d for d in svc.SETTINGS if d.key == "partybuilding.dues.since")
        core_settings.set_value(ctx, since, DUES_SINCE)
        s.commit()

    statements = [0]

    def count(*_args, **_kw):
        statements[0] += 1

    from sqlalchemy import event

    event.listen(db.engine, "before_cursor_execute", count)

    def measured(fn, repeat=3):
        """(best time, SQL statements of one run, result)."""
        statements[0] = 0
        result = fn()
        n = statements[0]
        return timed(fn, repeat), n, result

    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        took, n, rows = measured(lambda: svc.arrears(ctx, upto=DUES_UPTO))
        flagged = sum(1 for r in rows if r.flagged)
    results.append((f"党费欠交：全部 {a.members} 名党员（arrears，{len(rows)} 人欠交，其中连续 6 个月以上 {flagged} 人）",
                    f"{took * 1000:.0f} ms，{n} 条 SQL", "—"))
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        community = next(o for o in svc.visible_orgs(ctx) if o.level == 2)
        took, n, rows = measured(lambda: svc.dues_sheet(ctx, community.id, DUES_UPTO))
    results.append((f"党费收缴页的数据：一个社区党委 {len(rows)} 名党员一个月（dues_sheet）",
                    f"{took * 1000:.0f} ms，{n} 条 SQL", "不在界面线程"))
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        took, n, rows = measured(lambda: svc.compliance(ctx, YEAR, on=date(YEAR, 12, 31)))
        missing = sum(1 for r in rows if r.status == "missing")
    results.append((f"组织生活落实：{YEAR} 全年（compliance，{len(rows)} 项，缺 {missing} 项，{n_meetings} 次会议）",
                    f"{took * 1000:.0f} ms，{n} 条 SQL", "—"))
    event.remove(db.engine, "before_cursor_execute", count)

    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        took = timed(lambda: svc.org_tree(ctx))
        nodes = svc.org_tree(ctx)
        assert len(nodes) == n_orgs and nodes[0].members == a.members, (len(nodes), nodes[0].members)
    results.append(("党组织树及各级党员数（org_tree）", f"{took * 1000:.0f} ms", "< 500 ms"))

    from PySide6.QtWidgets import QApplication

    from plugins.partybuilding.views.org_page import OrgPage

    qapp = QApplication.instance() or QApplication([])
    app_ctx = AppContext(db.session_factory, actor, pm)

    def show_page():
        page = OrgPage(app_ctx)
        qapp.processEvents()
        assert page.tree.topLevelItemCount() == 1
        page.deleteLater()

    took = timed(show_page, repeat=3)
    results.append((f"“党组织与党员”页面显示（树 {n_orgs} 个节点、问题提示、首页党员）", f"{took * 1000:.0f} ms", "< 500 ms"))

    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        t = time.perf_counter()
        preview = svc.move_org(ctx, big_id, target_id, preview=True)
        moved = svc.move_org(ctx, big_id, target_id)
        s.commit()
        took = time.perf_counter() - t
        assert moved.members == a.subtree, (moved.members, a.subtree)
    results.append((f"移动子树（{preview.organisations} 个组织、{moved.members} 名党员，含预览计数）",
                    f"{took * 1000:.0f} ms", "< 1 s"))

    import dataclasses

    from reports import render_pdf

    (roster,) = [d for _n, d in call_each(pm, "register_reports") if d.id == "partybuilding.roster"]
    with db.session_factory() as s:
        spec = roster.builder(ServiceContext(s, actor), {})
        rows = list(spec.rows)
    # Warm up once (font loading and subsetting tables), so both timings below are the steady rate.
    render_pdf(dataclasses.replace(spec, rows=iter(rows[:50])), tmp / "warm.pdf")
    out = tmp / "roster.pdf"
    t0, c0 = time.perf_counter(), time.process_time()
    gen = reporting.generate(db.session_factory, actor, roster, {}, out)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert gen.rows == a.members, gen.rows
    results.append((f"党员花名册 PDF（{gen.rows} 行 × 17 列，{gen.pages} 页，{out.stat().st_size / 1e6:.1f} MB），"
                    f"从数据库经 reporting.generate", f"{wall:.2f} s 墙钟 / {cpu:.2f} s CPU，{gen.rows / cpu:,.0f} 行/CPU 秒",
                    "引擎速率"))
    # The report engine alone on the same rows (already in memory): the rate the roster should match.
    t0, c0 = time.perf_counter(), time.process_time()
    render_pdf(dataclasses.replace(spec, rows=iter(rows)), tmp / "engine.pdf")
    e_wall, e_cpu = time.perf_counter() - t0, time.process_time() - c0
    results.append(("同一花名册只由报表引擎排版（行已在内存）", f"{e_wall:.2f} s 墙钟 / {e_cpu:.2f} s CPU，"
                    f"{len(rows) / e_cpu:,.0f} 行/CPU 秒", f"花名册达引擎速率的 {e_cpu / cpu:.0%}"))

    print()
    print("| 操作 | 用时 | 目标 |")
    print("|---|---|---|")
    for what, took_text, goal in results:
        print(f"| {what} | {took_text} | {goal} |")
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
