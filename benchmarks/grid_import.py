"""Benchmark: every grid importer end to end through ``shell.core.transfer.run_import`` (read, full
validation, write, commit) on a copy of a demo street (issue 16).

    .venv/bin/jiedao demo --db /tmp/street.sqlite --scale large --no-open
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/grid_import.py --db /tmp/street.sqlite

Each importer gets a fresh file of new valid rows (persons as ``benchmarks/grid.py`` writes them;
houses, households naming those houses, organisations with valid credit codes) and is run
``--repeat`` times, each time on a fresh copy of the street; the best run is reported."""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_street_args, machine, street
from grid import street_actor, write_persons_xlsx


def _grids(db) -> list[str]:
    from sqlalchemy import text

    with db.engine.connect() as c:
        return [f"{cn}/{gn}" for cn, gn in c.execute(text(
            "SELECT c.name, g.name FROM core_areas g JOIN core_areas c ON c.id = g.parent_id "
            "WHERE g.level = 'grid' ORDER BY g.id"))]


def write_houses(db, path: Path, n: int, rng: random.Random) -> Path:
    from openpyxl import Workbook
    from stdnum.cn import ric

    grids = _grids(db)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("实有房屋")
    ws.append(["房屋编号", "地址", "责任网格", "房屋用途", "建筑面积", "房主姓名", "房主身份证号", "房主电话", "责任书签订日期"])
    for i in range(n):
        base = f"440305{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        ws.append([f"BH{i:07d}", f"白沙路{i % 300}号{i % 40}室", grids[i % len(grids)],
                   ("自住", "出租", "空置")[i % 3], round(40 + rng.random() * 100, 1), "房主",
                   base + ric.calc_check_digit(base + "0"), f"139{rng.randrange(10**8):08d}",
                   "2024-03-01" if i % 3 == 1 else None])
    wb.save(str(path))
    return path


def write_households(db, path: Path, n: int) -> Path:
    from openpyxl import Workbook
    from sqlalchemy import text

    grids = _grids(db)
    with db.engine.connect() as c:
        codes = [r[0] for r in c.execute(text("SELECT code FROM grid_houses ORDER BY id LIMIT :n"), {"n": n})]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户")
    ws.append(["户号", "所属网格", "地址", "房屋编号", "备注"])
    for i in range(n):
        ws.append([f"BHH{i:07d}", grids[i % len(grids)], f"白沙路{i % 300}号", codes[i % len(codes)], ""])
    wb.save(str(path))
    return path


def write_organisations(db, path: Path, n: int) -> Path:
    from openpyxl import Workbook
    from stdnum.cn import uscc

    grids = _grids(db)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("组织")
    ws.append(["组织名称", "组织类别", "统一社会信用代码", "所属网格", "法定代表人", "联系电话", "地址", "是否建立党组织",
               "党员人数"])
    for i in range(n):
        base = f"91440300MA{i:07d}"
        ws.append([f"白沙商贸{i}号有限公司", "非公有制经济组织" if i % 4 else "社会组织", base + uscc.calc_check_digit(base),
                   grids[i % len(grids)], "法人", f"0755-{26000000 + i}", f"白沙路{i % 300}号",
                   "是" if i % 5 == 0 else "否", i % 5])
    wb.save(str(path))
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_street_args(p)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--rows", type=int, default=20_000, help="persons imported (the others: a quarter of it)")
    p.add_argument("--only", help="one kind, e.g. grid-persons")
    a = p.parse_args(argv)

    from common import plugin_manager
    from shell.core.transfer import run_import
    from shell.plugins import call_each

    defs = {d.kind: d for _p, d in call_each(plugin_manager(), "register_importers") if d.kind.startswith("grid-")}
    print(f"机器：{machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="jiedao-grid-import-") as tmp_name:
        tmp = Path(tmp_name)
        with street(a) as db:
            quarter = a.rows // 4
            files = {"grid-persons": (write_persons_xlsx(db, tmp / "persons.xlsx", a.rows, random.Random(4)), a.rows),
                     "grid-houses": (write_houses(db, tmp / "houses.xlsx", quarter, random.Random(5)), quarter),
                     "grid-households": (write_households(db, tmp / "households.xlsx", quarter), quarter),
                     "grid-organisations": (write_organisations(db, tmp / "orgs.xlsx", quarter), quarter)}
        for kind, (path, n) in files.items():
            if a.only and kind != a.only:
                continue
            best = None
            for _ in range(a.repeat):
                with street(a, writes=True) as db:
                    t = time.perf_counter()
                    result = run_import(db.session_factory, street_actor(), defs[kind], path)
                    took = time.perf_counter() - t
                if not result.ok or result.written != n:
                    raise SystemExit(f"{kind}: import failed: {result.errors[:5]}")
                best = took if best is None else min(best, took)
            assert best is not None
            print(f"{kind:20s} {n:7,d} 行  {best:6.3f} s  {n / best:9,.0f} 行/秒", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
