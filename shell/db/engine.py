"""Engines for the two databases Jiedao runs on, and Chinese messages for what goes wrong."""
from __future__ import annotations

import errno
import ipaddress
import os
import re
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import queue as sqla_queue

from shell.errors import ConnectionLost, ConnectionsBusy, DatabaseCorrupt, DatabaseError, DiskFull

SQLITE_BUSY_TIMEOUT_MS = 10_000

# The connection budget of one desktop on a server (issue 15.8): a township's 60 desktops must fit a
# default server's max_connections = 100. At most POOL_SIZE connections at once; a thread that finds
# them all in use waits up to POOL_TIMEOUT_S; the second is closed after POOL_IDLE_S seconds unused,
# so an idle desktop keeps one (the status bar's check every 15 s uses it). Short: a desktop that did
# two things at once keeps its second connection only for a burst of work — with 30 s, 60 desktops
# doing a page and a search each within half a minute filled a default server (benchmarks/lan.py).
POOL_SIZE = 2
POOL_TIMEOUT_S = 15.0
POOL_IDLE_S = 5.0


# -- transport security (issue 15.7) --------------------------------------------------------------

def is_local_host(host: str | None) -> bool:
    """True for what never leaves this computer: no host or a socket folder (Unix socket), localhost,
    127.0.0.0/8 and ::1. Several hosts ("a,b") are local only if all are."""
    if not host:
        return True
    hosts = [h.strip() for h in str(host).split(",")]
    if len(hosts) > 1:
        return all(is_local_host(h) for h in hosts)
    h = hosts[0].strip("[]")
    if not h or h.startswith("/") or h.startswith("@") or h.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def tls_connect_args(url: URL) -> dict[str, str]:
    """The libpq TLS settings for a server URL — the one rule, for the desktop, the CLI and the tests:

    * ``sslmode`` written in the URL (or libpq's ``PGSSLMODE`` variable) is the administrator's
      explicit choice and is kept as it is (``sslmode=disable`` turns encryption off; 设置 → 数据库
      writes it when 加密 is set to 不加密);
    * ``sslrootcert`` (the CA file chosen in 设置 → 数据库) without a mode means ``verify-full``: the
      server's certificate must be signed by that CA and name the host connected to;
    * otherwise a server other than this computer gets ``require`` (encrypted, certificate not
      checked); this computer (localhost, 127.x, ::1, a Unix socket) is left to libpq's default."""
    query = dict(url.query)
    mode = query.get("sslmode")
    if isinstance(mode, tuple):
        mode = mode[-1]
    if mode or os.environ.get("PGSSLMODE"):
        return {}  # chosen explicitly (the URL, or libpq's own variable for scripted roll-outs)
    if query.get("sslrootcert"):
        return {"sslmode": "verify-full"}
    host = url.host or query.get("host")
    if isinstance(host, tuple):
        host = ",".join(host)
    if is_local_host(host):
        return {}
    return {"sslmode": "require"}


def with_tls(url: str, mode: str, ca_file: str | None = None) -> str:
    """A server URL with the TLS choice of 设置 → 数据库 written into it (what config.json keeps):
    ``auto`` (the rule above), ``verify`` (verify-full against ``ca_file``) or ``off`` (disable)."""
    u = make_url(url)
    query = {k: v for k, v in u.query.items() if k not in ("sslmode", "sslrootcert")}
    if mode == "off":
        query["sslmode"] = "disable"
    elif mode == "verify":
        if not ca_file:
            raise DatabaseError("请选择服务器证书的 CA 文件（管理员提供的 .crt 文件），或把“加密”改为“自动”。")
        query["sslmode"] = "verify-full"
        query["sslrootcert"] = str(Path(ca_file).expanduser())
    return u.set(query=query).render_as_string(hide_password=False)


def tls_choice(url: str) -> tuple[str, str]:
    """(mode, CA file) of a server URL, as 设置 → 数据库 shows it: the inverse of ``with_tls``."""
    query = make_url(url).query
    mode, ca = query.get("sslmode") or "", query.get("sslrootcert") or ""
    if mode == "disable":
        return "off", ""
    if ca or mode in ("verify-full", "verify-ca"):
        return "verify", str(ca)
    return "auto", ""


