"""Benchmark: a realistic 10-column resident ledger (实有人口登记台账) rendered to PDF.

    .venv/bin/python benchmarks/ledger_pdf.py                 # 1,000 / 10,000 / 50,000 rows
    .venv/bin/python benchmarks/ledger_pdf.py --rows 10000    # chosen sizes
    .venv/bin/python benchmarks/ledger_pdf.py --tiny          # CI smoke run: 200 rows

Each size runs in its own subprocess so peak memory (ru_maxrss) is per size. Reported: seconds (the
whole ``render_pdf`` call: font loading, layout, drawing, saving; rows come from a generator, as from
a database cursor) as wall and CPU time (CPU time is the fair number on a busy machine), pages, file
size and peak RSS. When ``libreoffice`` is
on PATH the same rows are also written to .xlsx and converted with
``libreoffice --headless --convert-to pdf`` (the route offices use today) and the ratio is printed.

Targets (issue 3): 10,000 rows ≤ 1.0 s, 50,000 rows ≤ 5 s, 50,000 rows < 250 MB peak.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彩春菊凤洁梅琳素云莲真环雪荣爱妹香月莺媛瑞凡佳嘉琼勤珍贞莉"
NATIONS = ["汉族"] * 12 + ["回族", "满族", "蒙古族", "朝鲜族", "土家族", "壮族"]
HUJI = ["北京市朝阳区呼家楼街道", "北京市朝阳区八里庄街道", "河北省保定市莲池区", "山东省菏泽市牡丹区",
        "河南省周口市川汇区", "安徽省阜阳市颍州区", "黑龙江省哈尔滨市道里区", "四川省南充市顺庆区"]
ROADS = ["朝阳路", "建国门外大街", "幸福里", "和平街", "光华路", "东三环中路", "呼家楼西里", "金台路"]
NOTES = ["", "", "", "独居老人", "流动人口，2023年迁入", "低保户", "残疾人（肢体二级）", "租户，合同至2025年6月"]


def resident_rows(n: int, seed: int = 7):
    """A generator of realistic rows; the text varies per row so no cache makes it artificially fast."""
    rnd = random.Random(seed)
    names = [rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2, 2))))
             for _ in range(4099)]
    pool = [(rnd.randint(1, 300), rnd.randint(1, 20), rnd.randint(1, 6), rnd.randint(101, 2405),
             rnd.random() < 0.2, rnd.randint(1940, 2010), rnd.randint(1, 12), rnd.randint(1, 28))
            for _ in range(997)]
    for i in range(n):
        house, bld, unit, room, rent, y, m, d = pool[i % 997]
        road = ROADS[i % 8]
        addr = f"北京市朝阳区{road}{house}号院{bld}号楼{unit}单元{room + i % 7}室"
        if rent:
            addr += "（租住，房东联系方式见出租房屋登记表）"
        yield (names[i % 4099], "男" if i % 2 else "女",
               f"110105{y}{m:02d}{d:02d}{i % 1000:03d}{i % 10}",
               f"{y}-{m:02d}-{d:02d}", NATIONS[i % 18], HUJI[(i // 3) % 8], addr,
               f"13{(i * 7919) % 10 ** 9:09d}", f"第{i % 12 + 1}网格", NOTES[(i * 13) % 8])


def ledger_spec(n: int):
    from reports.spec import Column, LedgerSpec
    cols = [Column("姓名", 17), Column("性别", 9, "center"), Column("身份证号", 36, mask="id"),
            Column("出生日期", 21, "center"), Column("民族", 13, "center"), Column("户籍地", 37),
            Column("现住址", "*"), Column("联系电话", 24, "center", mask="phone"),
            Column("网格", 16, "center"), Column("备注", 27)]
    return LedgerSpec(title="实有人口登记台账", unit_name="北京市朝阳区呼家楼街道办事处",
                      period="2024年第二季度", columns=cols, rows=resident_rows(n),
                      orientation="landscape", totals=("合计", "", f"共 {n:,} 人"),
                      notes=("身份证号码、联系电话已按规定脱敏。",))


def run_one(n: int, out_dir: str) -> dict:
    from reports.pdf import render_pdf
    out = os.path.join(out_dir, f"ledger-{n}.pdf")
    t = time.perf_counter()
    c = time.process_time()
    r = render_pdf(ledger_spec(n), out)
    secs = time.perf_counter() - t
    cpu = time.process_time() - c
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"rows": n, "seconds": round(secs, 3), "cpu": round(cpu, 3), "pages": r.pages,
            "mb": round(os.path.getsize(out) / 1e6, 2), "peak_mb": round(rss, 1)}


def run_libreoffice(n: int, out_dir: str) -> float:
    from reports.xlsx import render_xlsx
    x = os.path.join(out_dir, f"ledger-{n}.xlsx")
    render_xlsx(ledger_spec(n), x)
    t = time.perf_counter()
    subprocess.run(["libreoffice", "--headless", "--convert-to", "pdf", "--outdir", out_dir, x],
                   check=True, capture_output=True, timeout=3600)
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1000, 10000, 50000])
    ap.add_argument("--tiny", action="store_true", help="CI smoke run: 200 rows")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", help="keep the generated files in this folder")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child, args.out)))
        return 0
    sizes = [200] if args.tiny else args.rows
    out_dir = args.out or tempfile.mkdtemp(prefix="jiedao-bench-")
    lo = shutil.which("libreoffice") or shutil.which("soffice")
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s); output in {out_dir}")
    if not lo:
        print("LibreOffice comparison skipped: `libreoffice` is not on PATH.")
    print(f"{'rows':>8} {'seconds':>8} {'cpu s':>6} {'pages':>6} {'MB':>6} {'peak MB':>8}" + ("  LibreOffice s  ratio" if lo else ""))
    for n in sizes:
        res = subprocess.run([sys.executable, __file__, "--child", str(n), "--out", out_dir],
                             capture_output=True, text=True, check=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        line = f"{r['rows']:>8} {r['seconds']:>8.2f} {r['cpu']:>6.2f} {r['pages']:>6} {r['mb']:>6.1f} {r['peak_mb']:>8.0f}"
        if lo:
            lo_s = run_libreoffice(n, out_dir)
            line += f"  {lo_s:>13.2f}  {lo_s / r['seconds']:>5.1f}×"
        print(line, flush=True)
    if not args.out:
        shutil.rmtree(out_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
