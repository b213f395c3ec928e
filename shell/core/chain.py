"""Tamper evidence for the append-only tables (the audit log, the points/hours ledgers, stock moves).

Each entry carries ``chain_seq`` (its place in the chain), ``chain_prev`` (the hash of the entry
before it in that order) and ``chain_hash`` = SHA-256(chain_prev + "\\n" + the canonical row). The
canonical row is a JSON object of the row's non-NULL columns (not id, not the chain columns — but the
id when it differs from chain_seq), keys sorted, values spelled one way on SQLite and PostgreSQL (see
``canon``). Deleting, editing, inserting or reordering entries breaks the chain; an attacker who
recomputes every hash after the change is caught against the head remembered at the last
verification (``core_chain_heads``) and against the head printed on the monthly 审计日志.

SQLite (one writer): a Core ``before_execute`` hook on INSERTs into a chained table (ORM flushes,
``insert(AuditLog)``, ``BulkWriter``) computes the hashes, under the write lock (BEGIN IMMEDIATE
before the head is read); chain_seq is the row's id. PostgreSQL: the server seals at commit — a
``DEFERRABLE INITIALLY DEFERRED`` constraint trigger (``jiedao_sec.chain_seal``, owner's SECURITY
DEFINER, shell/db/security/server_audit.py) gives each new row of the transaction its chain_seq and
hashes under one advisory lock taken only then, so the lock is held for the commit's last moments and
transactions no longer wait for each other while they work; the same SQL spells the canonical row
(proved against ``canon`` in tests/security/test_server_audit.py). Rows the server audits itself
(secured databases) are chained the same way.

No Qt here: used by ``jiedao audit verify``, by opening a database and by the migrations.
"""
from __future__ import annotations

import hashlib
import json
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeGuard

from sqlalchemy import Boolean, Date, DateTime, Engine, Float, Integer, Numeric, Table, event, text
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import JSON

from shell.clock import utcnow
from shell.db.guards import LOCK_KEY as LOCK_KEY  # the seal lock: in the db layer, which explains its timeout
from shell.db.guards import LOCK_MESSAGE as LOCK_MESSAGE
from shell.db.guards import LOCK_WAIT_SECONDS as LOCK_WAIT_SECONDS

GENESIS = "0" * 64
PREV, HASH, SEQ = "chain_prev", "chain_hash", "chain_seq"
SKIP = {"id", PREV, HASH, SEQ}
OPEN_LIMIT = 20_000          # entries verified per chain when a database opens; the rest next time
HEADS = "core_chain_heads"

ACTION_LABELS = {"deleted": "被删除", "edited": "被修改", "inserted": "被插入（伪造）",
                 "reordered": "顺序被调换", "unchained": "没有链哈希（绕过程序写入）"}


# ---------------------------------------------------------------- canonical form

def _utc_text(value: datetime) -> str:
    # SQLite's stored spelling (SQLAlchemy always writes microseconds), so raw SQLite text agrees.
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _by_value(value: Any) -> Any:
    """Values read without column types (a raw query: SQLite gives text for times)."""
    if isinstance(value, datetime):
        return _utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b:" + hashlib.sha256(bytes(value)).hexdigest()
    return value


