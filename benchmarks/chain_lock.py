"""Benchmark: N desktops saving at once on one PostgreSQL server — the hash chains' lock before and
after sealing at commit (issue 15, item 9's debt).

    .venv/bin/python benchmarks/chain_lock.py [--writers 8] [--rounds 15] [--work-ms 20]

Each writer is a desktop: a session on its own connection that, per round, writes an audited entry
(``audit.record`` — the audit log is a chain), does ``--work-ms`` of further work inside the same
transaction (a service's other statements, each a LAN round trip), writes a second entry and commits.

- before: the program chains at insert under one advisory lock held from the transaction's first
  chained write to its commit (the code path still used on a server without the sealing function;
  the benchmark drops ``jiedao_sec.chain_seal`` to get it);
- after: the server seals each transaction's entries at its commit (c0005).

Reported: saves per second, the slowest save (first write to commit done) and the longest wait
(a save's time minus its own work), and that the chain verifies afterwards.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shell.core import audit, chain
from shell.core.database import open_database


def run(url, mode: str, writers: int, rounds: int, work_s: float) -> dict:
    db = open_database(url, backup=False)
    try:
        if mode == "before":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS core_audit_log_chain_seal ON core_audit_log")
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS core_audit_log_chain_clear ON core_audit_log")
                conn.exec_driver_sql("DROP FUNCTION IF EXISTS jiedao_sec.chain_seal() CASCADE")
            db.engine.dispose()
        times, errors = [], []
        barrier = threading.Barrier(writers)

        def writer(k: int):
            try:
                with db.session_factory() as s:
                    s.connection()
                    barrier.wait()
                    for r in range(rounds):
                        t0 = time.perf_counter()
                        audit.record(s, "export", "core_users", summary=f"桌面{k} 第{r}次")
                        s.flush()
                        time.sleep(work_s)
                        audit.record(s, "export", "core_users", summary=f"桌面{k} 第{r}次（续）")
                        s.commit()
                        times.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        verified = None
        if mode == "after":
            with db.session_factory() as s:
                report = chain.verify(s, tables=["core_audit_log"], save=False)
                verified = (report.ok, report.chains[0].checked)
        return {"mode": mode, "saves": len(times), "errors": errors, "per_s": len(times) / elapsed,
                "slowest_ms": max(times) * 1000, "median_ms": statistics.median(times) * 1000,
                "longest_wait_ms": (max(times) - work_s) * 1000, "verified": verified}
    finally:
        db.dispose()


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--work-ms", type=float, default=20.0)
    a = p.parse_args(argv)
    admin = create_engine(a.server, isolation_level="AUTOCOMMIT")
    for mode in ("before", "after"):
        name = f"jd_bench_chain_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            res = run(make_url(a.server).set(database=name), mode, a.writers, a.rounds, a.work_ms / 1000)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        print(f"{mode:6}  {res['saves']} saves by {a.writers} writers ({a.work_ms:.0f} ms work each): "
              f"{res['per_s']:.1f} saves/s, median {res['median_ms']:.0f} ms, slowest {res['slowest_ms']:.0f} ms, "
              f"longest wait {res['longest_wait_ms']:.0f} ms"
              + (f", chain verified: {res['verified']}" if res["verified"] else "")
              + (f", errors: {res['errors'][:2]}" if res["errors"] else ""))
    admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
