"""The ``jiedao`` command.

No arguments open the desktop app; subcommands create a demo database, maintain the database
(upgrade, backup, restore, init, status), list plugins, run the importers/exporters that plugins
register and list or generate their reports (PDF / Excel). Data commands drive the same services as the GUI and never import Qt.

Exit codes: 0 success; 1 the command ran but found problems (bad import rows, database needs an
upgrade …); 2 an expected error (bad URL, unreachable server, wrong password …), printed in Chinese
as ``错误：…`` without a traceback; 130 cancelled. ``JIEDAO_DEBUG=1`` shows tracebacks of
unexpected errors.
"""
from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PASSWORD_ENV = "JIEDAO_PASSWORD"
NEW_PASSWORD_ENV = "JIEDAO_NEW_PASSWORD"   # jiedao user add|passwd without a terminal
OWNER_PASSWORD_ENV = "JIEDAO_OWNER_PASSWORD"   # the owner role's password at db init|secure without a terminal
DEBUG_ENV = "JIEDAO_DEBUG"
DEMO_FILENAME = "jiedao-demo.sqlite"
DEMO_STEPS = {"core": "辖区与用户", "grid": "网格管理", "volunteer": "志愿服务", "partybuilding": "党建",
              "emergency": "应急管理", "commit": "写入磁盘"}


