"""Opening a Jiedao database: connect, refuse what cannot be used, migrate (with a backup), sync roles."""
from __future__ import annotations

import logging
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from shell.core import auth, integrity, settings
from shell.db.engine import explain, make_engine, normalize_url
from shell.db.mappers import load_models, plugin_module_names
from shell.db.migrate import UpgradeResult, needs_upgrade, plugin_branches, upgrade
from shell.db.session import make_session_factory
from shell.errors import DatabaseError, SchemaNeedsOwner

log = logging.getLogger(__name__)

NETWORK_FS = {"nfs", "nfs4", "cifs", "smbfs", "smb3", "fuse.sshfs", "9p", "afs", "ncpfs", "davfs"}


def is_network_path(path: Path, mounts_file: str | Path = "/proc/mounts") -> bool:
    """True when a SQLite file would live on a network share (where SQLite locking is unsafe)."""
    p = str(path)
    if sys.platform == "win32":
        if p.startswith("\\\\") or p.startswith("//"):
            return True
        try:
            import ctypes

            drive = os.path.splitdrive(os.path.abspath(p))[0] + "\\"
            return ctypes.windll.kernel32.GetDriveTypeW(drive) == 4  # DRIVE_REMOTE
        except Exception:  # noqa: BLE001
            return False
    try:
        best, fstype = "", ""
        with open(mounts_file, encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 3 and os.path.abspath(p).startswith(parts[1]) and len(parts[1]) > len(best):
                    best, fstype = parts[1], parts[2]
        return fstype in NETWORK_FS
    except OSError:
        return False


@dataclass
class Database:
    url: URL
    engine: Engine
    session_factory: sessionmaker
    upgrade: UpgradeResult | None = None
    is_demo: bool = False
    warnings: list[str] = field(default_factory=list)
    # Shown to administrators only (core.database.manage): a removed guard trigger re-created, a
    # broken chain (shell.core.integrity.check_on_open) — evidence for whoever must find out who and when.
    admin_warnings: list[str] = field(default_factory=list)
    seed_errors: dict[str, str] = field(default_factory=dict)  # demo only: {plugin: why seed_demo failed}

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def label(self) -> str:
        if self.is_sqlite:
            return f"本地文件 {self.url.database}"
        return f"服务器 {self.url.host or 'localhost'}:{self.url.port or 5432}/{self.url.database}"

    def dispose(self) -> None:
        self.engine.dispose()


def _check_sqlite_file(path: Path, create: bool) -> list[str]:
    warnings = []
    if is_network_path(path):
        warnings.append(
            f"数据库文件“{path}”位于网络共享上。多台电脑同时打开网络共享上的 SQLite 文件可能损坏数据；"
            "多人共用请改用局域网 PostgreSQL 服务器（见 docs/lan-server.md）。"
        )
    if not path.exists():
        if not create:
            raise DatabaseError(f"数据库文件不存在：{path}\n请在“设置 → 数据库”中选择正确的文件，或新建一个。")
        if not path.parent.exists():
            raise DatabaseError(f"文件夹不存在：{path.parent}")
        if not os.access(path.parent, os.W_OK):
            raise DatabaseError(f"文件夹“{path.parent}”不可写入，无法在这里新建数据库。请换一个位置。")
        return warnings
    if path.is_dir():
        raise DatabaseError(f"“{path}”是一个文件夹，不是数据库文件。")
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head and head != b"SQLite format 3\x00":
        raise DatabaseError(
            f"文件“{path}”不是有效的数据库，或已经损坏。\n"
            "请从备份恢复（设置 → 数据库 → 从备份恢复，或命令 jiedao db restore），或选择另一个文件。原文件未被改动。"
        )
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise DatabaseError(
            f"数据库文件“{path}”或其所在文件夹是只读的，无法保存修改（SQLite 还需要在同一文件夹写日志文件）。\n"
            "请检查文件权限，或把文件复制到可写的位置后再打开。"
        )
    return warnings


def open_database(target: str | os.PathLike | URL, pm=None, migrate: bool = True, create: bool = True,
                  backup: bool = True, load_plugin_models: bool = True, connection_budget: bool = False) -> Database:
    """Open (and by default migrate) a database. ``pm`` supplies plugin migrations, permissions and
    roles; pass a manager with *all* plugins, disabled ones included, so the schema stays whole.
    ``connection_budget``: the desktop's at most two server connections (``shell.db.engine.BudgetPool``)."""
    url = target if isinstance(target, URL) else normalize_url(target)
    warnings: list[str] = []
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        warnings += _check_sqlite_file(Path(url.database), create)
    engine = make_engine(url, budget=connection_budget)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                # Reads the header and the schema: a file that is not a database fails here. Not
                # quick_check, which reads every page: 1–2 s at each start on a large street's file;
                # damage deeper in the file is reported (explained in Chinese) where it is read.
                conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar()
            else:
                conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        engine.dispose()
        raise explain(exc, url) from None
    except DatabaseError:  # already explained by the engine (a damaged file, a full disk)
        engine.dispose()
        raise
    result = None
    try:
        # A secured server database (shell/db/security): only its owner (or a superuser) changes the
        # schema, the roles and the grants; a user's own login role never does.
        owner = True
        if engine.dialect.name == "postgresql":
            from shell.db import security

            with engine.connect() as conn:
                secured = security.is_secured(conn)
                owner = security.is_owner(conn) if secured else True
        else:
            secured = False
        branches = plugin_branches(pm) if pm is not None else ()
        if migrate and not owner and needs_upgrade(engine, branches):
            raise SchemaNeedsOwner(
                f"服务器数据库“{url.database}”的结构比本程序旧，需要升级；您的账号不能升级数据库。\n"
                "请系统管理员用数据库所有者账号运行：jiedao db upgrade --url …（见 docs/lan-server.md）。")
        if migrate and owner:
            result = upgrade(engine, branches, backup=backup)
            if secured and result.changed:
                with engine.begin() as conn:
                    security.refresh(conn, pm)
        elif "core_users" not in inspect(engine).get_table_names():
            raise DatabaseError("这个数据库还没有初始化：请先运行 jiedao db upgrade（或 jiedao db init）。")
        # Before any page or chart queries on a thread (see shell/db/mappers.py). The desktop defers
        # this until its window is shown (MainWindow._open_current): start-up stays short.
        if load_plugin_models:
            load_models(plugin_module_names(pm))
        factory = make_session_factory(engine)
        with factory() as session:
            session.info["actor_name"] = "系统"
            if migrate and owner:
                auth.sync_roles(session, auth.collect_role_templates(pm), auth.collect_permissions(pm))
                session.commit()
                if secured:  # a role new in this version gets its group role and grants
                    with engine.begin() as conn:
                        for (role_id,) in conn.execute(text("SELECT id FROM core_roles ORDER BY id")).all():
                            conn.execute(text("SELECT jiedao_sec._sync_role(:r)"), {"r": role_id})
            is_demo = bool(settings.get_value(session, settings.DEMO_FLAG, False))
            # Tamper evidence: the append-only triggers still there, the entries since the last check
            # still chained (shell/core/chain.py).
            tampered = integrity.check_on_open(session)
    except DBAPIError as exc:
        engine.dispose()
        raise explain(exc, url) from None
    except (DatabaseError, sqlite3.Error):
        engine.dispose()
        raise
    return Database(url, engine, factory, result, is_demo, warnings, admin_warnings=tampered)
