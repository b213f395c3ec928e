"""Every benchmark against one demo street; a JSON file and a Markdown table of every target.

    .venv/bin/python benchmarks/run_all.py                         # the large street (issue 9), ≈15 min
    .venv/bin/python benchmarks/run_all.py --update-docs           # … and put the table into docs/benchmarks.md
    .venv/bin/python benchmarks/run_all.py --scale small           # CI: small streets, a minute or two
    .venv/bin/python benchmarks/run_all.py --street big.sqlite     # reuse a street built before

The street is built first with the one command an office would type,
``jiedao demo --db FILE --scale large --no-open`` (timed: the target is < 3 minutes). Then each
benchmark runs in its own process (``--db FILE --json OUT``; those that write work on a copy):
startup (cold start, dashboard, every page, memory), grid, volunteer, party, emergency, ledger_pdf and
lan (the street moved to the PostgreSQL server, the hot operations over a simulated LAN), and startup
again against that server (startup_pg). At ``small``
each benchmark builds its own small street instead and runs briefly: CI keeps the scripts working, it
does not time anything.

Results go to ``--out`` (default: a temporary folder, printed): ``results.json`` (every figure with its
target, the machine, the date) and ``results.md`` (the table). A benchmark that fails is reported in
the table and makes the exit status 1; the others still run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Result, format_target, format_value, machine
from lan import DEFAULT_URL as LAN_URL

HERE = Path(__file__).resolve().parent
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"
BUILD_TARGET_S = 180.0

TITLES = {"demo": "演示街道", "startup": "启动与界面", "grid": "网格化管理", "volunteer": "志愿服务",
          "party": "党建", "emergency": "应急管理", "ledger_pdf": "台账 PDF", "lan": "局域网服务器",
          "startup_pg": "启动与界面（服务器）"}
PG_STREET = LAN_URL   # lan.py puts the street there


def plan(scale: str, street: Path | None) -> list[tuple[str, list[str], int]]:
    """(name, arguments, timeout in seconds) for each benchmark."""
    if scale == "small" or street is None:
        s = ["--scale", "small" if scale == "small" else scale]
        return [("startup", ["startup.py", *s, "--runs", "1"], 600),
                ("grid", ["grid.py", *s], 900), ("volunteer", ["volunteer.py", *s], 900),
                ("party", ["party.py", *s], 900), ("emergency", ["emergency.py", *s], 900),
                ("ledger_pdf", ["ledger_pdf.py", "--tiny"], 600), ("lan", ["lan.py", *s], 900),
                ("startup_pg", ["startup.py", "--url", PG_STREET, "--runs", "1", "--no-tour"], 600)]
    s = ["--db", str(street)]
    return [("startup", ["startup.py", *s, "--runs", "5"], 1800),
            ("grid", ["grid.py", *s], 3600), ("volunteer", ["volunteer.py", *s], 3600),
            ("party", ["party.py", *s], 3600), ("emergency", ["emergency.py", *s], 3600),
            ("ledger_pdf", ["ledger_pdf.py"], 1800), ("lan", ["lan.py", *s], 3600),
            ("startup_pg", ["startup.py", "--url", PG_STREET, "--runs", "3"], 1800)]


def build_street(path: Path, scale: str, log) -> dict:
    """``jiedao demo`` as a user runs it; returns a result dict."""
    jiedao = Path(sys.executable).with_name("jiedao")
    command = [str(jiedao)] if jiedao.exists() else [sys.executable, "-m", "shell"]
    command += ["demo", "--db", str(path), "--scale", scale, "--no-open", "--force"]
    print(f"== building the {scale} street: {' '.join(command)}", flush=True)
    t = time.perf_counter()
    lines = []
    with subprocess.Popen(command, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:      # each plugin's seconds as it finishes
            lines.append(line)
            print("   " + line, end="", flush=True)
        returncode = proc.wait(timeout=3600)
    took = time.perf_counter() - t
    output = "".join(lines)
    log.write(output)
    if returncode != 0:
        raise SystemExit(f"jiedao demo failed (exit {returncode}):\n{output[-3000:]}")
    r = Result("demo.build", f"生成 {scale} 演示街道（jiedao demo）", took, target=BUILD_TARGET_S if scale == "large" else None,
               note=f"{path.stat().st_size / 2**20:.0f} MB")
    return {"benchmark": "demo", "scale": scale, "results": [dict(vars(r), met=r.met)],
            "info": {"output": output}}


def run_one(name: str, args: list[str], timeout: int, out_dir: Path, log) -> dict:
    json_path = out_dir / f"{name}.json"
    command = [sys.executable, str(HERE / args[0]), *args[1:], "--json", str(json_path)]
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"), PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    try:
        out = subprocess.run(command, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=timeout)
        rc, stdout, stderr = out.returncode, out.stdout, out.stderr
    except subprocess.TimeoutExpired as exc:
        rc, stdout, stderr = "timeout", exc.stdout or "", (exc.stderr or "") + f"\n(timed out after {timeout} s)"
        stdout = stdout.decode() if isinstance(stdout, bytes) else stdout
        stderr = stderr.decode() if isinstance(stderr, bytes) else stderr
    took = time.perf_counter() - t
    log.write(f"\n===== {name} (exit {rc}, {took:.0f} s)\n{stdout}\n{stderr}\n")
    log.flush()
    if rc != 0 or not json_path.exists():
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        print(f"   FAILED (exit {rc}) after {took:.0f} s\n{tail}", flush=True)
        return {"benchmark": name, "failed": f"exit {rc}", "error": tail, "seconds": took, "results": []}
    data = json.loads(json_path.read_text(encoding="utf-8"))
    data["benchmark"], data["seconds"] = name, took
    for r in data["results"]:
        verdict = {True: "ok", False: "MISSED", None: ""}[r["met"]]
        print(f"   {r['label']:<34} {format_value(r['value'], r['unit']):>12} {verdict}", flush=True)
    return data


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(ROOT), capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=str(ROOT),
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "") if out.returncode == 0 else "?"
    except OSError:
        return "?"


def markdown(runs: list[dict], scale: str, info: dict) -> str:
    lines = [f"Street `{scale}`, {info['date']}, commit {info.get('commit', '?')} — {info['nproc']} × {info['cpu']}, "
             f"{info['memory']}, Python {info['python']}, {info['platform']}; load average at the start {info['load']}.", "",
             "| 工作线 | 指标 | 目标 | 实测 | 结论 | 说明 |", "|---|---|---|---|---|---|"]
    met = missed = 0
    for run in runs:
        title = TITLES.get(run["benchmark"], run["benchmark"])
        if run.get("failed"):
            lines.append(f"| {title} | 基准测试没有跑完 | — | — | **失败** | {run['failed']} |")
            continue
        for d in run["results"]:
            r = Result(**{k: d[k] for k in ("key", "label", "value", "unit", "target", "op", "note")})
            verdict = {True: "达标", False: "**未达标**", None: ""}[r.met]
            met += r.met is True
            missed += r.met is False
            note = r.note.replace("|", "\\|")
            lines.append(f"| {title} | {r.label} | {format_target(r)} | {format_value(r.value, r.unit)} | {verdict} | {note} |")
    lines += ["", f"{met} targets met, {missed} missed."]
    return "\n".join(lines) + "\n"


def update_docs(table: str, scale: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{table}{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + f"\n\n## All benchmarks on the {scale} street (`benchmarks/run_all.py`)\n\n{block}\n"
    DOCS.write_text(text, encoding="utf-8")
    print(f"table written into {DOCS}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", choices=("small", "medium", "large"), default="large")
    p.add_argument("--street", help="use this demo street instead of building one")
    p.add_argument("--only", help="comma-separated benchmarks to run (startup,grid,volunteer,party,emergency,"
                                  "ledger_pdf,lan,startup_pg; startup_pg needs lan's server street)")
    p.add_argument("--out", help="folder for results.json, results.md and the log (default: a temporary one)")
    p.add_argument("--update-docs", action="store_true", help="write the table into docs/benchmarks.md")
    args = p.parse_args(argv)

    out_dir = Path(args.out or tempfile.mkdtemp(prefix="jiedao-run-all-")).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    info = machine()
    info["commit"] = commit()
    print(f"run_all: {args.scale} street; results in {out_dir}\nmachine: {info}", flush=True)
    runs: list[dict] = []
    with open(out_dir / "run_all.log", "w", encoding="utf-8") as log:
        street = Path(args.street).resolve() if args.street else None
        if street is None and args.scale != "small":
            street = out_dir / f"street-{args.scale}.sqlite"
            runs.append(build_street(street, args.scale, log))
        only = set(args.only.split(",")) if args.only else None
        for name, bench_args, timeout in plan(args.scale, street):
            if only is None or name in only:
                runs.append(run_one(name, bench_args, timeout, out_dir, log))
    table = markdown(runs, args.scale, info)
    (out_dir / "results.json").write_text(json.dumps({"scale": args.scale, "machine": info, "runs": runs},
                                                     ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "results.md").write_text(table, encoding="utf-8")
    print("\n" + table)
    print(f"results: {out_dir / 'results.json'}, {out_dir / 'results.md'}")
    if args.update_docs:
        update_docs(table, args.scale)
    return 1 if any(r.get("failed") for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