def _json(value: Any) -> str:
    # The round trip is what the database keeps (tuples → lists, int keys → text keys).
    return json.dumps(json.loads(json.dumps(value)), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _datetime(value: Any) -> str:
    return _utc_text(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, date) else str(value)


def canon_kind(col_type) -> str:
    """How a column of this type is spelled in the canonical row: json | datetime | date | bool | int |
    float | numeric | bytes | value. One list for Python (``_normaliser``) and for the server, which
    seals PostgreSQL entries with the same spelling (shell/db/security/server_audit.py)."""
    from sqlalchemy import LargeBinary
    impl = getattr(col_type, "impl", None)
    if isinstance(col_type, JSON) or isinstance(impl, JSON):
        return "json"
    if isinstance(col_type, DateTime) or isinstance(impl, DateTime):
        return "datetime"
    if isinstance(col_type, Date):
        return "date"
    if isinstance(col_type, Boolean):
        return "bool"
    if isinstance(col_type, Integer):
        return "int"
    if isinstance(col_type, Float):
        return "float"
    if isinstance(col_type, Numeric):
        return "numeric"
    if isinstance(col_type, LargeBinary) or isinstance(impl, LargeBinary):
        return "bytes"
    return "value"


_BY_KIND = {
    "json": _json, "datetime": _datetime, "date": _date, "bool": bool, "int": int,
    "float": lambda v: repr(float(v)),
    "numeric": lambda v: str(Decimal(str(v)).normalize()),
}


def _normaliser(col_type):
    """The function that spells a value of this column type canonically."""
    return _BY_KIND.get(canon_kind(col_type), _by_value)


_NORMALISERS: weakref.WeakKeyDictionary[Table, dict] = weakref.WeakKeyDictionary()


def _normalisers(table: Table) -> dict:
    found = _NORMALISERS.get(table)
    if found is None:
        found = _NORMALISERS[table] = {c.key: _normaliser(c.type) for c in table.columns}
    return found


def canon(row: dict, table: Table | None = None) -> str:
    """The canonical row. With ``table`` the values are normalised by column type (inserts, typed
    reads); without, by value (raw reads of tables whose models are not loaded)."""
    norm = _normalisers(table) if table is not None else {}
    out = {key: norm.get(key, _by_value)(value) for key, value in row.items()
           if value is not None and key not in SKIP}
    seq, ident = row.get(SEQ), row.get("id")
    if seq is not None and ident is not None and int(seq) != int(ident):
        out["id"] = int(ident)   # sealed out of id order: the id is covered, so ids cannot be swapped
    return json.dumps(out, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def link(prev: str, canonical: str) -> str:
    return hashlib.sha256(f"{prev}\n{canonical}".encode()).hexdigest()


def is_chained(table) -> TypeGuard[Table]:
    return isinstance(table, Table) and HASH in table.c


# ---------------------------------------------------------------- computing hashes at insert

def server_seals(conn) -> bool:
    """PostgreSQL with the sealing trigger (c0005): the server chains at commit, the program does
    nothing. Asked once per connection."""
    if conn.dialect.name != "postgresql":
        return False
    info = conn.connection.info
    found = info.get("jiedao_seals")
    if found is None:
        from shell.db.guards import sealing_available
        found = info["jiedao_seals"] = sealing_available(conn)
    return found


def lock_chains(conn) -> None:
    """Serialise appends until the transaction ends: SQLite's write lock, or — on a PostgreSQL
    database not sealing yet (before c0005) — the advisory lock."""
    if conn.dialect.name == "postgresql":
        # Bounded, like SQLite's busy timeout: a desktop that lost its network mid-transaction must
        # not stop every other desktop from saving until the server notices.
        waited, pause = 0.0, 0.005
        while not conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({LOCK_KEY})").scalar():
            if waited >= LOCK_WAIT_SECONDS:
                from shell.errors import DatabaseError
                raise DatabaseError(LOCK_MESSAGE)
            time.sleep(pause)
            waited += pause
            pause = min(pause * 2, 0.2)
        return
    dbapi = conn.connection.dbapi_connection
    if not dbapi.in_transaction:
        # Take the write lock before reading the head (a deferred BEGIN would read an old snapshot).
        if dbapi.isolation_level is not None:
            dbapi.isolation_level = None
        dbapi.execute("BEGIN IMMEDIATE")




def head(conn, table_name: str) -> str:
    value = conn.exec_driver_sql(
        f"SELECT {HASH} FROM {table_name} WHERE {SEQ} IS NOT NULL ORDER BY {SEQ} DESC LIMIT 1").scalar()
    return value or GENESIS


def _head_seq(conn, table_name: str) -> tuple[int, str]:
    row = conn.exec_driver_sql(
        f"SELECT {SEQ}, {HASH} FROM {table_name} WHERE {SEQ} IS NOT NULL ORDER BY {SEQ} DESC LIMIT 1").first()
    return (row[0], row[1] or GENESIS) if row else (0, GENESIS)


_DEFAULTED: weakref.WeakKeyDictionary[Table, list] = weakref.WeakKeyDictionary()


def _defaults(table: Table, row: dict) -> dict:
    """Python-side column defaults, filled here so the hash covers what the row will hold."""
    defaulted = _DEFAULTED.get(table)
    if defaulted is None:
        defaulted = _DEFAULTED[table] = [
            (c.key, c.default) for c in table.columns
            if c.key not in SKIP and c.default is not None
            and (getattr(c.default, "is_scalar", False) or getattr(c.default, "is_callable", False))]
    for key, default in defaulted:
        if key not in row:
            row[key] = default.arg if default.is_scalar else default.arg(None)
    return row


def chain_rows(conn, table: Table, rows: list[dict]) -> list[dict]:
    """Rows with chain_seq/chain_prev/chain_hash set, chained onto the table's head (lock taken).
    Rows that already carry a hash (a copy of a chained database) are kept as they are. On a
    PostgreSQL database that seals at commit the rows go in as they are."""
    if rows and all(r.get(HASH) for r in rows):
        return rows
    if server_seals(conn):
        return rows
    lock_chains(conn)
    seq, prev = _head_seq(conn, table.name)
    # SQLite gives an INSERT without id the largest rowid + 1 (no AUTOINCREMENT here), so the seq
    # of each row is its id and the canonical row needs no id.
    next_id = (conn.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar() or 0) + 1
    out = []
    for r in rows:
        r = _defaults(table, dict(r))
        ident = r.get("id")
        if ident is None:
            ident = next_id
        next_id = max(next_id, ident) + 1
        if not r.get(HASH):
            seq = max(seq + 1, ident) if conn.dialect.name == "sqlite" else seq + 1
            r[SEQ], r[PREV] = seq, prev
            r[HASH] = link(prev, canon({**r, "id": ident}, table))
        else:
            seq = r.get(SEQ) or seq
        prev = r[HASH]
        out.append(r)
    return out


@event.listens_for(Engine, "before_execute", retval=True)
def _chain_inserts(conn, clauseelement, multiparams, params, execution_options):
    if not isinstance(clauseelement, Insert) or not is_chained(clauseelement.table):
        return clauseelement, multiparams, params
    if clauseelement._values or clauseelement._multi_values or clauseelement.select is not None:
        raise RuntimeError(f"{clauseelement.table.name} 是防篡改链表：请以参数列表插入（insert(表), 行），"
                           "不要用 .values() 或 INSERT … SELECT，否则无法计算链哈希。")
    if multiparams:
        return clauseelement, chain_rows(conn, clauseelement.table, multiparams), params
    return clauseelement, [], chain_rows(conn, clauseelement.table, [params])[0]


def _fill_orm_defaults(session, _flush_context, _instances) -> None:
    # ORM objects get their Python defaults now, so the object holds the value the hash covered.
    from sqlalchemy import inspect as sa_inspect
    for obj in session.new:
        table = getattr(type(obj), "__table__", None)
        if not is_chained(table):
            continue
        state = sa_inspect(obj)
        for col in table.columns:
            default: Any = col.default   # a ColumnDefault: a scalar or a callable in .arg
            if col.key in SKIP or default is None or col.key in state.dict:   # set, even to None
                continue
            if getattr(default, "is_scalar", False):
                setattr(obj, col.key, default.arg)
            elif getattr(default, "is_callable", False):
                setattr(obj, col.key, default.arg(None))


def _register_session_hook() -> None:
    from shell.db.session import JiedaoSession
    if not event.contains(JiedaoSession, "before_flush", _fill_orm_defaults):
        event.listen(JiedaoSession, "before_flush", _fill_orm_defaults)


_register_session_hook()


# ---------------------------------------------------------------- verification

@dataclass
class Break:
    table: str
    entry_id: int | None
    at: str
    what: str          # deleted | edited | inserted | reordered | unchained
    detail: str

    def message(self) -> str:
        where = f"第 {self.entry_id} 条" if self.entry_id is not None else "末尾"
        when = f"（{self.at}）" if self.at else ""
        return f"{self.table} {where}{when}{ACTION_LABELS.get(self.what, self.what)}：{self.detail}"


@dataclass
class ChainResult:
    table: str
    checked: int = 0
    last_id: int | None = None
    last_hash: str | None = None
    broken: Break | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


@dataclass
class VerifyReport:
    chains: list[ChainResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.chains)

    @property
    def first_break(self) -> Break | None:
        return next((c.broken for c in self.chains if c.broken), None)


def _conn(session_or_conn):
    return session_or_conn.connection() if hasattr(session_or_conn, "connection") and \
        not hasattr(session_or_conn, "exec_driver_sql") else session_or_conn


def chained_tables(conn) -> dict[str, str]:
    """{table: guard message} of the chains this database has (written by the migrations)."""
    return dict(conn.exec_driver_sql(f"SELECT chain, message FROM {HEADS} ORDER BY chain").all())


def _metadata_table(name: str) -> Table | None:
    from shell.db.base import Base
    return Base.metadata.tables.get(name)


def _time_of(row: dict) -> str:
    for key in ("at", "occurred_at", "created_at"):
        value = row.get(key)
        if value is not None:
            text_ = _utc_text(value) if isinstance(value, datetime) else str(value)
            return text_[:19] + " UTC"
    return ""


def _rows(conn, name: str, after_seq: int | None, limit: int | None):
    """The chain in its order (chain_seq), then the rows without a place (written past the program
    and the server: judged as inserted)."""
    table = _metadata_table(name)
    if table is not None:
        from sqlalchemy import select

        def typed():
            stmt = select(table).where(table.c[SEQ].isnot(None)).order_by(table.c[SEQ])
            if after_seq is not None:
                stmt = stmt.where(table.c[SEQ] > after_seq)
            if limit is not None:
                stmt = stmt.limit(limit)
            yield from conn.execute(stmt, execution_options={"yield_per": 5000}).mappings()
            yield from conn.execute(select(table).where(table.c[SEQ].is_(None)).order_by(table.c.id)).mappings()
        return table, typed()
    where = "" if after_seq is None else f" AND {SEQ} > {int(after_seq)}"
    lim = "" if limit is None else f" LIMIT {int(limit)}"

    def raw():
        yield from conn.exec_driver_sql(f"SELECT * FROM {name} WHERE {SEQ} IS NOT NULL{where} ORDER BY {SEQ}{lim}",
                                        execution_options={"yield_per": 5000}).mappings()
        yield from conn.exec_driver_sql(f"SELECT * FROM {name} WHERE {SEQ} IS NULL ORDER BY id").mappings()
    return None, raw()


def _later_has(conn, name: str, after_seq: int | None, value: str) -> int | None:
    if after_seq is None:
        return conn.execute(text(f"SELECT min(id) FROM {name} WHERE {SEQ} IS NULL AND {HASH} = :h"),
                            {"h": value}).scalar()
    return conn.execute(text(f"SELECT min(id) FROM {name} WHERE ({SEQ} > :s OR {SEQ} IS NULL) AND {HASH} = :h"),
                        {"s": after_seq, "h": value}).scalar()


def _seq_of(conn, name: str, entry_id: int) -> tuple[int | None, str | None] | None:
    row = conn.execute(text(f"SELECT {SEQ}, {HASH} FROM {name} WHERE id = :i"), {"i": entry_id}).first()
    return (row[0], row[1]) if row else None


def _judge(conn, name: str, s: dict) -> Break:
    if s["kind"] == "unchained":
        return Break(name, s["id"], s["at"], "inserted", "这一条没有链哈希，不是本程序写入的")
    if s["kind"] == "hash":
        return Break(name, s["id"], s["at"], "edited", "内容与链哈希不符")
    if s["before_prev"] is not None and s["p"] == s["before_prev"]:
        return Break(name, s["id"], s["at"], "inserted",
                     f"这一条与第 {s['prev_id']} 条都接在更早的同一条之后：其中一条是后插入的")
    if s["p"] and _later_has(conn, name, s["seq"], s["p"]):
        return Break(name, s["id"], s["at"], "reordered", "这一条接在后面某条之后：记录的顺序被调换")
    gap = f"第 {s['prev_id']} 条与第 {s['id']} 条之间" if s["prev_id"] is not None else f"第 {s['id']} 条之前"
    return Break(name, s["id"], s["at"], "deleted", f"{gap}的记录被删除")


def verify_chain(conn, name: str, since: tuple[int, str | None] | None = None,
                 limit: int | None = None, anchor: tuple[int, str | None] | None = None) -> ChainResult:
    """Walk one chain in id order from the start (or from ``since`` = (id, hash) already verified).
    ``anchor`` is the head remembered at the last verification: the chain must still reach it.
    A suspicious entry is judged with the one after it (an entry the next one links past was
    inserted; a link to a later entry's hash is a reorder)."""
    res = ChainResult(name)
    expected: str | None
    after_id, expected = (since if since else (None, GENESIS))
    after_seq = None
    if since:
        stored = _seq_of(conn, name, since[0])
        if stored is None or stored[1] != since[1]:
            what = "deleted" if stored is None else "edited"
            res.broken = Break(name, since[0], "", what,
                               "上次核验时的链尾这一条已不在或内容变了：其后的记录被删除或整体重写")
            return res
        after_seq = stored[0]
    table, rows = _rows(conn, name, after_seq, limit)
    prev_id, before_prev = after_id, None       # before_prev: the hash two entries back
    reached = False
    suspect: dict | None = None
    for row in rows:
        row = dict(row)
        rid, p, h = row["id"], row.get(PREV), row.get(HASH)
        if suspect is not None:
            if p == suspect["expected"] and not (suspect["kind"] == "link" and suspect["p"]
                                                  and _later_has(conn, name, suspect["seq"], suspect["p"])):
                res.broken = Break(name, suspect["id"], suspect["at"], "inserted",
                                   "这一条不在原链上：后一条仍接在它前面一条之后，它是后插入的")
            else:
                res.broken = _judge(conn, name, suspect)
            return res
        kind = ("unchained" if not h else "link" if p != expected
                else "hash" if link(str(p), canon(row, table)) != h else None)
        if kind:
            suspect = dict(id=rid, seq=row.get(SEQ), at=_time_of(row), kind=kind, p=p, expected=expected,
                           before_prev=before_prev, prev_id=prev_id)
            continue
        before_prev, expected, prev_id = expected, h, rid
        reached = reached or (anchor is not None and rid == anchor[0])
        res.checked += 1
        res.last_id, res.last_hash = rid, h
    if suspect is not None:
        res.broken = _judge(conn, name, suspect)
        return res
    if anchor and limit is None and not reached and not (since and since[0] == anchor[0]):
        have = res.last_id if res.last_id is not None else (since[0] if since else 0)
        if _seq_of(conn, name, anchor[0]) is None:
            res.broken = Break(name, anchor[0], "", "deleted",
                               f"上次核验时链尾是第 {anchor[0]} 条，现在只到第 {have} 条：末尾的记录被删除")
    return res


def _heads(conn) -> dict[str, tuple[int | None, str | None]]:
    return {c: (i, h) for c, i, h in conn.exec_driver_sql(
        f"SELECT chain, verified_id, verified_hash FROM {HEADS}").all()}


def remember(conn, result: ChainResult) -> None:
    if result.ok and result.last_id is not None:
        # Forward only, in chain order (two verifications at once must not move it back).
        seq = f"(SELECT {SEQ} FROM {result.table} WHERE id = {{}})"
        conn.execute(text(f"UPDATE {HEADS} SET verified_id = :i, verified_hash = :h, verified_at = :t "
                          f"WHERE chain = :c AND (verified_id IS NULL OR {seq.format('verified_id')} IS NULL "
                          f"OR {seq.format('verified_id')} <= {seq.format(':i')})"),
                     {"i": result.last_id, "h": result.last_hash, "t": _utc_text(utcnow()), "c": result.table})


def remember_tails(session_or_conn) -> None:
    """Take every chain's last entry as verified, without walking: only for data this process has
    just written itself (a demo street built in bulk)."""
    conn = _conn(session_or_conn)
    for name in chained_tables(conn):
        found = chain_head(conn, name)
        if found:
            remember(conn, ChainResult(name, last_id=found[0], last_hash=found[1]))


def verify(session_or_conn, since: str | None = None, tables: Iterable[str] | None = None,
           limit: int | None = None, save: bool = True) -> VerifyReport:
    """Check the chains. ``since=None`` walks every chain from its first entry; ``since="verified"``
    only the entries added after the head remembered at the last verification (opening). The
    remembered head is moved forward to what was verified intact when ``save``."""
    conn = _conn(session_or_conn)
    report = VerifyReport()
    heads = _heads(conn)
    for name in (list(tables) if tables is not None else list(heads)):
        vid, vhash = heads.get(name, (None, None))
        anchor = (vid, vhash) if vid is not None else None
        start = anchor if since == "verified" else None
        result = verify_chain(conn, name, since=start, limit=limit, anchor=anchor)
        if start and result.last_id is None and result.ok:
            result.last_id, result.last_hash = start
        if result.ok and anchor and since is None and result.last_id is not None:
            stored = conn.execute(text(f"SELECT {HASH} FROM {name} WHERE id = :i"), {"i": anchor[0]}).scalar()
            if stored is None:
                result.broken = Break(name, anchor[0], "", "deleted",
                                      "上次核验时的链尾这一条已不在：末尾的记录被删除（之后的新记录接在了更早的一条上）")
            elif stored != anchor[1]:
                result.broken = Break(name, anchor[0], "", "edited",
                                      "链尾与上次核验时记下的不同：这一条及之前的记录被改写并重算了哈希")
        report.chains.append(result)
        if save and result.last_id != vid:
            remember(conn, result)
    return report


def chain_head(session_or_conn, table: str, until_id: int | None = None) -> tuple[int, str] | None:
    """(id, hash) of the last entry in chain order (up to the entry ``until_id``)."""
    conn = _conn(session_or_conn)
    where = "" if until_id is None else f" AND {SEQ} <= (SELECT {SEQ} FROM {table} WHERE id = {int(until_id)})"
    row = conn.exec_driver_sql(f"SELECT id, {HASH} FROM {table} WHERE {SEQ} IS NOT NULL{where} "
                               f"ORDER BY {SEQ} DESC LIMIT 1").first()
    return (row[0], row[1]) if row and row[1] else None


def grouped(hash_: str, chars: int = 16) -> str:
    return " ".join(hash_[i:i + 4] for i in range(0, chars, 4))


# ---------------------------------------------------------------- guards

class _Op:
    """Just enough of alembic's ``op`` for shell.db.guards outside a migration."""

    def __init__(self, conn):
        self.conn = conn

    def get_bind(self):
        return self.conn

    def execute(self, sql: str):
        self.conn.exec_driver_sql(sql)


def _guard_state(conn) -> dict[str, set[str]]:
    """{table: names of the *enabled* append-only triggers on it}."""
    found: dict[str, set[str]] = {}
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'").all()
    else:
        rows = conn.exec_driver_sql(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'").all()
    for table, name in rows:
        found.setdefault(table, set()).add(name)
    return found


def guard_names(dialect: str, table: str, sealing: bool = False) -> set[str]:
    if dialect == "sqlite":
        return {f"{table}_no_update", f"{table}_no_delete"}
    from shell.db.guards import guard_names_pg
    return guard_names_pg(table, sealing)


def restore_guards(conn) -> list[str]:
    """Re-create the append-only triggers that were dropped or disabled; the tables repaired."""
    from shell.db.guards import create_append_only, drop_append_only, sealing_available
    state = _guard_state(conn)
    sealing = sealing_available(conn)
    repaired = []
    for table, message in chained_tables(conn).items():
        if guard_names(conn.dialect.name, table, sealing) <= state.get(table, set()):
            continue
        op = _Op(conn)
        drop_append_only(op, table)
        create_append_only(op, table, message)
        repaired.append(table)
    return repaired


# ---------------------------------------------------------------- migrations

def add_chain(op, table: str, message: str) -> None:
    """For a migration: add the chain columns to an append-only table, chain its existing rows
    (the guard is dropped around the back-fill and re-created) and register the chain, its guard
    message and its head as verified in core_chain_heads."""
    import sqlalchemy as sa

    from shell.db.guards import create_append_only, drop_append_only
    op.add_column(table, sa.Column(PREV, sa.String(64), nullable=True))
    op.add_column(table, sa.Column(HASH, sa.String(64), nullable=True))
    _add_seq_column(op, table)
    conn = op.get_bind()
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    prev, updates = GENESIS, []
    for row in conn.execute(sa.select(reflected).order_by(reflected.c.id),
                            execution_options={"yield_per": 5000}).mappings():
        h = link(prev, canon(dict(row), reflected))
        updates.append({"k": row["id"], "p": prev, "h": h})
        prev = h
    if updates:
        drop_append_only(op, table)
        stmt = sa.text(f"UPDATE {table} SET {PREV} = :p, {HASH} = :h, {SEQ} = id WHERE id = :k")
        for i in range(0, len(updates), 5000):
            conn.execute(stmt, updates[i:i + 5000])
        create_append_only(op, table, message)
    else:
        drop_append_only(op, table)     # the guard as this program makes it (with the server's sealing)
        create_append_only(op, table, message)
    last = updates[-1] if updates else None
    conn.execute(sa.text(f"INSERT INTO {HEADS} (chain, message, verified_id, verified_hash, verified_at) "
                         "VALUES (:c, :m, :i, :h, :t)"),
                 {"c": table, "m": message, "i": last["k"] if last else None,
                  "h": last["h"] if last else None, "t": _utc_text(utcnow())})


def _add_seq_column(op, table: str) -> None:
    import sqlalchemy as sa
    op.add_column(table, sa.Column(SEQ, sa.Integer(), nullable=True))
    op.create_index(f"ix_{table}_{SEQ}", table, [SEQ], unique=False)


def add_chain_order(op, table: str) -> None:
    """For c0005: give a chain made before it its order column (chain_seq = id: the chain was in id
    order) and the guard of this program (on PostgreSQL with the sealing triggers)."""
    import sqlalchemy as sa

    from shell.db.guards import create_append_only, drop_append_only
    conn = op.get_bind()
    columns = {c["name"] for c in sa.inspect(conn).get_columns(table)}
    message = conn.execute(sa.text(f"SELECT message FROM {HEADS} WHERE chain = :c"), {"c": table}).scalar()
    drop_append_only(op, table)
    if SEQ not in columns:
        _add_seq_column(op, table)
        conn.exec_driver_sql(f"UPDATE {table} SET {SEQ} = id WHERE {HASH} IS NOT NULL")
    create_append_only(op, table, message)


def drop_chain_order(op, table: str) -> None:
    import sqlalchemy as sa

    from shell.db.guards import create_append_only, drop_append_only
    conn = op.get_bind()
    message = conn.execute(sa.text(f"SELECT message FROM {HEADS} WHERE chain = :c"), {"c": table}).scalar()
    drop_append_only(op, table)
    op.drop_index(f"ix_{table}_{SEQ}", table_name=table)
    with op.batch_alter_table(table) as batch:
        batch.drop_column(SEQ)
    create_append_only(op, table, message, seal=False)


def drop_chain(op, table: str) -> None:
    import sqlalchemy as sa
    op.get_bind().execute(sa.text(f"DELETE FROM {HEADS} WHERE chain = :c"), {"c": table})
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
    if SEQ in columns:
        op.drop_index(f"ix_{table}_{SEQ}", table_name=table)
    with op.batch_alter_table(table) as batch:
        if SEQ in columns:
            batch.drop_column(SEQ)
        batch.drop_column(HASH)
        batch.drop_column(PREV)
