"""The hash chains sealed by the server at commit (issue 15 item 9's lock replaced): the canonical
row spelled in SQL is exactly ``chain.canon`` — on hundreds of random rows of every column type —,
entries sealed by parallel transactions verify in Python, and nobody but the owner hands in hashes."""
from __future__ import annotations

import json
import random
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
    text,
)

from shell.core import chain
from shell.db.base import UTCDateTime
from shell.db.guards import create_append_only
from shell.db.security import server_audit

PROBE = "probe_chain"


def _probe_table() -> Table:
    return Table(PROBE, MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime),
                 Column("day", Date), Column("n", Integer), Column("f", Float), Column("d", Numeric(18, 6)),
                 Column("b", Boolean), Column("s", String(200)), Column("tx", Text), Column("j", JSON),
                 Column("raw", LargeBinary), Column("chain_prev", String(64)), Column("chain_hash", String(64)),
                 Column("chain_seq", Integer, index=True))


def _random_rows(n: int, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)

    def rnd_json(depth=0):
        k = rng.random()
        if depth > 2 or k < 0.3:
            return rng.choice([None, True, False, 0, -7, 2 ** 40, 1.5, 0.1, 1e-7, 1e15, 1.5e16, 123456.789, -0.0,
                               "中文\"引号\\", "\n\t\x01\x7f\u2028", "", "é😀"])
        if k < 0.65:
            return {rng.choice(["b", "a", "中", "Z", "a_b", "aa", "é"]) + str(i): rnd_json(depth + 1)
                    for i in range(rng.randint(0, 4))}
        return [rnd_json(depth + 1) for _ in range(rng.randint(0, 4))]

    rows = []
    for i in range(n):
        r = dict.fromkeys(("at", "day", "n", "f", "d", "b", "s", "tx", "j", "raw"))
        if rng.random() < .8:
            r["at"] = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(
                seconds=rng.randint(0, 10 ** 8), microseconds=rng.choice([0, 1, 500000, rng.randint(0, 999999)]))
        if rng.random() < .8:
            r["day"] = date(2020, 1, 1) + timedelta(days=rng.randint(0, 4000))
        if rng.random() < .8:
            r["n"] = rng.randint(-2 ** 31, 2 ** 31 - 1)
        if rng.random() < .8:
            r["f"] = rng.choice([0.0, -0.0, 1.0, 0.1, 1e-5, 1e-4, 1e15, 1e16, 1.5e15, 123.456, rng.uniform(-1e6, 1e6),
                                 rng.random() * 10 ** rng.randint(-10, 20)])
        if rng.random() < .8:
            r["d"] = rng.choice([Decimal("0"), Decimal("100"), Decimal("1.500000"), Decimal("0.000001"),
                                 Decimal("-12.34"), Decimal(rng.randint(0, 10 ** 9)) / Decimal(10 ** rng.randint(0, 6))])
        if rng.random() < .8:
            r["b"] = rng.random() < .5
        if rng.random() < .8:
            r["s"] = rng.choice(["街道办事处", "a\"b\\c", "tab\there", "", "😀 emoji", "x" * 150, f"第{i}条"])
        if rng.random() < .5:
            r["tx"] = f"第{i}次\n换行"
        if rng.random() < .8:
            r["j"] = rnd_json()
        if rng.random() < .3:
            r["raw"] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
        rows.append(r)
    return rows


@pytest.fixture
def probe(pg_empty_url):
    """An empty database with the sealing functions and a chained probe table of every column type."""
    engine = create_engine(pg_empty_url)
    table = _probe_table()
    with engine.begin() as conn:
        table.metadata.create_all(conn)
        server_audit.install_sealing(conn)
        create_append_only(chain._Op(conn), PROBE, "probe is append-only")
    yield engine, table
    engine.dispose()


