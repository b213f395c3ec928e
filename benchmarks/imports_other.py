"""Every importer of the volunteer, partybuilding and emergency plugins, timed end to end through
``shell.core.transfer.run_import`` (read, validate every row, write, commit) on a demo street.

    python benchmarks/imports_other.py --db street.sqlite [--rows 1000] [--repeat 3]

Wall-clock and the process's CPU time are both reported (the best of ``--repeat`` runs); on a
shared machine under load the CPU time is the figure to compare. Each run works on a fresh copy of
the street (the copy and the writing of the workbook are not timed), so every repeat imports the
same new rows into the same street. Issue 16: no importer may
get slower on the shared engine; docs/benchmarks.md ("Import engine — other plugins") has the figures.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import PASSWORD, Results, build_street, copy_sqlite, plugin_manager

_DIGITS = "一二三四五六七八九十"
_STEMS = "甲乙丙丁戊己庚辛"


def _id_numbers(used: set[str], rows: int, rng: random.Random, region: str) -> list[str]:
    from stdnum.cn import ric

    out = []
    for n in range(rows):
        while True:
            birth = date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
            body = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in used:
                used.add(number)
                out.append(number)
                break
    return out


def volunteers_file(db, path: Path, rows: int) -> Path:
    """``rows`` new volunteers spread over the street's communities (full paths, as exported)."""
    from openpyxl import Workbook
    from sqlalchemy import text

    from shell.core.matching import area_paths

    with db.session_factory() as s:
        paths = area_paths(s)
        communities = [r[0] for r in s.execute(text(
            "SELECT id FROM core_areas WHERE level = 'community' AND closed_on IS NULL ORDER BY id"))]
        used = {r[0] for r in s.execute(text("SELECT id_number FROM volunteer_volunteers"))}
    numbers = _id_numbers(used, rows, random.Random(5), "330104")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("志愿者")
    ws.append(("志愿者编号", "姓名", "身份证号", "性别", "出生日期", "联系电话", "所属社区", "服务技能", "住址", "登记日期",
               "状态"))
    for n, number in enumerate(numbers):
        ws.append((None, f"导入{_DIGITS[n % 10]}{_STEMS[n // 10 % 8]}", number, None, None, f"139{n:08d}",
                   paths[communities[n % len(communities)]], "助老、应急救护", f"青石路{n % 300}号",
                   "2024-05-01", "停用" if n % 50 == 0 else "在册"))
    wb.save(path)
    return path


def attendance_file(db, path: Path, rows: int) -> Path:
    """An open activity yesterday in the community with most active volunteers, and a sheet of up to
    ``rows`` of them signing in and out (as benchmarks/volunteer.py does)."""
    from openpyxl import Workbook
    from sqlalchemy import func, select

    from plugins.volunteer import services as sv
    from plugins.volunteer.models import Volunteer
    from shell.clock import LOCAL_TZ
    from shell.core.context import Actor, ServiceContext

    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        area_id = s.scalar(select(Volunteer.area_id).where(Volunteer.active.is_(True))
                           .group_by(Volunteer.area_id).order_by(func.count().desc()).limit(1))
        numbers = list(s.scalars(select(Volunteer.number).where(Volunteer.area_id == area_id,
                                                                Volunteer.active.is_(True))
                                 .order_by(Volunteer.id).limit(rows)))
        day = datetime.now(LOCAL_TZ).date() - timedelta(days=1)
        start = datetime(day.year, day.month, day.day, 8, 30, tzinfo=LOCAL_TZ).astimezone(UTC)
        a = sv.create_activity(ctx, name="全民健身日志愿服务（导入压测）", area_id=area_id, starts_at=start,
                               ends_at=start + timedelta(hours=4), place="社区广场", content="秩序维护、引导")
        activity_id = a.id
        s.commit()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("签到表")
    ws.append(("活动编号", "志愿者编号", "姓名", "签到时间", "签退时间"))
    for k, number in enumerate(numbers):
        ws.append((activity_id, number, None, f"{day} 08:{25 + k % 10:02d}", f"{day} 12:{k % 40:02d}"))
    wb.save(path)
    return path


def members_file(db, path: Path, rows: int) -> Path:
    """``rows`` new members in branches whose names are unique (benchmarks/party.py's file)."""
    from benchmarks.party import import_file

    return import_file(db, path, rows, date.today())