class CliError(Exception):
    """A problem with how the command was used (not a database or service error)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- hooks for tests ----------------------------------------------------------------------------
def make_pm(disabled: Sequence[str] = ()):
    """The plugin manager of every plugin (built-in and installed). Tests replace this function to
    inject their own plugins. Databases are always opened with *all* plugins so the schema stays
    whole; ``disabled`` only marks plugins as switched off on this desktop."""
    from shell.plugins import make_plugin_manager

    return make_plugin_manager(disabled=disabled)


def run_app(database: str | None = None) -> int:
    """Open the desktop app (Qt is imported only here)."""
    try:
        from shell.ui.app import run_app as _run_app
    except ImportError as exc:
        raise CliError(f"无法启动桌面程序：{exc}。\n请确认已安装 PySide6（pip install -e .），"
                       "Linux 上还需要 Qt 的系统库（见 README 的 apt-get 一行）。") from None
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, "_jiedao_cli", False)]:
        root.removeHandler(h)  # the app configures its own logging
    return int(_run_app(database=database) or 0)


# --- small helpers ------------------------------------------------------------------------------
def _out(*parts: Any) -> None:
    print(*parts, file=sys.stdout, flush=True)


def _err(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c + " " * (widths[i] - _width(c)) for i, c in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _isatty() -> bool:
    try:
        return bool(sys.stdin and sys.stdin.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _read_password(prompt: str = "密码：", confirm: bool = False) -> str:
    """The password from JIEDAO_PASSWORD, else a prompt on the terminal; never read from a pipe."""
    env = os.environ.get(PASSWORD_ENV)
    if env is not None:
        return env
    if not _isatty():
        raise CliError(f"需要密码，但当前不是交互终端：请通过环境变量 {PASSWORD_ENV} 提供密码。")
    import getpass

    password = getpass.getpass(prompt)
    if confirm and getpass.getpass("再次输入密码：") != password:
        raise CliError("两次输入的密码不一致，请重新运行。")
    return password


def _raw_target(args: argparse.Namespace) -> str:
    """--url, --db, JIEDAO_DATABASE_URL, the desktop's configured database, the default file; a
    server URL without a password gets the one kept in the system keyring."""
    from shell.config import LocalConfig, database_from_env, default_sqlite_path, with_stored_password

    raw = (getattr(args, "url", None) or getattr(args, "db", None)
           or getattr(args, "open_url", None) or getattr(args, "open_db", None)  # jiedao --db X db status
           or database_from_env() or LocalConfig.load().database or str(default_sqlite_path()))
    _url(raw)  # refuse a malformed address before anything else reads it
    return with_stored_password(raw)


def _url(raw: str):
    from shell.db.engine import normalize_url
    from shell.errors import DatabaseError

    try:
        return normalize_url(raw)
    except (ValueError, TypeError) as exc:  # e.g. a port that is not a number
        raise DatabaseError(
            f"数据库地址格式不正确：{raw}（{exc}）\n"
            "应为 postgresql://用户名@服务器地址:5432/数据库名，或一个 SQLite 文件路径。"
        ) from None


def _sqlite_file(url) -> Path | None:
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database)
    return None


def _label(url) -> str:
    path = _sqlite_file(url)
    if path is not None:
        return f"本地文件 {path}"
    if url.get_backend_name() == "sqlite":
        return "内存数据库"
    return f"服务器 {url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def _require_existing_file(url) -> None:
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        from shell.errors import DatabaseError

        raise DatabaseError(
            f"数据库文件不存在：{path}\n"
            f"新建数据库请运行 jiedao db init --db \"{path}\"，或用 jiedao demo 生成一个演示数据库；"
            "已有数据库请用 --db 指定它的路径。"
        )


def _open(url, pm, create: bool = False, backup: bool = True):
    """Open and migrate like the app does (SQLite backup before an upgrade); report what happened."""
    from shell.core.database import open_database

    if not create:
        _require_existing_file(url)
    db = open_database(url, pm=pm, migrate=True, create=create, backup=backup)
    for w in db.warnings + db.admin_warnings:
        _err(f"警告：{w}")
    if db.upgrade is not None and db.upgrade.changed and db.upgrade.before:
        _err(f"数据库已升级：{_revs(db.upgrade.before)} → {_revs(db.upgrade.after)}"
             + (f"；升级前备份：{db.upgrade.backup}" if db.upgrade.backup else ""))
    return db


def _revs(revs) -> str:
    return "、".join(sorted(revs)) if revs else "（空）"


def _login(db, pm, username: str | None):
    from shell.config import LocalConfig
    from shell.core import auth

    username = (username or LocalConfig.load().last_username or "").strip()
    if not db.is_sqlite:
        actor = _server_actor(db, pm, username)
        if actor is not None:
            return actor
    if not username:
        raise CliError("请用 --user 指定以哪个用户的身份操作（密码从提示输入或环境变量 JIEDAO_PASSWORD 读取）。")
    password = _read_password(f"用户 {username} 的密码：")
    return auth.login(db.session_factory, username, password, labels=auth.collect_permissions(pm))


def _server_actor(db, pm, username: str):
    """On a secured server the server has checked the password of the URL's role: a user's own
    login role acts as that user (``--user`` may only name the same user); the owner or a superuser
    may act as the user named by ``--user``. None on an unsecured database."""
    from sqlalchemy import select, text

    from shell.core import auth
    from shell.core.models import User

    with db.session_factory() as session:
        if auth.server_key(session) is None:
            return None
        me = session.execute(text("SELECT session_user")).scalar()
        user = session.scalar(select(User).where(User.server_role == me))
        if user is None:
            if not username:
                raise CliError("请用 --user 指定以哪个用户的身份操作。")
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise CliError(f"用户“{username}”不存在。")
        elif username and username != user.username:
            raise CliError(f"服务器角色 {me} 是用户“{user.username}”，不能以“{username}”的身份操作。")
        if not user.is_active:
            raise CliError(f"用户“{user.username}”已停用。")
        return auth.build_actor(session, user, auth.collect_permissions(pm))


# --- commands -----------------------------------------------------------------------------------
def cmd_open(args: argparse.Namespace) -> int:
    raw = args.open_url or args.open_db
    return run_app(database=raw or None)


def cmd_demo(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from shell.config import data_dir
    from shell.core.demo import create_demo
    from shell.core.models import Area, User

    raw = args.url or args.db or args.open_url or args.open_db or str(data_dir() / DEMO_FILENAME)
    target: Any = raw
    if "://" in raw:
        target = _url(raw)
    else:
        Path(raw).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    pm = make_pm()  # a plugin that fails to load is reported by the log handler; the others seed
    started = time.perf_counter()

    def progress(step: str, seconds: float) -> None:  # a large street takes minutes: say what is done
        if args.scale != "small":
            _out(f"  {DEMO_STEPS.get(step, step)}：{seconds:.1f} 秒")

    if args.scale != "small":
        _out(f"正在生成规模为 {args.scale} 的演示数据库……")
    db = create_demo(target, scale=args.scale, password=args.password, pm=pm, force=args.force, seed=args.seed,
                     progress=progress)
    secured = None
    try:
        if not db.is_sqlite:
            if _can_secure(db):
                from shell.db.security import secure_database

                with db.engine.begin() as conn:  # the demo users as server roles with the demo password
                    secured = secure_database(conn, pm, owner_password=args.password,
                                              password_for=lambda _u: args.password, must_change=False)
            else:
                _err(f"警告：用户“{db.url.username}”没有 CREATEROLE 权限，演示数据库没有加固（演示用户没有服务器角色）。")
    except BaseException:
        db.dispose()
        raise
    try:
        with db.session_factory() as session:
            counts = dict(session.execute(select(Area.level, func.count()).group_by(Area.level)).all())
            street = session.scalar(select(Area).where(Area.level == "street"))
            areas = {a.id: a.name for a in session.scalars(select(Area).where(Area.level != "grid"))}
            grid_names = {a.id: a.name for a in session.scalars(select(Area).where(Area.level == "grid"))}
            users = list(session.scalars(select(User).order_by(User.id)))
            rows = []
            for u in users:
                scope = "全部" if u.area_id is None else areas.get(u.area_id) or grid_names.get(u.area_id, "")
                if u.area_id in grid_names:
                    parent = session.get(Area, u.area_id).parent_id
                    scope = f"{areas.get(parent, '')} {grid_names[u.area_id]}".strip()
                rows.append((u.username, u.display_name, "、".join(r.title for r in u.roles), scope))
        database_text = raw if "://" not in raw else db.url.render_as_string(hide_password=True)
        _out(f"已创建演示数据库（规模 {args.scale}，用时 {time.perf_counter() - started:.1f} 秒）：{_label(db.url)}")
        _out(f"辖区：{street.name if street else ''}，社区 {counts.get('community', 0)} 个，网格 {counts.get('grid', 0)} 个")
        _out("演示用户（密码均为下面这一个；只有演示数据库有预设密码）：")
        _out(_table(("用户名", "姓名", "角色", "管辖范围"), rows))
        _out(f"密码：{args.password}")
        if secured is not None:
            from shell.db.security import naming

            _out(f"服务器已加固：每个演示用户是服务器角色 {naming.login_prefix(secured.key)}用户名（密码同上），"
                 f"所有者角色 {secured.owner_role} 的密码也是它。")
        for plugin, error in sorted(db.seed_errors.items()):
            _err(f"警告：插件“{plugin}”没有生成演示数据（{error}）；演示数据库的其余部分可以正常使用。")
    finally:
        db.dispose()
    if args.no_open:
        _out(f"打开它：jiedao --db \"{database_text}\"" if "://" not in raw else f"打开它：jiedao --url \"{database_text}\"")
        return 0
    return run_app(database=raw)


def cmd_db_status(args: argparse.Namespace) -> int:
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import DBAPIError

    from shell.db.backup import sqlite_uri
    from shell.db.engine import explain, make_engine
    from shell.db.migrate import alembic_config, plugin_branches, schema_state
    from shell.errors import DatabaseError

    url = _url(_raw_target(args))
    pm = make_pm()
    cfg = alembic_config(plugin_branches(pm))
    path = _sqlite_file(url)
    if path is not None:
        _require_existing_file(url)
        _check_sqlite_header(path)
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(sqlite_uri(path), uri=True))
    else:
        engine = make_engine(url)
    try:
        with engine.connect() as conn:
            state = schema_state(conn, cfg)
            tables = set(inspect(conn).get_table_names())
            users = demo = None
            if "core_users" in tables:
                users = conn.execute(text("SELECT count(*) FROM core_users")).scalar()
            if "core_settings" in tables:
                demo = conn.execute(text("SELECT value FROM core_settings WHERE key = 'core.demo'")).scalar()
    except DBAPIError as exc:
        raise explain(exc, url) from None
    except sqlite3.Error as exc:
        raise DatabaseError(f"无法读取数据库文件“{path}”：{exc}") from None
    finally:
        engine.dispose()
    _out(f"数据库：{_label(url)}")
    _out(f"当前版本：{_revs(state.current)}")
    _out(f"本程序的最新版本：{_revs(state.heads)}")
    if users is not None:
        _out(f"用户数：{users}" + ("（演示数据库）" if demo not in (None, "false", "0", "null") else ""))
    if state.unknown:
        _out(f"状态：数据库比本程序新（不认识的版本：{_revs(state.unknown)}）。"
             "请升级本机的街道工作台，或安装缺少的插件；本程序不会修改它。")
        return 1
    if state.empty:
        _out("状态：空数据库，尚未初始化。请运行 jiedao db init（或 jiedao db upgrade）。")
        return 1
    if not state.up_to_date:
        _out(f"状态：需要升级（缺少 {_revs(state.heads - state.applied)}）。请运行 jiedao db upgrade。")
        return 1
    _out("状态：已是最新")
    return 0


def _check_sqlite_header(path: Path) -> None:
    from shell.db.backup import SQLITE_MAGIC, read_header
    from shell.errors import DatabaseError

    head = read_header(path)
    if head and head != SQLITE_MAGIC:  # an empty file is an empty database
        raise DatabaseError(f"文件“{path}”不是有效的数据库，或已经损坏。请用 jiedao db restore 从备份恢复。")


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    url = _url(_raw_target(args))
    pm = make_pm()
    from shell.core.database import open_database

    _require_existing_file(url)
    db = open_database(url, pm=pm, migrate=True, create=False, backup=True)
    try:
        for w in db.warnings + db.admin_warnings:
            _err(f"警告：{w}")
        res = db.upgrade
        if not db.is_sqlite:
            from shell.db import security

            with db.engine.begin() as conn:
                if security.is_secured(conn):
                    # open_database refreshed after a migration; declarations can change without one.
                    if not res.changed:
                        security.refresh(conn, pm)
                    _out("已按本程序的声明更新服务器角色、权限与规则。")
        _out(f"数据库：{_label(db.url)}")
        _out(f"升级前版本：{_revs(res.before)}")
        _out(f"升级后版本：{_revs(res.after)}")
        if not res.changed:
            _out("已是最新，无需升级。")
        elif res.backup is not None:
            _out(f"升级前备份：{res.backup}")
        elif db.is_sqlite and not res.before:
            _out("原为空数据库，无需备份。")
        elif not db.is_sqlite:
            _out("提示：PostgreSQL 数据库不自动备份，升级前请用 pg_dump 备份（见 jiedao db backup）。")
    finally:
        db.dispose()
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    from shell.db.backup import copy_sqlite, verify_jiedao_file
    from shell.db.migrate import backup_sqlite
    from shell.errors import DatabaseError

    url = _url(_raw_target(args))
    path = _sqlite_file(url)
    if path is None:
        from shell.db.pgdump import default_dump_name, pg_backup

        out = Path(args.out or default_dump_name(url)).expanduser().resolve()
        if not out.parent.is_dir():
            raise CliError(f"文件夹不存在：{out.parent}")
        pg_backup(url, out)
        _out(f"已备份 {_label(url)}（pg_dump 自定义格式）")
        _out(f"备份文件：{out}（{out.stat().st_size // 1024} KB）")
        return 0
    _require_existing_file(url)
    _check_sqlite_header(path)
    verify_jiedao_file(path)
    if args.out:
        out = Path(args.out).expanduser().resolve()
        if out.exists():
            raise CliError(f"文件“{out}”已存在，为免覆盖请换一个文件名。")
        if not out.parent.is_dir():
            raise CliError(f"文件夹不存在：{out.parent}")
    try:
        if args.out:
            copy_sqlite(path, out)
        else:
            out = backup_sqlite(path, label="手动备份")
    except (sqlite3.Error, OSError) as exc:
        from shell.db.engine import fault

        target = out if args.out else path.parent / "backups"
        explained = fault(exc, written=target)
        raise (explained or DatabaseError(f"备份失败：{exc}")) from None
    verify_jiedao_file(out)
    _out(f"已备份 {_label(url)}")
    _out(f"备份文件：{out}（{out.stat().st_size // 1024} KB）")
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    from shell.db.backup import check_backup_file, restore_sqlite
    from shell.db.migrate import plugin_branches

    url = _url(_raw_target(args))
    target = _sqlite_file(url)
    source = Path(args.file).expanduser().resolve()
    if target is None:
        from shell.db.pgdump import check_dump, pg_restore

        check_dump(source)  # refuse before asking, not after
        if not args.yes:
            if not _isatty():
                raise CliError("恢复会用备份替换服务器数据库的全部内容。非交互运行时请加 --yes 确认。")
            answer = input(f"将用“{source}”替换{_label(url)}的全部内容（当前内容会先用 pg_dump 另存一份）。"
                           "请先让其他电脑退出街道工作台。确认恢复？[y/N] ")
            if answer.strip().lower() not in ("y", "yes", "是"):
                _out("已取消，未做任何改动。")
                return 1
        safety = pg_restore(url, source)
        _out(f"已从备份恢复：{source}")
        _out(f"数据库：{_label(url)}")
        _out(f"恢复前的数据库已另存为：{safety}")
        return 0
    if target.exists() and source.exists() and source.samefile(target):
        raise CliError("备份文件就是当前数据库本身，无需恢复。")
    branches = plugin_branches(make_pm())
    check_backup_file(source, branches)  # refuse before asking, not after
    if not args.yes:
        if not _isatty():
            raise CliError("恢复会用备份替换当前数据库的全部内容。非交互运行时请加 --yes 确认。")
        answer = input(f"将用“{source}”替换“{target}”的全部内容（当前内容会先另存一份安全备份）。确认恢复？[y/N] ")
        if answer.strip().lower() not in ("y", "yes", "是"):
            _out("已取消，未做任何改动。")
            return 1
    result = restore_sqlite(target, source, branches)
    _out(f"已从备份恢复：{source}")
    _out(f"数据库：{target}（版本 {_revs(result.revisions)}）")
    if result.safety is not None:
        _out(f"恢复前的数据库已另存为：{result.safety}")
    return 0


def cmd_db_init(args: argparse.Namespace) -> int:
    from shell.core import auth
    from shell.errors import DatabaseError

    url = _url(_raw_target(args))
    if _sqlite_file(url) is None:
        _ensure_pg_database(url)
    pm = make_pm()
    db = _open(url, pm, create=True)
    try:
        with db.session_factory() as session:
            if auth.has_users(session):
                raise DatabaseError(f"数据库已经初始化并且有用户（{_label(db.url)}），没有创建管理员。"
                                    "请用已有的管理员账号登录。")
        secure = not db.is_sqlite and _can_secure(db)
        if secure:
            from shell.db.security import naming

            owner_password = _owner_password(naming.owner_role(naming.street_key(db.url.database)))
        password = _read_password(f"新管理员 {args.admin_user} 的密码：", confirm=True)
        with db.session_factory() as session:
            user = auth.create_first_admin(session, args.admin_user, args.admin_name, password)
            session.commit()
            _out(f"已初始化数据库：{_label(db.url)}（版本 {_revs(db.upgrade.after if db.upgrade else set())}）")
            _out(f"已创建管理员：{user.username}（{user.display_name}）")
        if secure:
            from shell.db.security import secure_database

            with db.engine.begin() as conn:
                report = secure_database(conn, pm, owner_password=owner_password,
                                         password_for=lambda _u: password, must_change=False)
            _out(f"已加固：所有者角色 {report.owner_role}（只用于 jiedao db upgrade、备份与恢复），"
                 f"管理员的服务器角色 {report.logins[0][1]}。")
        elif not db.is_sqlite:
            _err(f"警告：用户“{db.url.username}”不是超级用户也没有 CREATEROLE 权限，数据库没有加固："
                 "之后请用有权限的账号运行 jiedao db secure（见 docs/lan-server.md）。")
    finally:
        db.dispose()
    return 0


def _can_secure(db) -> bool:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return bool(conn.execute(text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).scalar())


def _owner_password(role: str) -> str:
    from shell.core import auth

    env = os.environ.get(OWNER_PASSWORD_ENV)
    if env is None:
        if not _isatty():
            raise CliError(f"需要所有者角色 {role} 的密码，但当前不是交互终端：请通过环境变量 {OWNER_PASSWORD_ENV} 提供。")
        import getpass

        env = getpass.getpass(f"所有者角色 {role} 的密码（只有系统管理员知道；升级、备份、恢复时要用）：")
        if getpass.getpass("再次输入：") != env:
            raise CliError("两次输入的密码不一致，请重新运行。")
    auth.check_password_policy(env, 12)
    return env


def cmd_db_secure(args: argparse.Namespace) -> int:
    """Issue 15.6: move an existing (unsecured) server database to per-user roles."""
    from shell.db.security import naming, secure_database, security_info
    from shell.errors import DatabaseError

    url = _url(_raw_target(args))
    if _sqlite_file(url) is not None or url.get_backend_name() == "sqlite":
        raise CliError("jiedao db secure 只用于 PostgreSQL 服务器数据库：请用 --url 指定（单机 SQLite 文件由程序自己检查权限）。")
    pm = make_pm()
    db = _open(url, pm)
    try:
        with db.engine.connect() as conn:
            info = security_info(conn)
            if info is not None:
                key = info[0]
                raise DatabaseError(f"数据库“{url.database}”已经加固过（街道键 {key}），不能再加固一次。"
                                    "升级程序后请运行 jiedao db upgrade。")
        if not _can_secure(db):
            raise DatabaseError(f"用户“{url.username}”没有 CREATEROLE 权限，不能加固数据库“{url.database}”。"
                                "请用数据库超级用户（postgres）或带 CREATEROLE 的数据库所有者连接。")
        owner_password = _owner_password(naming.owner_role(naming.street_key(url.database)))
        with db.engine.begin() as conn:
            report = secure_database(conn, pm, owner_password=owner_password, progress=lambda m: _out(f"  {m}"))
    finally:
        db.dispose()
    _out(f"已加固数据库 {_label(url)}：街道键 {report.key}，所有者角色 {report.owner_role}。")
    if report.old_role:
        _out(f"已收回原共用角色“{report.old_role}”对本数据库的全部权限；各台电脑不再需要它的密码。")
    _out("各用户的一次性密码（请分别、当面交给本人；首次登录时必须修改）：")
    _out(_table(("用户名", "服务器角色", "一次性密码"), report.logins))
    _out(naming.RULE)
    return 0


def cmd_db_migrate_from_sqlite(args: argparse.Namespace) -> int:
    from shell.db.migrate import plugin_branches
    from shell.db.serverize import migrate_sqlite_to_server

    source = Path(args.file).expanduser().resolve()
    url = _url(_raw_target(args))
    if _sqlite_file(url) is not None or url.get_backend_name() == "sqlite":
        raise CliError("请用 --url 指定目标 PostgreSQL 数据库，例如 --url postgresql://jiedao@192.168.1.10:5432/jiedao")
    _ensure_pg_database(url)
    pm = make_pm()
    from shell.db.mappers import plugin_module_names
    shown: dict[str, int] = {}

    def progress(table: str, done: int, total: int) -> None:
        if done == total and shown.get(table) != done:
            shown[table] = done
            _out(f"  {table}：{done} 行")

    _out(f"正在把 {source} 迁移到 {_label(url)}（在一个事务中完成，出错则全部撤销）…")
    report = migrate_sqlite_to_server(source, url, plugin_branches(pm), plugin_module_names(pm), progress)
    _out(f"已迁移并核对 {len(report.tables)} 张数据表、{report.rows} 行：行数和校验和全部一致。")
    _out(f"请在各台电脑的“设置 → 数据库”中改用服务器 {_label(url)}（或设置环境变量 JIEDAO_DATABASE_URL）。"
         f"原文件 {source} 未被改动，可留作备份。")
    return 0


def _ensure_pg_database(url) -> None:
    """``db init`` on a server: create the database itself when it does not exist yet."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from shell.db.engine import explain, make_engine
    from shell.errors import DatabaseError

    if not url.database:
        raise DatabaseError("PostgreSQL 地址里缺少数据库名，例如 postgresql://jiedao@192.168.1.10:5432/jiedao")
    admin = make_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).scalar()
            if not exists:
                name = url.database.replace('"', '""')
                try:
                    conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
                except DBAPIError as exc:
                    raise DatabaseError(
                        f"服务器上没有数据库“{url.database}”，并且用户“{url.username}”无权创建它（{str(exc.orig).strip().splitlines()[0]}）。\n"
                        f"请让服务器管理员运行：createdb --encoding=UTF8 --owner={url.username} {url.database}"
                    ) from None
                _out(f"已在服务器上创建数据库“{url.database}”。")
    except DBAPIError as exc:
        # No access to the maintenance database: let the normal open report what is wrong.
        if "does not exist" in str(exc.orig) or "permission denied" in str(exc.orig):
            return
        raise explain(exc, url) from None
    finally:
        admin.dispose()