_FULL = ("too many clients", "remaining connection slots are reserved")


def _server_full(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) == "53300" or any(s in str(orig).lower() for s in _FULL)


class BudgetPool(QueuePool):
    """QueuePool holding at most ``pool_size`` connections (no overflow), waiting ``timeout`` seconds
    for one with a Chinese message after, and closing pooled connections beyond the most recently used
    one once they have been idle ``idle_s`` seconds (a daemon timer, so an idle desktop drops to one
    without any work arriving; its place is freed, so the next need opens a new one). When the server
    is full (max_connections) and this pool already has a connection, a thread waits for that one
    instead of failing."""

    def __init__(self, creator, pool_size: int = POOL_SIZE, timeout: float = POOL_TIMEOUT_S,
                 idle_s: float = POOL_IDLE_S, **kw):
        kw.pop("max_overflow", None)
        kw["use_lifo"] = True  # the most recently used (live) connection first, closed ones last
        super().__init__(creator, pool_size=pool_size, max_overflow=0, timeout=timeout, **kw)
        self._idle_s = idle_s
        self._trim_lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def _busy(self) -> ConnectionsBusy:
        return ConnectionsBusy(
            f"本机到数据库服务器的连接都在处理其他操作（例如导入、导出或生成报表），"
            f"等待 {self._timeout:.0f} 秒仍未空出，刚才的操作没有完成，数据未被修改。\n"
            "请等正在进行的操作完成后再试一次。")

    def _do_get(self):
        try:
            return super()._do_get()
        except PoolTimeout:
            raise self._busy() from None
        except Exception as exc:
            # The server is full (max_connections) but this desktop already has a connection: wait
            # for it rather than fail, so every desktop keeps working with one when the township is busy.
            if not _server_full(exc) or self.checkedout() + self.checkedin() < 1:
                raise  # no connection of ours to wait for (it may have come back meanwhile: qsize)
        try:
            return self._pool.get(True, self._timeout)
        except sqla_queue.Empty:
            raise self._busy() from None

    def _do_return_conn(self, record) -> None:
        record._jiedao_idle_since = time.monotonic()
        super()._do_return_conn(record)
        self._schedule_trim(self._idle_s)

    def _schedule_trim(self, delay: float) -> None:
        with self._trim_lock:
            if self._timer is not None or self._pool.qsize() < 2:
                return
            self._timer = threading.Timer(max(delay, 0.01), self._trim_tick)
            self._timer.daemon = True
            self._timer.start()

    def _trim_tick(self) -> None:
        with self._trim_lock:
            self._timer = None
        left = self.trim_idle()
        if left is not None:
            self._schedule_trim(left)

    def trim_idle(self, idle_s: float | None = None) -> float | None:
        """Close the idle pooled connections beyond the most recently used one that have been unused
        for ``idle_s`` seconds (their places are freed: the next need opens a new one); return the
        seconds until the next one is due, or None."""
        idle_s = self._idle_s if idle_s is None else idle_s
        now = time.monotonic()
        taken = []
        while True:
            try:
                taken.append(self._pool.get(False))
            except sqla_queue.Empty:
                break
        kept, due = [], None
        try:
            taken.sort(key=lambda r: getattr(r, "_jiedao_idle_since", 0.0))
            for i, record in enumerate(taken):
                idle = now - getattr(record, "_jiedao_idle_since", 0.0)
                if i == len(taken) - 1 or record.dbapi_connection is None:
                    kept.append(record)
                elif idle >= idle_s:
                    try:
                        record.close()
                    finally:
                        self._dec_overflow()
                else:
                    kept.append(record)
                    due = idle_s - idle if due is None else min(due, idle_s - idle)
        finally:
            for record in kept:  # oldest first: the LIFO queue hands out the most recently used
                self._pool.put(record, False)
        return due

    def open_connections(self) -> int:
        """Connections this pool holds open to the server (in use or idle)."""
        # sqlalchemy.util.queue.Queue keeps its items in the deque .queue (not in its type stubs)
        idle = list(self._pool.queue)  # type: ignore[attr-defined]
        idle_closed = sum(r.dbapi_connection is None for r in idle)
        return self.checkedout() + self.checkedin() - idle_closed

    def dispose(self) -> None:
        with self._trim_lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        super().dispose()

    def recreate(self) -> BudgetPool:
        self.logger.info("Pool recreating")
        return self.__class__(self._creator, pool_size=self._pool.maxsize, timeout=self._timeout,
                              idle_s=self._idle_s, pre_ping=self._pre_ping,
                              recycle=self._recycle, echo=self.echo, logging_name=self._orig_logging_name,
                              reset_on_return=self._reset_on_return, _dispatch=self.dispatch,
                              dialect=self._dialect)