def test_the_canonical_row_in_sql_is_pythons(probe):
    engine, table = probe
    rows = _random_rows(600)
    kinds = json.dumps(server_audit.kinds(table))
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL TimeZone = 'Asia/Shanghai'"))
        conn.execute(text("SET LOCAL extra_float_digits = 0"))   # the sealing must not depend on it
        conn.execute(insert(table), rows)
    with engine.connect() as conn:
        conn.execute(text("SET TimeZone = 'Asia/Shanghai'"))
        got = conn.execute(select(table, text(f"jiedao_sec.canon_row(to_json({PROBE}), '{kinds}'::jsonb) AS pg"))
                           .order_by(table.c.id)).mappings().all()
    assert len(got) == 600
    differ = [(chain.canon({k: v for k, v in r.items() if k != "pg"}, table), r["pg"])
              for r in got if chain.canon({k: v for k, v in r.items() if k != "pg"}, table) != r["pg"]]
    assert differ == []


def test_entries_sealed_by_parallel_transactions_verify(probe, monkeypatch):
    """Eight transactions insert at once, each kept open a while: the server seals each at its commit
    (commit order ≠ id order), every hash is what Python recomputes, verify walks the whole chain."""
    engine, table = probe
    rows = _random_rows(400, seed=11)
    barrier = threading.Barrier(8)
    errors = []

    def writer(k: int):
        try:
            part = rows[k::8]
            with engine.connect() as conn:
                barrier.wait()
                for i in range(0, len(part), 10):
                    with conn.begin():
                        conn.execute(insert(table), part[i:i + 10])
                        conn.execute(text("SELECT pg_sleep(0.005 * :k)"), {"k": (k * 7 + i) % 5})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with engine.connect() as conn:
        got = conn.execute(select(table).order_by(table.c.chain_seq)).mappings().all()
        assert len(got) == 400 and all(r["chain_hash"] for r in got)
        assert [r["chain_seq"] for r in got] == list(range(1, 401))
        assert any(r["chain_seq"] != r["id"] for r in got)            # sealed in commit order
        prev = chain.GENESIS
        for r in got:
            assert r["chain_prev"] == prev and chain.link(prev, chain.canon(dict(r), table)) == r["chain_hash"]
            prev = r["chain_hash"]
        # verify walks it as it walks the audit log (typed reads: a JSON scalar is spelled as JSON)
        monkeypatch.setattr(chain, "_metadata_table", lambda name: table if name == PROBE else None)
        result = chain.verify_chain(conn, PROBE)
        assert result.ok and result.checked == 400, result.broken


def test_hashes_handed_in_are_replaced_and_an_unsealed_row_cannot_be_edited(probe, pg_server):
    """A role that does not own the table cannot bring its own chain values (cleared, then sealed);
    the owner's copy keeps them. The sealing UPDATE is the only one the guard lets through."""
    import uuid

    from sqlalchemy.engine import make_url
    engine, table = probe
    role = f"probe_{uuid.uuid4().hex[:8]}"
    with pg_server.connect() as admin:
        admin.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'probe-Pass-1'"))
    try:
        with engine.begin() as conn:
            conn.execute(text(f"GRANT SELECT, INSERT, UPDATE ON {PROBE} TO {role}"))
            conn.execute(text(f"GRANT USAGE ON SEQUENCE {PROBE}_id_seq TO {role}"))
        other = create_engine(make_url(engine.url).set(username=role, password="probe-Pass-1"))
        try:
            with other.begin() as conn:
                conn.execute(insert(table), [{"s": "伪", "chain_prev": "0" * 64, "chain_hash": "f" * 64, "chain_seq": 99}])
            with other.begin() as conn:
                row = conn.execute(select(table)).mappings().one()
                assert row["chain_seq"] == 1 and row["chain_hash"] != "f" * 64
                assert row["chain_hash"] == chain.link(chain.GENESIS, chain.canon(dict(row), table))
            with pytest.raises(Exception, match="append-only"):
                with other.begin() as conn:
                    conn.execute(text(f"UPDATE {PROBE} SET s = 'x'"))
            with pytest.raises(Exception, match="append-only"):
                with other.begin() as conn:      # even before its commit sealed it, only sealing passes
                    conn.execute(insert(table), [{"s": "新"}])
                    conn.execute(text(f"UPDATE {PROBE} SET s = '改' WHERE chain_hash IS NULL"))
        finally:
            other.dispose()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role} CASCADE"))
        with pg_server.connect() as admin:
            admin.execute(text(f"DROP ROLE {role}"))