# --- jiedao user … (the same services as 设置 → 用户与角色) --------------------------------------
def _new_password(username: str) -> str:
    env = os.environ.get(NEW_PASSWORD_ENV)
    if env is not None:
        return env
    if not _isatty():
        raise CliError(f"需要为用户 {username} 设置密码，但当前不是交互终端：请通过环境变量 {NEW_PASSWORD_ENV} 提供。")
    import getpass

    password = getpass.getpass(f"用户 {username} 的新密码：")
    if getpass.getpass("再次输入新密码：") != password:
        raise CliError("两次输入的密码不一致，请重新运行。")
    return password


def _user_admin(args: argparse.Namespace):
    """(database, plugin manager, actor). Who acts: on a secured server the role of the URL — a
    user's own login role acts as that user, the owner or a superuser as the system; elsewhere the
    --user given (its password asked), else whoever holds the file (as jiedao db init does)."""
    from sqlalchemy import select, text

    from shell.core import auth
    from shell.core.context import Actor
    from shell.core.models import User

    url = _url(_raw_target(args))
    pm = make_pm()
    db = _open(url, pm)
    try:
        with db.session_factory() as session:
            key = auth.server_key(session)
            if key is not None:
                me = session.execute(text("SELECT session_user")).scalar()
                user = session.scalar(select(User).where(User.server_role == me))
                if user is not None:
                    return db, pm, auth.build_actor(session, user, auth.collect_permissions(pm))
                return db, pm, Actor.system()
        if getattr(args, "user", None):
            return db, pm, _login(db, pm, args.user)
        return db, pm, Actor.system()
    except BaseException:
        db.dispose()
        raise