def normalize_url(url_or_path: str | os.PathLike) -> URL:
    """Accept a SQLite file path or a database URL; PostgreSQL always goes through psycopg 3."""
    raw = os.fspath(url_or_path).strip()
    if not raw:
        raise DatabaseError("未指定数据库：请选择一个 SQLite 文件，或填写 PostgreSQL 地址。")
    if "://" not in raw:
        return URL.create("sqlite", database=str(Path(raw).expanduser().resolve()))
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise DatabaseError(
            f"数据库地址格式不正确：{raw}\n"
            "应为 postgresql://用户名@服务器地址:5432/数据库名，或一个 SQLite 文件路径。"
        ) from None
    if url.get_backend_name() in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        return url
    raise DatabaseError(f"不支持的数据库类型“{url.get_backend_name()}”：街道工作台只支持 SQLite 文件和 PostgreSQL。")


def _sqlite_pragmas(dbapi_conn, _record):
    # WAL is switched on by migrate.upgrade() once the file is accepted as ours: setting it here
    # would rewrite the header of a file we are about to refuse.
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _sqlite_no_driver_transactions(dbapi_conn, _record):
    # The sqlite3 driver's legacy transaction control begins a transaction only before INSERT,
    # UPDATE, DELETE and REPLACE: a SAVEPOINT (begin_nested) or DDL first in a session ran outside any
    # transaction, so a released savepoint was committed for good and a later rollback left its
    # writes behind. The driver's control is switched off here (SQLAlchemy's recipe for pysqlite) and
    # _sqlite_begin_before_write emits the BEGIN.
    dbapi_conn.isolation_level = None


_READ_VERBS = ("SELECT", "PRAGMA", "EXPLAIN", "VALUES")
_WRITE_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _writes(statement: str) -> bool:
    head = statement.lstrip()[:8].upper()
    if head.startswith(_READ_VERBS):
        return False
    if head.startswith("WITH"):
        return _WRITE_WORDS.search(statement) is not None
    return True  # DML, DDL, SAVEPOINT, …


def _sqlite_begin_before_write(conn, cursor, statement, _parameters, _context, _executemany):
    """BEGIN before the first statement of a SQLAlchemy transaction that writes (DML, DDL or a
    SAVEPOINT), so every write and savepoint is inside one real transaction that a rollback undoes.

    The recipe's BEGIN at SQLAlchemy's begin would also start a read snapshot at the first SELECT;
    a desktop that then wrote after another had saved failed with "database is locked" (a stale
    WAL snapshot cannot take the write lock, and the busy timeout does not wait for that) instead of
    the version check's ConflictError. Beginning at the first write keeps reads before it at
    statement level, as PostgreSQL's READ COMMITTED, so both engines behave alike."""
    dbapi_conn = conn.connection.dbapi_connection
    if dbapi_conn.in_transaction or not _writes(statement):
        return
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # PRAGMA journal_mode, VACUUM, ANALYZE: no transaction wanted
    if dbapi_conn.isolation_level is not None:
        # The dialect sets "" again when a connection comes back from AUTOCOMMIT; no transaction
        # is open here, so changing it commits nothing.
        dbapi_conn.isolation_level = None
    cursor.execute("BEGIN")


