"""Engines for the two databases Jiedao runs on, and Chinese messages for what goes wrong."""
from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from shell.errors import DatabaseError

SQLITE_BUSY_TIMEOUT_MS = 10_000


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


def make_engine(url_or_path: str | os.PathLike | URL, **kwargs) -> Engine:
    """SQLite: WAL, foreign keys on, busy timeout. PostgreSQL: psycopg 3, pre-ping, short timeout."""
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
            connect_args.update(kwargs.pop("connect_args", {}))
            engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DatabaseError(f"数据库地址无法使用：{url.render_as_string(hide_password=True)}（{exc}）") from None
    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(engine: Engine) -> Path | None:
    if is_sqlite(engine) and engine.url.database not in (None, "", ":memory:"):
        return Path(engine.url.database)
    return None


def explain(exc: BaseException, url: URL | None = None) -> DatabaseError:
    """Turn a driver error into a DatabaseError with a Chinese message and the next step."""
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
        if "readonly" in text_ or "read-only" in text_:
            return DatabaseError(
                f"数据库文件“{path}”是只读的，无法保存修改。\n请检查文件和所在文件夹的写入权限，或把文件复制到可写的位置。"
            )
        if "unable to open" in text_:
            return DatabaseError(f"无法打开数据库文件“{path}”：请确认文件夹存在并且可以写入。")
        if "locked" in text_:
            return DatabaseError(f"数据库文件“{path}”正被其他程序占用，请稍后重试。")
    lost = ("server closed the connection", "connection failed", "connection refused", "terminating connection",
            "connection is closed", "consuming input failed", "connection timeout", "could not receive data")
    if url is None and any(s in text_.lower() for s in lost):
        return DatabaseError("与数据库服务器的连接中断了，刚才的操作没有完成，数据未被修改。\n"
                             "请检查网络；状态栏显示“已连接”后再试一次。")
    if isinstance(exc, OperationalError) or isinstance(orig, Exception) and "connection" in text_.lower():
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