def _find_user(session, username: str):
    from sqlalchemy import select

    from shell.core.models import User
    from shell.errors import NotFound

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户“{username}”不存在（jiedao user list 列出全部用户）。")
    return user


def _find_area(session, path: str):
    """An area by its names from the street down ("青石街道/和平里社区/第一网格"), or by its code."""
    from sqlalchemy import select

    from shell.core.models import Area
    from shell.errors import NotFound

    text_path = (path or "").strip()
    area = session.scalar(select(Area).where(Area.code == text_path))
    if area is not None:
        return area
    parent = None
    for name in [n.strip() for n in text_path.replace("／", "/").split("/") if n.strip()]:
        area = session.scalar(select(Area).where(Area.name == name, Area.parent_id.is_(None) if parent is None
                                                 else Area.parent_id == parent.id))
        if area is None:
            raise NotFound(f"找不到辖区“{path}”：“{name}”不存在。请写成 街道/社区/网格 的名称路径，或辖区编码。")
        parent = area
    if parent is None:
        raise NotFound("请指定辖区：街道/社区/网格 的名称路径，或辖区编码。")
    return parent


def _scope_text(session, user) -> str:
    from shell.core.areas import full_name
    from shell.core.models import Area

    if user.area_id is None:
        return "全部"
    area = session.get(Area, user.area_id)
    return full_name(session, area, sep="/") if area is not None else str(user.area_id)


def cmd_user_list(args: argparse.Namespace) -> int:
    import json

    from shell.clock import utcnow
    from shell.core import auth
    from shell.core.context import ServiceContext
    from shell.db.security import naming

    db, pm, actor = _user_admin(args)
    try:
        with db.session_factory() as session:
            key = auth.server_key(session)
            now = utcnow()
            rows = []
            for u in auth.list_users(ServiceContext(session, actor)):
                locked = False
                if key is None:
                    locked = u.locked_until is not None and u.locked_until > now
                rows.append({"username": u.username, "name": u.display_name,
                             "roles": sorted(r.name for r in u.roles), "scope": _scope_text(session, u),
                             "server_role": u.server_role, "superuser": u.is_superuser,
                             "active": u.is_active, "locked": locked})
        if args.json:
            _out(json.dumps({"database": _label(db.url), "street_key": key, "role_rule": naming.RULE,
                             "users": rows}, ensure_ascii=False, indent=2))
            return 0
        _out(f"数据库：{_label(db.url)}")
        if key is not None:
            _out(f"街道键：{key}；{naming.RULE}")
        else:
            _out(f"本数据库未加固：用户没有服务器角色（加固后：{naming.RULE}）")
        table = [(r["username"], r["name"], "、".join(r["roles"]) + ("（超级管理员）" if r["superuser"] else ""),
                  r["scope"], r["server_role"] or "—",
                  "、".join(x for x, on in (("已停用", not r["active"]), ("已锁定", r["locked"])) if on) or "正常")
                 for r in rows]
        _out(_table(("用户名", "姓名", "角色", "管辖范围", "服务器角色", "状态"), table))
    finally:
        db.dispose()
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from shell.core import auth
    from shell.core.context import ServiceContext

    db, pm, actor = _user_admin(args)
    try:
        with db.session_factory() as session:
            ctx = ServiceContext(session, actor)
            area = _find_area(session, args.area) if args.area else None
            password = _new_password(args.username)
            user = auth.create_user(ctx, args.username, args.name, password, area.id if area else None,
                                    args.role or (), phone=args.phone)
            session.commit()
            _out(f"已创建用户：{user.username}（{user.display_name}），角色 {'、'.join(r.title for r in user.roles) or '无'}，"
                 f"管辖范围 {_scope_text(session, user)}" + (f"，服务器角色 {user.server_role}" if user.server_role else ""))
            _out("首次登录时须修改密码。")
    finally:
        db.dispose()
    return 0