def make_engine(url_or_path: str | os.PathLike | URL, pool_idle_s: float | None = None, budget: bool = False,
                **kwargs) -> Engine:
    """SQLite: WAL, foreign keys on, busy timeout. PostgreSQL: psycopg 3, pre-ping, short timeout,
    TLS to any server but this computer (``tls_connect_args``) and, with ``budget`` (the desktop),
    the connection budget (``BudgetPool``: at most 2 connections, one kept when idle for
    ``pool_idle_s`` seconds) unless the caller names its own ``poolclass``. The CLI, the tests and
    the server tools keep SQLAlchemy's default pool: they are short-lived, and a test that holds
    several sessions at once on one thread would wait for itself under a budget of two."""
    url = url_or_path if isinstance(url_or_path, URL) else normalize_url(url_or_path)
    try:
        if url.get_backend_name() == "sqlite":
            engine = create_engine(url, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "connect", _sqlite_no_driver_transactions)
            event.listen(engine, "before_cursor_execute", _sqlite_begin_before_write)
        else:
            # Keepalives and a TCP user timeout: a dropped network fails a query within seconds
            # instead of hanging until the operating system gives up (minutes).
            connect_args = {"connect_timeout": 5, "application_name": "jiedao", "keepalives": 1,
                            "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
                            "tcp_user_timeout": 15_000}
            connect_args.update(tls_connect_args(url))
            connect_args.update(kwargs.pop("connect_args", {}))
            if budget and "poolclass" not in kwargs and "pool" not in kwargs:
                kwargs["poolclass"] = BudgetPool
                kwargs.setdefault("pool_size", POOL_SIZE)
                kwargs.setdefault("pool_timeout", POOL_TIMEOUT_S)
                # create_engine hands it to BudgetPool by name
                kwargs["idle_s"] = POOL_IDLE_S if pool_idle_s is None else pool_idle_s
            engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DatabaseError(f"数据库地址无法使用：{url.render_as_string(hide_password=True)}（{exc}）") from None
    event.listen(engine, "handle_error", _explain_faults)
    return engine


def _explain_faults(ctx) -> DatabaseError | None:
    """The one place where a damaged file, a full disk or a lost server connection becomes a
    DatabaseError in Chinese, wherever in the program the statement ran; and where a secured
    server's refusal (SQLSTATE 42501: a missing privilege, a row-level-security WITH CHECK
    violation) becomes ``ServerPermissionDenied`` / ``ServerOutOfScope`` (shell/db/security/refusal.py). Other driver errors pass
    unchanged: services rely on IntegrityError (unique keys), StaleDataError (version check) and
    the busy/locked errors they retry. ``ctx.is_disconnect`` is left as the dialect set it, so the
    pool still throws the dead connection away and the next checkout reconnects."""
    if ctx.is_pre_ping:
        return None  # the pool's ping must see the driver's error to replace the connection
    url = ctx.engine.url if ctx.engine is not None else None
    if url is not None and url.get_backend_name() == "postgresql" and ctx.connection is not None:
        from shell.db.security.refusal import server_refusal

        refused = server_refusal(ctx.original_exception, ctx.statement)
        if refused is not None:
            return refused  # a secured server's refusal (42501, RLS) in Chinese
    return fault(ctx.sqlalchemy_exception or ctx.original_exception, url, disconnect=ctx.is_disconnect,
                 connecting=ctx.connection is None)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(engine: Engine) -> Path | None:
    if is_sqlite(engine) and engine.url.database not in (None, "", ":memory:"):
        return Path(engine.url.database)
    return None


_LOST = ("server closed the connection", "connection failed", "connection refused", "terminating connection",
         "connection is closed", "consuming input failed", "connection timeout", "could not receive data",
         "could not send data", "the database system is shutting down", "the database system is starting up",
         "the database system is in recovery mode", "connection is lost", "the connection is closed")
_REFUSED_LOGIN = ("password", "authentication", "does not exist", "permission denied", "pg_hba.conf")
# SQLSTATE: connection exception (08…), admin/crash shutdown, cannot connect now (restart under way).
_LOST_STATES = ("57P01", "57P02", "57P03")


def _sqlite_name(orig: BaseException) -> str:
    return getattr(orig, "sqlite_errorname", "") or ""


def _is_corrupt(orig: BaseException) -> bool:
    if not isinstance(orig, sqlite3.DatabaseError):
        return False
    name, text_ = _sqlite_name(orig), str(orig)
    return (name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text_
            or "not a database" in text_)


