"""A desktop killed in the middle of work (power cut, task manager, SIGKILL) leaves the database
consistent: an import, a reward redemption and a ledger are each interrupted in a child process
right after they have written inside their transaction, and afterwards nothing of them remains."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from shell.core.database import open_database
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
from shell.testing import ALL_BUILTINS

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child before the work: the first statement matching MARK prints MID and then hangs
# inside the still-open transaction, so the parent kills it at exactly that point.
PRELUDE = textwrap.dedent("""
    import sys, time
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "after_cursor_execute")
    def _hang(conn, cursor, statement, params, context, executemany):
        if MARK in statement:
            print("MID", flush=True)
            time.sleep(120)
""")


def _pm():
    return make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def street(request, tmp_path_factory, sqlite_templates):
    """The target (file path or URL) of a demo street with every built-in plugin (a copy of the run's
    template). Shared by the module's tests: each one checks that its killed child left the street
    exactly as it was."""
    if request.param == "sqlite":
        yield str(sqlite_templates.copy(tmp_path_factory.mktemp("kill") / "street.sqlite", ALL_BUILTINS, demo=True))
        return
    with request.getfixturevalue("pg_templates").clone(ALL_BUILTINS, demo=True, prefix="jd_test_kill") as url:
        yield url.render_as_string(hide_password=False)


def _kill_at_mark(tmp_path: Path, mark: str, body: str) -> None:
    script = tmp_path / "child.py"
    script.write_text(f"MARK = {mark!r}\n" + PRELUDE + textwrap.dedent(body), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=str(ROOT))
    try:
        line = proc.stdout.readline()
        if line.strip() != "MID":
            proc.kill()
            pytest.fail(f"the child never reached its mark: {line!r} {proc.stderr.read()[-2000:]}")
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()


def _open(target):
    return open_database(target, pm=_pm(), backup=False)


def _count(db, sql: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _integrity_ok(db) -> None:
    if db.is_sqlite:
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []


def test_import_killed_mid_file_writes_nothing(street, tmp_path):
    from openpyxl import Workbook
    from stdnum.cn import ric

    db = _open(street)
    persons = _count(db, "SELECT COUNT(*) FROM grid_persons")
    audits = _count(db, "SELECT COUNT(*) FROM core_audit_log")
    grid_code = _count(db, "SELECT code FROM core_areas WHERE level = 'grid' ORDER BY id LIMIT 1")
    db.dispose()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("实有人口")
    ws.append(["姓名", "公民身份号码", "责任网格"])
    for i in range(3000):
        base = f"11010519800101{i:03d}"[:17] if i < 1000 else f"1101051981{(i % 12) + 1:02d}15{i % 1000:03d}"[:17]
        ws.append([f"测试{i}", base + ric.calc_check_digit(base + "0"), grid_code])
    xlsx = tmp_path / "persons.xlsx"
    wb.save(str(xlsx))

    # The mark is the import's own audit entry, written after every row is in (PostgreSQL takes the rows
    # by COPY, which no statement hook sees) and before the commit.
    _kill_at_mark(tmp_path, "INSERT INTO core_audit_log", f"""
        from shell.core.context import Actor
        from shell.core.database import open_database
        from shell.core.transfer import run_import
        from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
        from plugins.grid import register_importers
        pm = make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)
        db = open_database({street!r}, pm=pm, backup=False)
        definition = [d for d in register_importers() if d.kind == "grid-persons"][0]
        run_import(db.session_factory, Actor.system(), definition, {str(xlsx)!r})
        print("FINISHED", flush=True)
    """)
    db = _open(street)
    try:
        assert _count(db, "SELECT COUNT(*) FROM grid_persons") == persons
        assert _count(db, "SELECT COUNT(*) FROM core_audit_log") == audits
        _integrity_ok(db)
    finally:
        db.dispose()


def test_redemption_killed_mid_transaction_leaves_points_stock_and_orders_agreeing(street, tmp_path):
    from plugins.volunteer import services as vsvc
    from plugins.volunteer.models import RedemptionOrder, RewardItem, VolunteerAccount

    db = _open(street)
    with db.session_factory() as s:
        item = s.scalars(select(RewardItem).where(RewardItem.stock > 0).order_by(RewardItem.points_price)).first()
        account = s.scalars(select(VolunteerAccount).where(VolunteerAccount.points_balance >= item.points_price * 2)
                            .order_by(VolunteerAccount.volunteer_id)).first()
        assert item is not None and account is not None
        before = (account.points_balance, item.stock, s.scalar(select(func.count()).select_from(RedemptionOrder)))
        vid, iid = account.volunteer_id, item.id
    db.dispose()

    _kill_at_mark(tmp_path, "INSERT INTO volunteer_redemption_lines", f"""
        from shell.core.context import Actor, ServiceContext
        from shell.core.database import open_database
        from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
        from plugins.volunteer import services as vsvc
        pm = make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)
        db = open_database({street!r}, pm=pm, backup=False)
        with db.session_factory() as s:
            vsvc.redeem(ServiceContext(s, Actor.system()), {vid}, {{{iid}: 1}})
            s.commit()
        print("FINISHED", flush=True)
    """)
    db = _open(street)
    try:
        with db.session_factory() as s:
            account = s.get(VolunteerAccount, vid)
            item = s.get(RewardItem, iid)
            after = (account.points_balance, item.stock, s.scalar(select(func.count()).select_from(RedemptionOrder)))
            assert after == before
            assert vsvc.check_consistency(s) == []
        _integrity_ok(db)
    finally:
        db.dispose()


def test_ledger_killed_mid_render_leaves_no_file_and_no_record(street, tmp_path):
    db = _open(street)
    audits = _count(db, "SELECT COUNT(*) FROM core_audit_log")
    db.dispose()
    out = tmp_path / "花名册.pdf"
    # The mark is the ledger's own query; the child hangs once it has started reading rows.
    _kill_at_mark(tmp_path, "FROM volunteer_volunteers", f"""
        from shell.core.context import Actor
        from shell.core.database import open_database
        from shell.core.reporting import available_reports, generate
        from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
        pm = make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)
        db = open_database({street!r}, pm=pm, backup=False)
        actor = Actor.system()
        definition = [d for _p, d in available_reports(pm, actor) if d.id == "volunteer.roster"][0]
        generate(db.session_factory, actor, definition, {{}}, {str(out)!r})
        print("FINISHED", flush=True)
    """)
    assert not out.exists()
    db = _open(street)
    try:
        assert _count(db, "SELECT COUNT(*) FROM core_audit_log") == audits
        _integrity_ok(db)
    finally:
        db.dispose()