def _update(args: argparse.Namespace, done: str, **changes) -> int:
    from shell.core import auth
    from shell.core.context import ServiceContext

    db, pm, actor = _user_admin(args)
    try:
        with db.session_factory() as session:
            ctx = ServiceContext(session, actor)
            user = _find_user(session, args.username)
            if "scope" in changes:
                changes["area_id"] = _find_area(session, changes.pop("scope")).id
            auth.update_user(ctx, user.id, **changes)
            session.commit()
            _out(done.format(user=user.username, roles="、".join(r.title for r in user.roles) or "无",
                             scope=_scope_text(session, user)))
    finally:
        db.dispose()
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    return _update(args, "已停用用户 {user}：不能再登录（服务器角色一并停用）。", is_active=False)


def cmd_user_enable(args: argparse.Namespace) -> int:
    return _update(args, "已启用用户 {user}。", is_active=True)


def cmd_user_set_roles(args: argparse.Namespace) -> int:
    return _update(args, "用户 {user} 的角色现在是：{roles}。", role_names=args.roles)


def cmd_user_set_scope(args: argparse.Namespace) -> int:
    return _update(args, "用户 {user} 的管辖范围现在是：{scope}。", scope=args.path)


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from shell.core import auth
    from shell.core.context import ServiceContext

    db, pm, actor = _user_admin(args)
    try:
        with db.session_factory() as session:
            ctx = ServiceContext(session, actor)
            user = _find_user(session, args.username)
            password = _new_password(user.username)
            auth.reset_password(ctx, user.id, password)
            session.commit()
            _out(f"已重置用户 {user.username} 的密码；首次登录时须修改。")
    finally:
        db.dispose()
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from shell.config import LocalConfig
    from shell.plugins import plugin_status

    pm = make_pm(disabled=LocalConfig.load().disabled_plugins)
    rows = [(s.name, s.title, s.version, s.source, s.state_label, s.error) for s in plugin_status(pm)]
    if not rows:
        _out("没有安装任何插件。")
        return 0
    _out(_table(("名称", "标题", "版本", "来源", "状态", "错误"), rows))
    return 0


def _importers(pm) -> dict[str, tuple[str, Any]]:
    from shell.config import LocalConfig
    from shell.core.transfer import available_importers

    disabled = set(LocalConfig.load().disabled_plugins)
    return {d.kind: (plugin, d) for plugin, d in available_importers(pm, disabled=disabled)}


def _importer(pm, kind: str):
    found = _importers(pm)
    if kind not in found:
        known = "、".join(sorted(found)) or "（无）"
        raise CliError(f"没有“{kind}”这种数据类型。可用的有：{known}（jiedao import --list 查看说明）。")
    return found[kind][1]


def cmd_import(args: argparse.Namespace) -> int:
    from shell.core.transfer import run_import

    pm = make_pm()
    if args.list:
        rows = [(d.kind, d.title, plugin, ("导入" if d.import_fn else "") + (" 导出" if d.export_fn else ""),
                 "，".join(d.columns))
                for kind, (plugin, d) in sorted(_importers(pm).items())]
        if not rows:
            _out("已加载的插件都没有提供导入导出。")
            return 0
        _out(_table(("类型", "名称", "插件", "支持", "列"), rows))
        return 0
    if not args.kind or not args.file:
        raise CliError("用法：jiedao import 类型 文件 [--valid-only]；jiedao import --list 列出可用的类型。")
    definition = _importer(pm, args.kind)
    path = Path(args.file).expanduser().resolve()
    if not path.is_file():
        raise CliError(f"要导入的文件不存在：{path}")
    db = _open(_url(_raw_target(args)), pm)
    try:
        actor = _login(db, pm, args.user)
        result = run_import(db.session_factory, actor, definition, path, args.valid_only)
    finally:
        db.dispose()
    _out(f"“{definition.title}”：共 {result.total_rows} 行，有效 {result.valid_rows} 行，错误 {len(result.errors)} 处。")
    for e in result.errors:
        _out(f"  {e}")
    if result.errors and not args.valid_only:
        _err("文件有错误，未导入任何数据。请改正后重新导入，或加 --valid-only 只导入有效的行。")
        return 1
    _out(f"已导入 {result.written} 行。")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from shell.core.transfer import run_export

    pm = make_pm()
    definition = _importer(pm, args.kind)
    path = Path(args.file).expanduser().resolve()
    if path.exists() and not args.force:
        raise CliError(f"文件“{path}”已存在。为免覆盖，请换一个文件名，或加 --force。")
    if not path.parent.is_dir():
        raise CliError(f"文件夹不存在：{path.parent}")
    db = _open(_url(_raw_target(args)), pm)
    try:
        actor = _login(db, pm, args.user)
        count = run_export(db.session_factory, actor, definition, path)
    finally:
        db.dispose()
    _out(f"已导出“{definition.title}” {count} 行到 {path}")
    return 0


# --- tamper evidence ----------------------------------------------------------------------------
def cmd_audit_verify(args: argparse.Namespace) -> int:
    from shell.core import chain

    db = _open(_url(_raw_target(args)), make_pm())
    try:
        with db.session_factory() as s:
            report = chain.verify(s)
            s.commit()
    finally:
        db.dispose()
    rows = [(c.table, str(c.checked), "完好" if c.ok else "被篡改",
             chain.grouped(c.last_hash) if c.last_hash else "") for c in report.chains]
    _out(_table(("数据表", "已核验条数", "结果", "链头（前 16 位）"), rows))
    broken = report.first_break
    if broken is not None:
        _err(f"防篡改校验未通过：{broken.message()}")
        for c in report.chains:
            if c.broken is not None and c.broken is not broken:
                _err(f"另有：{c.broken.message()}")
        return 1
    _out(f"全部 {len(report.chains)} 条防篡改链完好（共 {sum(c.checked for c in report.chains)} 条记录）。")
    return 0


# --- holiday calendar ---------------------------------------------------------------------------
def cmd_calendar_show(args: argparse.Namespace) -> int:
    from shell.core import calendar

    year = args.year
    db = _open(_url(_raw_target(args)), make_pm())
    try:
        with db.session_factory() as s:
            days = calendar.year_days(s, year)
            known = calendar.years_known(s)
    finally:
        db.dispose()
    if not days:
        _out(f"{year} 年：{calendar.missing_warning([year])}。")
        _out("录入：设置 → 节假日安排，或 jiedao calendar import 文件.xlsx --user 管理员"
             + (f"（已录入的年份：{known[0]}–{known[-1]}）" if known else ""))
        return 0
    wd = calendar.WEEKDAYS
    rows = [(d.day.isoformat(), f"星期{wd[d.day.weekday()]}", d.label, d.name, d.source) for d in days]
    off = sum(d.kind == "off" for d in days)
    _out(f"{year} 年节假日安排：放假（休）{off} 天，调休上班（班）{len(days) - off} 天；其余日子周一至周五上班。")
    _out(_table(("日期", "星期", "休/班", "名称", "来源"), rows))
    return 0


