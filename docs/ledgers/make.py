"""The ledger gallery: the first page of every registered report, printed on the small demo street
by its administrator, as a PNG in docs/ledgers/, with an index README.md.

    PYTHONPATH=. python docs/ledgers/make.py            # into docs/ledgers/
    PYTHONPATH=. python docs/ledgers/make.py /tmp/out   # elsewhere (to look before committing)

The list of reports comes from the plugins (``shell.core.reporting.available_reports``), so a report
added by any plugin appears on the next run. A report needing a record (a volunteer's number, a
stock-take, a transfer letter) gets the first such record of the demo; one whose record the demo does
not have is listed as skipped. Needs ``pdftoppm`` (poppler-utils). 65 dpi keeps a page near 60 KB.
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

DPI = 65

HERE = Path(__file__).resolve().parent


def sample_params(session, definition) -> dict | None:
    """Values for a report's parameters: the defaults, and the demo's first record where a record is
    required; None when the demo has no such record."""
    from sqlalchemy import func, select

    from shell.core.models import Area

    def first(model_path: str, column: str, *where):
        module, _, name = model_path.rpartition(".")
        try:
            model = getattr(__import__(module, fromlist=[name]), name)
        except ImportError:
            return None
        return session.scalar(select(func.min(getattr(model, column))).where(*(w(model) for w in where)))

    known = {
        "number": lambda: session.scalar(select(__import__("plugins.volunteer.models", fromlist=["Volunteer"])
                                                .Volunteer.number).order_by("id").limit(1)),
        "transfer": lambda: first("plugins.partybuilding.models.Transfer", "id", lambda m: m.direction == "out"),
        "drill_id": lambda: first("plugins.emergency.models.Drill", "id", lambda m: m.evaluated_on.is_not(None)),
        "stocktake_id": lambda: first("plugins.emergency.models.Stocktake", "id"),
        "house": lambda: first("plugins.grid.models.House", "code", lambda m: m.house_use == "出租"),
        "member": lambda: first("plugins.partybuilding.models.Member", "id", lambda m: m.stage == "full",
                                lambda m: m.status == "normal", lambda m: m.org_id.is_not(None)),
    }
    community = session.scalars(select(Area).where(Area.level == "community").order_by(Area.id)).first()
    params = {}
    today = dt.date.today()
    for p in definition.parameters:
        if not p.required or p.default is not None:
            params[p.name] = p.default
        elif p.kind == "area" or p.name in ("area", "area_id"):
            params[p.name] = community.id
        elif p.kind in ("month", "date"):
            params[p.name] = today.replace(day=1)
        elif p.kind == "year":
            params[p.name] = today.year
        elif p.name in known:
            value = known[p.name]()
            if value is None:
                return None
            params[p.name] = value
        else:
            return None
    return params


def make(out_dir: Path, pdf_dir: Path | None = None, only: str = "") -> list[tuple[str, str, str]]:
    """Render into ``out_dir``; keep the PDFs (and the XLSX of the ledgers) in ``pdf_dir`` when given;
    ``only``: just the reports whose id starts with it (then no index is written)."""
    from sqlalchemy import select

    from shell.core import auth
    from shell.core.context import Actor
    from shell.core.demo import create_demo
    from shell.core.models import Area
    from shell.core.reporting import available_reports, generate
    from shell.errors import ValidationError
    from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager

    if shutil.which("pdftoppm") is None:
        raise SystemExit("需要 pdftoppm（Debian/Ubuntu：sudo apt-get install poppler-utils）。")
    out_dir.mkdir(parents=True, exist_ok=True)
    if not only:
        for old in out_dir.glob("*.png"):
            old.unlink()
    pm = make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)
    done: list[tuple[str, str, str]] = []   # (report id, title, png name or the reason it is missing)
    with tempfile.TemporaryDirectory(prefix="jiedao-gallery-") as tmp:
        tmp = Path(tmp)
        db = create_demo(tmp / "street.sqlite", pm=pm)
        try:
            with db.session_factory() as s:
                street = s.scalars(select(Area).where(Area.level == "street")).first()
            admin = Actor(user_id=None, username="admin", display_name="管理员",
                          permissions=frozenset(auth.collect_permissions(pm)), scope_paths=(street.path,))
            for plugin, definition in available_reports(pm, admin):
                if only and not definition.id.startswith(only):
                    continue
                with db.session_factory() as s:
                    params = sample_params(s, definition)
                if params is None:
                    done.append((definition.id, definition.title, "（演示数据中没有所需的记录，未生成）"))
                    continue
                pdf = (pdf_dir or tmp) / f"{definition.id}.pdf"
                pdf.parent.mkdir(parents=True, exist_ok=True)
                pdf.unlink(missing_ok=True)
                result = generate(db.session_factory, admin, definition, params, pdf)
                if pdf_dir is not None and result.pages is not None:
                    try:
                        xlsx = pdf.with_suffix(".xlsx")
                        xlsx.unlink(missing_ok=True)
                        generate(db.session_factory, admin, definition, params, xlsx)
                    except ValidationError:  # a document: PDF only
                        pass
                stem = out_dir / definition.id
                subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", "1", "-l", "1", "-singlefile",
                                str(pdf), str(stem)], check=True)
                done.append((definition.id, definition.title, f"{definition.id}.png|{result.pages}|{plugin}"))
                print(f"{definition.id}: {definition.title}，共 {result.pages} 页", flush=True)
        finally:
            db.dispose()
    if not only:
        _index(out_dir, done)
    return done


def _index(out_dir: Path, done) -> None:
    lines = ["# 台账图集 / Ledger gallery", "",
             "Every registered report, first page, printed on the small demo street (`jiedao demo`) by its",
             "administrator (street-wide). Made by `PYTHONPATH=. python docs/ledgers/make.py` — re-run it after",
             "changing a ledger; the list comes from the plugins, so new reports appear by themselves.", "",
             "| 报表 | 编号 | 页数 | 第一页 |", "|---|---|---|---|"]
    for rid, title, what in done:
        if "|" in what:
            png, pages, _plugin = what.split("|")
            lines.append(f"| {title} | `{rid}` | {pages} | [![{title}]({png})]({png}) |")
        else:
            lines.append(f"| {title} | `{rid}` | — | {what} |")
    (out_dir / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="台账图集：每张报表第一页的 PNG 和索引")
    ap.add_argument("out", nargs="?", default=str(HERE), help="输出文件夹（默认 docs/ledgers）")
    ap.add_argument("--pdf", metavar="文件夹", help="同时保留 PDF 和 Excel 到这个文件夹")
    ap.add_argument("--only", default="", metavar="编号前缀", help="只生成编号以此开头的报表（不写索引）")
    a = ap.parse_args()
    make(Path(a.out), Path(a.pdf) if a.pdf else None, a.only)
