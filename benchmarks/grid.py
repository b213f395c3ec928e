"""Benchmark: the grid plugin on a street of many grids (issue 4's performance targets, for orientation;
not a timed test).

    .venv/bin/python benchmarks/grid.py                          # the issue's street, SQLite
    .venv/bin/python benchmarks/grid.py --persons 20000 --events 10000
    .venv/bin/python benchmarks/grid.py --url postgresql+psycopg://postgres@127.0.0.1:5432/jd_bench
    .venv/bin/python benchmarks/grid.py --tiny                   # smoke run

The street: 200,000 persons / 60,000 households / 400 grids — ``--base`` persons (and the households
not created by the import) are bulk-inserted first with Core executemany, then ``--persons`` more
arrive by Excel import. Measured: the Excel import with full validation, end to end through
``shell.core.transfer.run_import`` (python-calamine read, every row validated, one transaction) —
target ≥ 25,000 rows/s; first page of the resident list (the lazy table's keyset query) < 100 ms;
search by name, pinyin initials, ID number and phone < 50 ms; indicators for a year of events < 1 s.
The .xlsx file is written beforehand with openpyxl (not timed).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def build(db, communities: int, grids: int):
    from shell.core.areas import create_area
    from shell.core.context import Actor, ServiceContext

    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = create_area(ctx, "青石街道", "street")
        out = []
        for c in range(communities):
            com = create_area(ctx, f"社区{c + 1:02d}", "community", street.id)
            for g in range(grids):
                out.append((f"社区{c + 1:02d}网格{g + 1:02d}", create_area(ctx, f"网格{g + 1:02d}", "grid", com.id).id))
        s.commit()
    return out


def write_xlsx(path: Path, n: int, grid_names: list[str], rng: random.Random) -> list[tuple[str, str, str]]:
    from openpyxl import Workbook
    from stdnum.cn import ric

    from plugins.grid.demo import GIVEN_F, GIVEN_M, SURNAMES

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("实有人口")
    ws.append(["姓名", "公民身份号码", "责任网格", "人口类别", "联系电话", "民族", "现住址", "户号", "与户主关系"])
    seen = set()
    samples = []
    for i in range(n):
        while True:
            birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 80 * 365))
            base = f"110105{birth:%Y%m%d}{rng.randrange(1000):03d}"
            number = base + ric.calc_check_digit(base + "0")
            if number not in seen:
                seen.add(number)
                break
        male = int(number[16]) % 2 == 1
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_M if male else GIVEN_F) for _ in range(rng.choice((1, 2))))
        phone = f"1{rng.randrange(3, 9)}{rng.randrange(10**9):09d}"
        ws.append([name, number, grid_names[i % len(grid_names)], "户籍人口", phone, "汉族", f"青石路{i % 500}号{i % 30}室",
                   f"H{i // 3:07d}", "户主" if i % 3 == 0 else "配偶" if i % 3 == 1 else "子"])
        if i % (n // 5 or 1) == 0:
            samples.append((name, number, phone))
    wb.save(str(path))
    return samples


def _initials_table() -> dict[str, str]:
    """First letters from pypinyin's character table, read without importing pypinyin, so the timed
    import below pays for whatever pinyin loading the importer itself does."""
    import importlib.util
    import json
    import os
    import unicodedata

    folder = importlib.util.find_spec("pypinyin").submodule_search_locations[0]
    with open(os.path.join(folder, "pinyin_dict.json"), encoding="utf8") as fp:
        table = json.load(fp)
    return {chr(int(k)): unicodedata.normalize("NFD", v.split(",")[0])[0].lower() for k, v in table.items()}


def populate(db, n: int, households: int, grid_ids: list[int], rng: random.Random) -> None:
    """The persons already registered on the street (not timed): Core executemany in chunks."""
    from sqlalchemy import insert
    from stdnum.cn import ric

    from plugins.grid.demo import GIVEN_F, GIVEN_M, SURNAMES
    from plugins.grid.models import Household, Person

    initials = _initials_table()
    now = datetime.now(timezone.utc)
    meta = dict(created_at=now, updated_at=now, version_id=1)
    with db.session_factory() as s:
        hh = [dict(area_id=grid_ids[i % len(grid_ids)], number=f"B{i:07d}", address=f"青山路{i % 700}号{i % 40}室",
                   notes="", **meta) for i in range(households)]
        for k in range(0, len(hh), 20000):
            s.execute(insert(Household), hh[k:k + 20000])
        first_hh = s.scalar(select_min_id(Household))
        rows, seen = [], set()
        for i in range(n):
            while True:
                birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 80 * 365))
                base = f"330102{birth:%Y%m%d}{rng.randrange(1000):03d}"
                if base not in seen:
                    seen.add(base)
                    break
            male = int(base[16]) % 2 == 1
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_M if male else GIVEN_F)
                                                  for _ in range(rng.choice((1, 2))))
            h = i % households if households else None
            rows.append(dict(area_id=grid_ids[(h or i) % len(grid_ids)], kind="registered", status="active",
                             id_type="111", id_number=base + ric.calc_check_digit(base + "0"), name=name,
                             name_initials="".join(initials[c] for c in name), sex="男" if male else "女", birth_date=birth,
                             nationality="156", phone=f"1{rng.randrange(3, 9)}{rng.randrange(10**9):09d}",
                             household_id=None if h is None else first_hh + h,
                             relation_to_head="户主" if h is not None and i < households else "其他",
                             key_attention=False, notes="", **meta))
            if len(rows) == 20000:
                s.execute(insert(Person), rows)
                rows = []
        if rows:
            s.execute(insert(Person), rows)
        s.commit()


def select_min_id(model):
    from sqlalchemy import func, select

    return select(func.min(model.id))


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--persons", type=int, default=100_000, help="persons imported from Excel (timed)")
    p.add_argument("--base", type=int, default=100_000, help="persons already registered (bulk, not timed)")
    p.add_argument("--households", type=int, default=60_000, help="households on the street in the end")
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument("--communities", type=int, default=20)
    p.add_argument("--grids", type=int, default=20)
    p.add_argument("--url", help="an empty PostgreSQL database (default: a temporary SQLite file)")
    p.add_argument("--tiny", action="store_true")
    a = p.parse_args(argv)
    if a.tiny:
        a.persons, a.base, a.households, a.events, a.communities, a.grids = 2000, 2000, 1200, 2000, 2, 3

    from sqlalchemy import func, insert, select

    from plugins.grid import importers, services as svc
    from plugins.grid.models import Event, EventCategory, Person
    from shell.core.context import Actor, ServiceContext
    from shell.core.database import open_database
    from shell.core.transfer import run_import
    from shell.plugins import make_plugin_manager

    tmp = Path(tempfile.mkdtemp(prefix="jiedao-grid-bench-"))
    pm = make_plugin_manager(builtins=["plugins.grid"], entry_points=False)
    db = open_database(a.url or tmp / "bench.sqlite", pm=pm, backup=False)
    rng = random.Random(4)
    grids = build(db, a.communities, a.grids)
    xlsx = tmp / "persons.xlsx"
    t = time.perf_counter()
    base_households = max(0, a.households - -(-a.persons // 3))   # the import adds one household per 3 rows
    populate(db, a.base, base_households, [g[1] for g in grids], rng)
    samples = write_xlsx(xlsx, a.persons, [g[0] for g in grids], rng)
    print(f"准备：{len(grids)} 个网格，已有 {a.base} 人 / {base_households} 户，写入 {a.persons} 行 Excel，"
          f"用时 {time.perf_counter() - t:.1f} s（不计入）")
    table: list[tuple[str, str, str, str]] = []

    definition = importers.definitions()[0]
    t = time.perf_counter()
    result = run_import(db.session_factory, Actor.system(), definition, xlsx)
    dt = time.perf_counter() - t
    assert result.ok and result.written == a.persons, result.errors[:5]
    print(f"导入 {a.persons} 人（校验 + 写入）：{dt:.2f} s，{a.persons / dt:,.0f} 行/秒（目标 ≥ 25,000）")
    table.append((f"Excel 导入 {a.persons:,} 人（全量校验 + 写入）", f"{dt:.2f} s", f"{a.persons / dt:,.0f} 行/秒",
                  "≥ 25,000 行/秒"))

    actor = Actor.system()
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        q = svc.search_persons_query(actor, "")
        first = timed(lambda: s.execute(q.order_by(Person.id).limit(200)).all())
        print(f"人口列表首页（200 行）：{first * 1000:.1f} ms（目标 < 100 ms）")
        table.append(("人口列表首页（200 行）", f"{first * 1000:.1f} ms", "", "< 100 ms"))
        name, number, phone = samples[1]
        from shell.text import pinyin_initials

        for label, text in (("姓名", name), ("拼音首字母", pinyin_initials(name)), ("身份证号", number),
                            ("电话", phone)):
            took = timed(lambda: svc.list_persons(ctx, text, limit=50))
            found = len(svc.list_persons(ctx, text, limit=50))
            print(f"搜索 {label}“{text}”：{took * 1000:.1f} ms，{found} 条（目标 < 50 ms）")
            table.append((f"搜索：{label}", f"{took * 1000:.1f} ms", f"{found} 条", "< 50 ms"))

        cats = list(s.scalars(select(EventCategory.id)))
        start = datetime(2025, 1, 1, tzinfo=timezone.utc)
        rows = []
        for i in range(a.events):
            at = start + timedelta(minutes=rng.randrange(0, 364 * 24 * 60))
            closed = rng.random() < 0.9
            rows.append(dict(area_id=grids[i % len(grids)][1], number=f"B{i:07d}", category_id=rng.choice(cats),
                             title="测试", description="", source="测试", reporter_name="", reported_at=at,
                             registered_at=at, status="closed" if closed else "dispatched",
                             deadline=(at + timedelta(days=5)).date(),
                             closed_at=at + timedelta(hours=rng.randrange(1, 200)) if closed else None,
                             escalations=0, version_id=1, created_at=at, updated_at=at))
        for k in range(0, len(rows), 10000):
            s.execute(insert(Event), rows[k:k + 10000])
        s.commit()
        took = timed(lambda: svc.indicators(ctx, date(2025, 1, 1), date(2025, 12, 31)), repeat=3)
        ind = svc.indicators(ctx, date(2025, 1, 1), date(2025, 12, 31))
        print(f"指标（{ind.due} 件，一年）：{took:.3f} s，结案率 {ind.percent(ind.closure_rate)}，"
              f"按期结案率 {ind.percent(ind.on_time_rate)}（目标 < 1 s）")
        table.append((f"指标：一年 {ind.due:,} 件", f"{took:.3f} s", "", "< 1 s"))
        took = timed(lambda: svc.monthly_counts(ctx, 2025), repeat=3)
        table.append(("看板图表：2025 年逐月上报/结案", f"{took:.3f} s", "", "（线程池）"))
        total = s.scalar(select(func.count()).select_from(Person))
    db.dispose()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)   # the Excel file and the SQLite database
    engine = "PostgreSQL" if a.url else "SQLite"
    print(f"\n{engine}，{len(grids)} 个网格，{total:,} 人，{a.households:,} 户，{a.events:,} 件事件\n")
    print("| 操作 | 用时 | 结果 | 目标 |")
    print("|---|---|---|---|")
    for row in table:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