def items_file(db, path: Path, rows: int) -> Path:
    """``rows`` new catalogue items (valid GB/T 38565 codes, names the demo does not have)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append(("物资编码", "物资名称", "规格型号", "计量单位"))
    for n in range(rows):
        ws.append((f"1{1 + n % 9:02d}{1 + n // 9 % 99:02d}{1 + n // 891 % 99:02d}", f"导入物资{n:05d}",
                   f"型号{n % 7}", "件"))
    wb.save(path)
    return path


def stock_file(db, path: Path, rows: int) -> Path:
    """``rows`` deliveries of catalogue items into the street's warehouses (benchmarks/emergency.py's
    file), the warehouses by their full path as the export writes them."""
    from openpyxl import Workbook
    from sqlalchemy import text

    from shell.core.matching import area_paths, path_text

    with db.session_factory() as s:
        paths = area_paths(s)
        whs = [path_text([paths.get(a, ""), n]) for a, n in s.execute(text(
            "SELECT area_id, name FROM emergency_warehouses WHERE active ORDER BY id"))]
        items = list(s.execute(text("SELECT code, name, spec, unit FROM emergency_items ORDER BY id")))
    today = date.today()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("库存")
    ws.append(("仓库", "物资编码", "物资名称", "规格型号", "计量单位", "批次号", "生产日期", "有效期至", "数量", "来源单位"))
    rng = random.Random(3)
    for n in range(rows):
        code, name, spec, unit = items[n % len(items)]
        ws.append((whs[n % len(whs)], code, name, spec, unit, f"IMP-{today:%Y%m}-{n:05d}",
                   (today - timedelta(days=30)).isoformat(), (today + timedelta(days=700)).isoformat(),
                   rng.randint(5, 80), "区应急管理局"))
    wb.save(path)
    return path


CASES = (
    ("volunteer-volunteers", "志愿者", volunteers_file),
    ("volunteer-attendance", "志愿活动签到表", attendance_file),
    ("partybuilding-members", "党员信息", members_file),
    ("emergency-items", "应急物资目录", items_file),
    ("emergency-stock", "应急物资库存", stock_file),
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a demo street (SQLite); built at this path when missing")
    parser.add_argument("--scale", default="medium", help="scale of the street built when --db is missing")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="comma-separated importer kinds")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    from shell.core.context import Actor
    from shell.core.database import open_database
    from shell.core.transfer import available_importers, run_import

    with tempfile.TemporaryDirectory(prefix="jiedao-imports-") as tmp_name:
        tmp = Path(tmp_name)
        street = Path(args.db) if args.db else tmp / "street.sqlite"
        if not street.exists():
            print(f"building a {args.scale} demo street at {street} …", flush=True)
            _p, took = build_street(street, args.scale)
            print(f"  built in {took:.1f} s (password {PASSWORD})", flush=True)
        res = Results("imports_other", scale=args.scale)
        only = set(args.only.split(",")) if args.only else None
        pm = plugin_manager()
        for kind, label, make in CASES:
            if only and kind not in only:
                continue
            times, cpus, written = [], [], 0
            for run in range(args.repeat):
                copy = copy_sqlite(street, tmp / f"run{run}.sqlite")
                db = open_database(copy, pm=pm, backup=False)
                try:
                    definition = {d.kind: d for _p, d in available_importers(pm)}[kind]
                    path = make(db, tmp / f"{kind}{run}.xlsx", args.rows)
                    t, cpu = time.perf_counter(), time.process_time()
                    result = run_import(db.session_factory, Actor.system(), definition, path)
                    times.append(time.perf_counter() - t)
                    cpus.append(time.process_time() - cpu)
                    if not result.ok:
                        raise SystemExit(f"{kind}: {[str(e) for e in result.errors[:5]]}")
                    written = result.written
                finally:
                    db.dispose()
                    copy.unlink()
            best = min(times)
            res.add(f"import.{kind}", f"{label}：导入 {written} 行", best,
                    note=f"{written / best:,.0f} rows/s; runs " + ", ".join(f"{t:.2f}" for t in times))
            # the process's CPU time: on a shared, loaded machine the steadier figure to compare
            res.add(f"import.{kind}.cpu", f"{label}：CPU 时间", min(cpus),
                    note="runs " + ", ".join(f"{t:.2f}" for t in cpus))
        res.write(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