def cmd_calendar_import(args: argparse.Namespace) -> int:
    from shell.core import calendar
    from shell.core.context import ServiceContext

    path = Path(args.file).expanduser().resolve()
    if not path.is_file():
        raise CliError(f"要导入的文件不存在：{path}")
    pm = make_pm()
    db = _open(_url(_raw_target(args)), pm)
    try:
        actor = _login(db, pm, args.user)
        with db.session_factory() as s:
            result = calendar.import_year(ServiceContext(s, actor), path, pm=pm)
            if result.ok:
                s.commit()
            else:
                s.rollback()
    finally:
        db.dispose()
    _out(f"“{path.name}”：共 {result.total_rows} 行，错误 {len(result.errors)} 处。")
    for e in result.errors:
        _out(f"  {e}")
    if result.errors:
        _err("文件有错误，未导入任何数据。请改正后重新导入。")
        return 1
    _out(f"已导入 {'、'.join(map(str, result.years))} 年节假日安排，共 {result.written} 天（文件中的年份整年替换）。")
    for line in result.recounted:
        _out(line)
    return 0


def cmd_calendar_template(args: argparse.Namespace) -> int:
    from shell.core import calendar

    path = Path(args.file).expanduser().resolve()
    if path.exists() and not args.force:
        raise CliError(f"文件“{path}”已存在。为免覆盖，请换一个文件名，或加 --force。")
    if not path.parent.is_dir():
        raise CliError(f"文件夹不存在：{path.parent}")
    from shell.clock import local_today

    year = args.year or local_today().year + 1
    calendar.write_template(path, year)
    _out(f"已生成 {year} 年节假日安排模板：{path}")
    return 0


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"年份“{text}”无效，应写成 2027") from None
    if not 2000 <= year <= 2100:
        raise argparse.ArgumentTypeError(f"年份“{text}”超出范围（2000–2100）")
    return year


# --- reports ------------------------------------------------------------------------------------
FONT_ENV = "JIEDAO_FONT"
PROGRESS_EVERY_PAGES = 50

_KIND_LABELS = {"text": "文本", "int": "整数", "year": "年份，如 2026", "month": "月份，如 2026-11",
                "date": "日期，如 2026-11-22", "area": "辖区编号"}


def _param_text(p) -> str:
    """``year=年度（年份，如 2026；默认 2026）`` for the report list."""
    kind = _KIND_LABELS.get(p.kind, p.kind)
    if p.kind == "choice":
        kind = "可选 " + "/".join(c for c, _ in p.choices)
    extra = [kind]
    if p.default is not None:
        extra.append(f"默认 {p.default}")
    elif not p.required:
        extra.append("可不填")
    else:
        extra.append("必填")
    return f"{p.name}={p.label}（{'；'.join(extra)}）"


def _enabled_reports(pm, actor=None) -> list[tuple[str, Any]]:
    from shell.config import LocalConfig
    from shell.core.reporting import available_reports

    disabled = set(LocalConfig.load().disabled_plugins)
    return [(plugin, d) for plugin, d in available_reports(pm, actor) if plugin not in disabled]


def _report_params(items: Sequence[str] | None) -> dict[str, str]:
    raw: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CliError(f"报表参数“{item}”的写法不对：应为 --param 名称=值，例如 --param year=2026。")
        if name in raw:
            raise CliError(f"报表参数“{name}”给了不止一次。")
        raw[name] = value
    return raw


def _font_path(args: argparse.Namespace) -> str | None:
    """--font, else JIEDAO_FONT, else the font chosen in this desktop's settings; None: search."""
    from shell.config import LocalConfig

    if args.font:
        path = Path(args.font).expanduser()
        base = str(path).rpartition("#")[0] if "#" in path.name else str(path)  # path.ttc#1
        if not Path(base).is_file():
            raise CliError(f"字体文件不存在：{base}")
        return str(path)
    return os.environ.get(FONT_ENV, "").strip() or LocalConfig.load().font_path or None


class _ReportProgress:
    """A progress line on stderr (only when it is a terminal) about every 50 pages; the PDF
    renderer reports once per page in each of its two passes, Excel every 1,000 rows."""

    def __init__(self, every: int):
        self.every = every
        self.calls = 0
        self.shown = False
        try:
            self.enabled = sys.stderr.isatty()
        except (AttributeError, ValueError):
            self.enabled = False

    def __call__(self, done: int, total: int | None, text: str) -> None:
        self.calls += 1
        if not self.enabled or self.calls % self.every:
            return
        sys.stderr.write(f"\r\x1b[K{text}" + (f"（{done}/{total} 行）" if total else ""))
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


def cmd_report(args: argparse.Namespace) -> int:
    if args.name in (None, "list"):
        if args.param or args.out or args.force or args.font:
            if args.name is None:
                raise CliError("请给出要生成的报表编号：jiedao report 编号 --out 文件.pdf；jiedao report list 列出报表。")
            raise CliError("jiedao report list 只列出报表，不接受 --param/--out/--force/--font。")
        return _report_list(args)
    return _report_generate(args)


def _report_list(args: argparse.Namespace) -> int:
    pm = make_pm()
    if args.user:
        db = _open(_url(_raw_target(args)), pm)
        try:
            actor = _login(db, pm, args.user)
        finally:
            db.dispose()
        found = _enabled_reports(pm, actor)
    else:
        found = _enabled_reports(pm)
    if not found:
        _out("没有可生成的报表。" if args.user else "已加载的插件都没有提供报表。")
        return 0
    rows = [(d.id, d.title, plugin, "；".join(_param_text(p) for p in d.parameters) or "（无）")
            for plugin, d in found]
    _out(_table(("编号", "名称", "插件", "参数"), rows))
    if not args.user:
        _out("（未指定 --user：列出全部报表；加 --user 只列出该用户有权生成的报表）")
    return 0


def _report_generate(args: argparse.Namespace) -> int:
    from shell.core.reporting import generate, output_format, parse_params

    if not args.out:
        raise CliError("请用 --out 指定输出文件（.pdf 或 .xlsx），例如 --out 台账.pdf。")
    out = Path(args.out).expanduser().resolve()
    fmt = output_format(out)  # .pdf / .xlsx only
    if out.exists() and not args.force:
        raise CliError(f"文件“{out}”已存在。为免覆盖，请换一个文件名，或加 --force。")
    if out.is_dir():
        raise CliError(f"“{out}”是一个文件夹，请给出文件名。")
    if not out.parent.is_dir():
        raise CliError(f"文件夹不存在：{out.parent}")
    pm = make_pm()
    found = {d.id: (plugin, d) for plugin, d in _enabled_reports(pm)}
    if args.name not in found:
        from shell.core.reporting import find_report

        plugin, _d = find_report(pm, args.name)  # NotFound with the Chinese message when unknown
        raise CliError(f"报表“{args.name}”所属的插件“{plugin}”已在本机停用（设置 → 插件）。")
    _plugin, definition = found[args.name]
    params = parse_params(definition, _report_params(args.param))  # bad/unknown values: before login
    font_path = _font_path(args) if fmt == "pdf" else None
    db = _open(_url(_raw_target(args)), pm)
    progress = _ReportProgress(PROGRESS_EVERY_PAGES if fmt == "pdf" else 1)
    try:
        actor = _login(db, pm, args.user)
        if definition.permission:
            actor.require(definition.permission)
        result = generate(db.session_factory, actor, definition, params, out, progress=progress,
                          font_path=font_path)
    finally:
        progress.close()
        db.dispose()
    pages = f"共 {result.pages} 页，" if result.pages is not None else "共 "
    _out(f"已生成 {result.path}：{pages}{result.rows} 行")
    if result.font:
        _out(f"字体：{result.font}")
    if result.missing_chars:
        _err(f"警告：所用字体缺少以下字符，PDF 中这些字会印成空白：{result.missing_chars}。"
             f"请用 --font 或环境变量 {FONT_ENV} 改用字符更全的字体（如宋体 simsun.ttc）。")
    return 0