def _is_full(orig: BaseException) -> bool:
    if isinstance(orig, sqlite3.Error):
        return _sqlite_name(orig) in ("SQLITE_FULL", "SQLITE_IOERR_WRITE") or "database or disk is full" in str(orig)
    return isinstance(orig, OSError) and orig.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _is_lost(orig: BaseException, disconnect: bool) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    if not isinstance(orig, psycopg.OperationalError):
        return False
    state = getattr(orig, "sqlstate", None) or ""
    return disconnect or state.startswith("08") or state in _LOST_STATES or any(
        s in str(orig).lower() for s in _LOST)


def _free_space(folder: Path) -> str:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return ""
    return f"（剩余 {free / 1024 / 1024:.1f} MB）"


def _where(folder: Path) -> str:
    drive = folder.drive  # Windows: name the drive, which is what the user frees space on
    return f"{drive} 盘（文件夹“{folder}”）" if drive else f"文件夹“{folder}”所在的磁盘"


def corrupt_message(path: str | os.PathLike) -> str:
    """What to do about a damaged SQLite file: restore the newest automatic backup, named."""
    from shell.db.backup import auto_backups

    path = Path(path)
    try:
        newest = auto_backups(path)[:1]
    except OSError:
        newest = []
    head = f"数据库文件“{path}”已经损坏（部分内容无法读取），刚才的操作没有完成。\n"
    if newest:
        return (head + f"请从最新的自动备份“{newest[0]}”恢复：在“设置 → 数据库 → 从备份恢复”中选择它，"
                f"或运行命令：\njiedao db restore \"{newest[0]}\" --db \"{path}\"\n"
                "恢复前会先另存损坏的文件；备份之后录入的内容需要重新录入。")
    return (head + f"没有找到自动备份（应在“{path.parent / 'backups'}”中）。请用您保存的备份恢复："
            f"“设置 → 数据库 → 从备份恢复”，或命令 jiedao db restore \"备份文件\" --db \"{path}\"；"
            "没有备份请联系技术支持。")


def fault(exc: BaseException, url: URL | None = None, disconnect: bool = False,
          connecting: bool = False, written: str | os.PathLike | None = None) -> DatabaseError | None:
    """A damaged database file, a full disk (database, backup, export or report) or a lost server
    connection as a DatabaseError in Chinese that says what happened and what to do; None for any
    other error. ``exc`` is a driver error (or SQLAlchemy's wrapper of one) or an ``OSError``;
    ``written`` the file that was being written, when the error does not name it."""
    if isinstance(exc, DatabaseError):
        return exc
    orig = getattr(exc, "orig", None) or exc
    sqlite_file = url.database if url is not None and url.get_backend_name() == "sqlite" else None
    if sqlite_file in ("", ":memory:"):
        sqlite_file = None
    if _is_corrupt(orig):
        if sqlite_file:
            return DatabaseCorrupt(corrupt_message(sqlite_file))
        return DatabaseCorrupt("数据库文件已经损坏（部分内容无法读取），刚才的操作没有完成。\n"
                               "请从最新的自动备份恢复（设置 → 数据库 → 从备份恢复，或命令 jiedao db restore）。")
    if _is_full(orig):
        if isinstance(orig, OSError) and orig.filename:
            target = Path(os.fsdecode(orig.filename))
            what = f"文件“{target}”"
        elif written is not None:
            target = Path(written)
            what = f"文件夹“{target}”中的文件" if target.is_dir() else f"文件“{target}”"
        elif sqlite_file:
            target = Path(sqlite_file)
            what = f"数据库文件“{target}”"
        else:
            target, what = None, "文件"
        if isinstance(orig, OSError) and orig.errno == errno.EFBIG:
            why = f"无法写入{what}：文件大小超过了系统允许的上限"
        elif isinstance(orig, sqlite3.Error) and _sqlite_name(orig) == "SQLITE_IOERR_WRITE":
            why = f"无法写入{what}：磁盘已满或无法写入"
        else:
            why = f"磁盘空间不足，无法写入{what}"
        folder = None if target is None else target if target.is_dir() else target.parent
        room = f"请在{_where(folder)}{_free_space(folder)}上腾出空间" if folder else "请腾出磁盘空间"
        kept = "数据库未被改动" if sqlite_file and what.startswith("数据库") else "没有留下写了一半的文件"
        then = "后再试一次。"
        if isinstance(orig, sqlite3.Error) and _sqlite_name(orig) == "SQLITE_IOERR_WRITE":
            then = "后再试一次；空间充足仍然失败，磁盘可能有故障：请先备份，再联系技术支持。"
        return DiskFull(f"{why}，刚才的操作没有完成，这次的内容没有保存（{kept}）。\n{room}{then}")
    if getattr(orig, "sqlstate", None) == "55P03" and "chain_seal" in str(orig):
        # A commit waited for another commit's sealing of the hash chains (shell/core/chain.py).
        from shell.db.guards import LOCK_MESSAGE
        return DatabaseError(LOCK_MESSAGE)
    if _is_lost(orig, disconnect):
        if connecting:
            if any(w in str(orig).lower() for w in _REFUSED_LOGIN):
                return None  # not a lost server: the callers explain a wrong login or database name
            return explain(exc, url)
        return ConnectionLost("与数据库服务器的连接中断了（服务器可能正在重启，或网络断开），刚才的操作没有完成，数据未被修改。\n"
                              "程序会自动重新连接：请稍候再试一次（桌面程序状态栏显示“已连接”后）。")
    return None