# --- argument parsing ---------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse with Chinese help and usage errors (exit 2, no traceback)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示帮助并退出")

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：参数有误：{message}\n（jiedao -h 查看帮助）\n")


def _db_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--db", metavar="文件", help="SQLite 数据库文件的路径")
    g.add_argument("--url", metavar="地址", help="数据库地址，如 postgresql://jiedao@192.168.1.10:5432/jiedao")


def _user_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", metavar="用户名",
                   help=f"以哪个用户的身份操作；密码从提示输入，或由环境变量 {PASSWORD_ENV} 提供")


DB_HELP = ("数据库默认依次取：--db/--url，环境变量 JIEDAO_DATABASE_URL，本机设置里选定的数据库，"
           "用户数据目录下的 jiedao.sqlite。")


def build_parser() -> argparse.ArgumentParser:
    from shell import __version__

    parser = _Parser(
        prog="jiedao",
        description="街道工作台（Jiedao）：不带参数时打开桌面程序；子命令用于演示数据、数据库维护、插件、导入导出和报表。",
        epilog=DB_HELP + f" 以用户身份操作的命令从环境变量 {PASSWORD_ENV} 或提示读取密码。",
    )
    parser.add_argument("--version", action="version", version=f"街道工作台 {__version__}", help="显示版本号并退出")
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--db", dest="open_db", metavar="文件", help="打开桌面程序时使用的 SQLite 数据库文件")
    g.add_argument("--url", dest="open_url", metavar="地址", help="打开桌面程序时使用的数据库地址")
    parser.set_defaults(func=cmd_open)
    sub = parser.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)

    p = sub.add_parser("demo", help="生成一个演示数据库并打开",
                       description="生成一个带演示数据的数据库（社区、网格、各角色的演示用户、各插件的演示数据），然后打开桌面程序。")
    _db_options(p)
    p.add_argument("--scale", choices=("small", "medium", "large"), default="small",
                   help="数据规模：small 几百人（默认）；medium 约两万人；large 约二十万人、四百个网格")
    p.add_argument("--seed", type=int, default=20261122, help="随机种子：同一种子生成同样的数据（默认 20261122）")
    p.add_argument("--password", default="demo1234", metavar="密码", help="所有演示用户的密码（默认 demo1234）")
    p.add_argument("--force", action="store_true", help="文件已存在时删除并重建")
    p.add_argument("--no-open", action="store_true", help="只生成，不打开桌面程序")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("db", help="数据库维护：升级、备份、恢复、初始化、状态", description="数据库维护。" + DB_HELP)
    dbsub = p.add_subparsers(dest="db_command", metavar="操作", parser_class=_Parser, required=True)
    q = dbsub.add_parser("upgrade", help="把数据库升级到本程序的版本（SQLite 文件先自动备份）")
    _db_options(q)
    q.set_defaults(func=cmd_db_upgrade)
    q = dbsub.add_parser("backup", help="备份数据库（SQLite 在线备份；PostgreSQL 用 pg_dump）")
    _db_options(q)
    q.add_argument("--out", metavar="文件", help="备份文件名（默认：数据库所在文件夹的 backups/ 下，带时间戳）")
    q.set_defaults(func=cmd_db_backup)
    q = dbsub.add_parser("restore", help="从备份恢复数据库（SQLite 或 pg_dump 备份；先另存当前数据库）")
    _db_options(q)
    q.add_argument("file", metavar="备份文件", help="由 jiedao db backup 或自动备份生成的文件")
    q.add_argument("--yes", action="store_true", help="不再询问，直接恢复（非交互运行时必需）")
    q.set_defaults(func=cmd_db_restore)
    q = dbsub.add_parser("secure", help="加固现有的服务器数据库：每个用户一个服务器角色、一次性密码，收回共用角色的权限",
                         description="把现有的 PostgreSQL 数据库改为每个用户用自己的服务器角色登录：创建所有者角色，"
                                     "为每个用户建登录角色并给出一次性密码（首次登录须修改），收回原共用角色的权限。"
                                     "用超级用户或带 CREATEROLE 的数据库所有者连接；已加固的数据库会被拒绝。"
                                     f"所有者密码从提示输入，或由环境变量 {OWNER_PASSWORD_ENV} 提供。")
    _db_options(q)
    q.set_defaults(func=cmd_db_secure)
    q = dbsub.add_parser("init", help="新建数据库结构并创建第一个管理员")
    _db_options(q)
    q.add_argument("--admin-user", default="admin", metavar="用户名", help="管理员用户名（默认 admin）")
    q.add_argument("--admin-name", default="系统管理员", metavar="姓名", help="管理员姓名（默认 系统管理员）")
    q.set_defaults(func=cmd_db_init)
    q = dbsub.add_parser("migrate-from-sqlite", help="把单机 SQLite 数据库迁移到局域网 PostgreSQL 服务器（逐表核对）",
                         description="把一个单机 SQLite 数据库的全部数据（用户、审计日志、附件在内）"
                                     "复制到 PostgreSQL 服务器上的空数据库，"
                                     "复制后逐表核对行数和校验和；出错则全部撤销。目标数据库已有用户或审计记录时拒绝执行。")
    q.add_argument("file", metavar="SQLite文件", help="要迁移的 SQLite 数据库文件（不会被改动）")
    q.add_argument("--url", required=True, metavar="地址", help="目标 PostgreSQL 数据库地址，如 postgresql://jiedao@192.168.1.10:5432/jiedao")
    q.set_defaults(func=cmd_db_migrate_from_sqlite)
    q = dbsub.add_parser("status", help="显示数据库位置、版本、是否需要升级")
    _db_options(q)
    q.set_defaults(func=cmd_db_status)

    p = sub.add_parser("user", help="用户管理：新建、列出、停用/启用、重置密码、角色、管理范围",
                       description="用户管理，与“设置 → 用户与角色”相同的功能。在加固的服务器数据库上，"
                                   "每个用户是一个服务器登录角色（见 jiedao user list 的说明和 docs/lan-server.md）。"
                                   f"新密码从提示输入两次，或由环境变量 {NEW_PASSWORD_ENV} 提供。" + DB_HELP)
    usub = p.add_subparsers(dest="user_command", metavar="操作", required=True, parser_class=_Parser)
    q = usub.add_parser("add", help="新建用户（密码从提示输入）")
    q.add_argument("username", metavar="用户名")
    q.add_argument("--name", required=True, metavar="姓名")
    q.add_argument("--role", action="append", metavar="角色", help="角色名（如 grid_worker），可重复")
    q.add_argument("--area", metavar="辖区", help="管辖范围：街道/社区/网格 的名称路径或辖区编码")
    q.add_argument("--phone", metavar="电话")
    q.set_defaults(func=cmd_user_add)
    q = usub.add_parser("list", help="列出用户：用户名、姓名、角色、管辖范围、服务器角色、状态")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(func=cmd_user_list)
    for name, fn, text_help in (("disable", cmd_user_disable, "停用用户（不能再登录）"),
                                ("enable", cmd_user_enable, "重新启用用户"),
                                ("passwd", cmd_user_passwd, "重置用户密码（提示输入两次）")):
        q = usub.add_parser(name, help=text_help)
        q.add_argument("username", metavar="用户名")
        q.set_defaults(func=fn)
    q = usub.add_parser("set-roles", help="设置用户的角色（替换原有角色）")
    q.add_argument("username", metavar="用户名")
    q.add_argument("roles", nargs="+", metavar="角色")
    q.set_defaults(func=cmd_user_set_roles)
    q = usub.add_parser("set-scope", help="设置用户的管辖范围")
    q.add_argument("username", metavar="用户名")
    q.add_argument("path", metavar="辖区", help="街道/社区/网格 的名称路径或辖区编码")
    q.set_defaults(func=cmd_user_set_scope)
    for q in usub.choices.values():
        _db_options(q)
        _user_option(q)

    p = sub.add_parser("plugins", help="列出插件及其状态和错误")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("import", help="从文件导入数据（有错误时整份不导入）",
                       description="导入插件提供的一种数据。整份文件先逐行检查；"
                                   "有任何错误时不写入任何数据并列出每个错误（行、列、值、原因），除非加 --valid-only。")
    p.add_argument("kind", nargs="?", metavar="类型", help="数据类型（jiedao import --list 查看）")
    p.add_argument("file", nargs="?", metavar="文件", help="要导入的文件")
    p.add_argument("--list", action="store_true", help="列出可以导入导出的数据类型")
    p.add_argument("--valid-only", action="store_true", help="只导入检查通过的行，跳过有错误的行")
    _db_options(p)
    _user_option(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="把一种数据导出到文件")
    p.add_argument("kind", metavar="类型", help="数据类型（jiedao import --list 查看）")
    p.add_argument("file", metavar="文件", help="导出到的文件")
    p.add_argument("--force", action="store_true", help="文件已存在时覆盖")
    _db_options(p)
    _user_option(p)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("audit", help="审计日志与台账的防篡改校验",
                       description="审计日志和只增台账（积分、时长、物资出入库）"
                                   "每条记录都带有与上一条相连的哈希（防篡改链）。" + DB_HELP)
    asub = p.add_subparsers(dest="audit_command", metavar="操作", parser_class=_Parser, required=True)
    q = asub.add_parser("verify", help="从头核验每条防篡改链：完好退出码 0，被篡改退出码 1 并指出第一条有问题的记录",
                        description="从第一条起逐条核验审计日志和各台账的哈希链，并与上次核验时记下的链尾比对。"
                                    "每张表列出已核验条数和结果；发现删除、修改、插入或调换顺序时指出表、编号、时间和情况，"
                                    "退出码 1。"
                                    "可与打印的审计日志末尾的“防篡改链头”核对。")
    _db_options(q)
    q.set_defaults(func=cmd_audit_verify)
    p = sub.add_parser("calendar", help="节假日安排：查看某年的放假与调休，从 Excel 导入",
                       description="节假日安排决定工作日（事件处置时限等）。程序自带 chinese-calendar 已知年份的安排；"
                                   "之后的年份请在国务院办公厅发布当年放假安排后录入或导入。" + DB_HELP)
    csub = p.add_subparsers(dest="calendar_command", metavar="操作", parser_class=_Parser, required=True)
    q = csub.add_parser("show", help="列出某年的放假（休）和调休上班（班）日；未录入的年份给出提示")
    q.add_argument("year", type=_year, metavar="年份", help="如 2027")
    _db_options(q)
    q.set_defaults(func=cmd_calendar_show)
    q = csub.add_parser("import", help="从 Excel 导入节假日安排（列：日期、休/班、名称；有错误时整份不导入）",
                        description="导入一份节假日安排表：第一行为 日期、休/班、名称，每行一天。"
                                    "文件中出现的年份整年替换为文件内容；"
                                    "任何一行有错都不写入，并列出行号、列、值和原因（退出码 1）。需要“修改系统设置与规则”权限。")
    q.add_argument("file", metavar="文件", help="Excel 文件（.xlsx），可用 jiedao calendar template 生成")
    _db_options(q)
    _user_option(q)
    q.set_defaults(func=cmd_calendar_import)
    q = csub.add_parser("template", help="生成节假日安排导入模板（Excel）")
    q.add_argument("file", metavar="文件", help="要生成的 .xlsx 文件")
    q.add_argument("--year", type=_year, default=None, metavar="年份", help="模板示例用的年份（默认明年）")
    q.add_argument("--force", action="store_true", help="文件已存在时覆盖")
    q.set_defaults(func=cmd_calendar_template)

    p = sub.add_parser("report", help="列出报表，或生成一份报表（PDF 或 Excel）",
                       description="jiedao report list 列出报表（编号、名称、插件、参数）；"
                                   "jiedao report 编号 --out 文件.pdf|文件.xlsx 生成报表。" + DB_HELP,
                       epilog="例：JIEDAO_PASSWORD=… jiedao report list --user admin；"
                              "jiedao report testplug.notes --param year=2026 --out 台账.pdf --user admin")
    p.add_argument("name", nargs="?", metavar="报表编号", help="要生成的报表编号；写 list 列出报表")
    p.add_argument("--param", action="append", metavar="名称=值",
                   help="报表参数，可重复，如 --param year=2026（jiedao report list 查看每个报表的参数）")
    p.add_argument("--out", metavar="文件", help="输出文件，.pdf 或 .xlsx")
    p.add_argument("--force", action="store_true", help="输出文件已存在时覆盖")
    p.add_argument("--font", metavar="字体文件",
                   help=f"PDF 用的中文 TrueType 字体（默认依次取环境变量 {FONT_ENV}、本机设置、自动查找）；"
                        ".ttc 字体集可写作 路径.ttc#0")
    _db_options(p)
    _user_option(p)
    p.set_defaults(func=cmd_report)
    return parser


class _ShortFormatter(logging.Formatter):
    """Plugin load failures are logged with their traceback; the CLI shows only the first line."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage().strip().splitlines()
        first = text[0] if text else ""
        return f"警告：{first}"


class _StderrHandler(logging.StreamHandler):
    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self):  # always the current sys.stderr (tests swap it)
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _setup_logging(debug: bool) -> logging.Handler | None:
    """Show warnings (plugin failures …) on stderr while a command runs; removed again afterwards so
    an in-process caller's logging is left as it was."""
    root = logging.getLogger()
    if any(getattr(h, "_jiedao_cli", False) for h in root.handlers):
        return None
    handler = _StderrHandler()
    handler._jiedao_cli = True  # type: ignore[attr-defined]
    if not debug:
        handler.setFormatter(_ShortFormatter())
    handler.setLevel(logging.WARNING)
    root.addHandler(handler)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get(DEBUG_ENV) == "1"
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    # The desktop app sets up its own logging.
    handler = _setup_logging(debug) if args.func is not cmd_open else None
    from shell.errors import JiedaoError

    try:
        return int(args.func(args) or 0)
    except (JiedaoError, CliError) as exc:
        _err(f"错误：{exc.message}")
        return 2
    except KeyboardInterrupt:
        _err("已取消。")
        return 130
    except Exception as exc:  # a bug, not bad input: short message unless debugging
        from shell.db.engine import fault

        explained = fault(exc)  # a full disk while writing a file, a damaged file read outside the engine
        if explained is not None:
            _err(f"错误：{explained.message}")
            return 2
        if debug:
            raise
        _err(f"错误：程序内部错误（{type(exc).__name__}: {exc}）。设置环境变量 {DEBUG_ENV}=1 后重试可看到详细信息。")
        return 1
    finally:
        if handler is not None:
            logging.getLogger().removeHandler(handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