@contextmanager
def writing_file(path: str | os.PathLike):
    """Around writing a backup, an export or a report to ``path``: a full disk (or a file-size
    limit) becomes a DiskFull naming the file and its disk; anything else passes unchanged."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        explained = fault(exc, written=path)
        if explained is None:
            raise
        raise explained from exc


def _tls_problem(text_: str, url: URL | None) -> str | None:
    """The Chinese message for a failed TLS connection (libpq's words), or None."""
    low = text_.lower()
    host = f"{url.host or 'localhost'}:{url.port or 5432}" if url is not None else "数据库服务器"
    ca = str(url.query.get("sslrootcert") or "") if url is not None else ""
    if "does not support ssl" in low:
        return (f"数据库服务器 {host} 没有开启加密连接（SSL），本机不会以明文连接局域网上的服务器"
                "（居民信息和密码会在网络上被人看到）。\n"
                "请管理员按 docs/lan-server.md“加密连接”一节为服务器配置证书并开启 ssl。"
                "只有在完全可信的网络上，才可以在“设置 → 数据库”中把“加密”改为“不加密”。")
    if "certificate verify failed" in low or "self-signed certificate" in low or "unable to get local issuer" in low:
        which = f"“设置 → 数据库”中选择的 CA 文件“{ca}”" if ca else "本机信任的 CA"
        return (f"数据库服务器 {host} 的证书不受信任：它不是由{which}签发的。\n"
                "可能是选错了 CA 文件，也可能连接到的并不是本单位的服务器（有人冒充）。"
                "请向管理员确认服务器地址，并索取正确的 CA 文件（.crt）重新选择；确认之前不要继续使用。")
    m = re.search(r'server certificate for "([^"]+)"(?: \(and (\d+) other names?\))? does not match host name "([^"]+)"',
                  text_)
    if m or "does not match host name" in low:
        named = f"“{m.group(1)}”" + (f"等 {int(m.group(2)) + 1} 个名称" if m and m.group(2) else "") if m else "其他名称"
        asked = m.group(3) if m else (url.host if url is not None else "")
        return (f"数据库服务器证书上的名称（{named}）与填写的服务器地址“{asked}”不符，连接已拒绝。\n"
                "请在“设置 → 数据库”的“服务器地址”中填写证书上的名称或 IP 地址；"
                "或请管理员重新签发证书，把这个地址写进 subjectAltName（见 docs/lan-server.md）。")
    m = re.search(r'(?:could not read )?root certificate file "([^"]+)"', text_)
    if m:
        return (f"找不到或无法读取 CA 文件“{m.group(1)}”，无法验证数据库服务器的证书。\n"
                "请在“设置 → 数据库”中重新选择管理员提供的 CA 文件（.crt）。")
    if "no encryption" in low and "pg_hba.conf" in low:
        return (f"数据库服务器 {host} 只接受加密连接，而本机的设置是“不加密”。\n"
                "请在“设置 → 数据库”中把“加密”改为“自动”或“验证服务器证书”。")
    if "ssl error" in low or "ssl syscall error" in low:
        return (f"与数据库服务器 {host} 建立加密连接失败：{text_.strip().splitlines()[0]}\n"
                "请管理员检查服务器的证书设置（docs/lan-server.md“加密连接”一节）。")
    return None


def explain(exc: BaseException, url: URL | None = None) -> DatabaseError:
    """Turn a driver error into a DatabaseError with a Chinese message and the next step."""
    if isinstance(exc, DatabaseError):
        return exc
    where = url.render_as_string(hide_password=True) if url is not None else "数据库"
    orig = getattr(exc, "orig", exc)
    text_ = str(orig)
    if url is not None and url.get_backend_name() == "sqlite":
        path = url.database or ""
        if isinstance(orig, sqlite3.DatabaseError) and ("not a database" in text_ or "malformed" in text_):
            return DatabaseError(
                f"文件“{path}”不是有效的数据库，或已经损坏。\n"
                "请从备份恢复（设置 → 数据库 → 从备份恢复，或命令 jiedao db restore），"
                "或选择另一个文件。原文件未被改动。"
            )
        if _is_full(orig) and (full := fault(exc, url)) is not None:
            return full
        if "readonly" in text_ or "read-only" in text_:
            return DatabaseError(
                f"数据库文件“{path}”是只读的，无法保存修改。\n请检查文件和所在文件夹的写入权限，或把文件复制到可写的位置。"
            )
        if "unable to open" in text_:
            return DatabaseError(f"无法打开数据库文件“{path}”：请确认文件夹存在并且可以写入。")
        if "locked" in text_:
            return DatabaseError(f"数据库文件“{path}”正被其他程序占用，请稍后重试。")
    lost = fault(exc, None, disconnect=True) if url is None and any(s in text_.lower() for s in _LOST) else None
    if lost is not None:
        return lost
    if isinstance(exc, OperationalError) or isinstance(orig, Exception) and "connection" in text_.lower():
        tls = _tls_problem(text_, url)
        if tls is not None:
            return DatabaseError(tls)
        if _server_full(orig):
            host = f"{url.host or 'localhost'}:{url.port or 5432}" if url is not None else "数据库服务器"
            return DatabaseError(
                f"数据库服务器 {host} 的连接数已满（max_connections），暂时无法再连接。\n"
                "请稍候再试；经常出现时请管理员在 postgresql.conf 中调大 max_connections 并重启服务"
                "（见 docs/lan-server.md“连接数”一节）。")
        if "password authentication failed" in text_ or "no password supplied" in text_:
            return DatabaseError(f"登录数据库服务器失败（{where}）：用户名或密码不正确。请在“设置 → 数据库”中检查。")
        if "does not exist" in text_ and "database" in text_:
            return DatabaseError(f"服务器上没有这个数据库（{where}）。请让管理员先运行 jiedao db init 创建。")
        if url is not None and url.get_backend_name() != "sqlite":
            host = f"{url.host or 'localhost'}:{url.port or 5432}"
            return DatabaseError(
                f"无法连接数据库服务器 {host}。\n"
                "请确认：服务器已开机并在同一局域网；PostgreSQL 服务正在运行；防火墙放行了该端口；"
                "地址、端口、数据库名填写正确。\n"
                f"详细信息：{text_.strip().splitlines()[0] if text_.strip() else type(orig).__name__}"
            )
    if isinstance(exc, DBAPIError):
        return DatabaseError(f"数据库出错（{where}）：{text_.strip().splitlines()[0] if text_.strip() else exc}")
    return DatabaseError(f"数据库出错（{where}）：{exc}")


def check_connection(url_or_path: str | os.PathLike | URL) -> str:
    """Open and close one connection; return the server version text or raise DatabaseError."""
    url = url_or_path if isinstance(url_or_path, URL) else normalize_url(url_or_path)
    if url.get_backend_name() == "sqlite" and url.database:
        p = Path(url.database)
        if not p.parent.exists():
            raise DatabaseError(f"文件夹不存在：{p.parent}")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text("PRAGMA schema_version")).scalar()
                return "SQLite " + sqlite3.sqlite_version
            return str(conn.execute(text("SELECT version()")).scalar()).split(",")[0]
    except DBAPIError as exc:
        raise explain(exc, url) from None
    finally:
        engine.dispose()
