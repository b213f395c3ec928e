"""Backup and restore of a PostgreSQL database with PostgreSQL's own ``pg_dump`` / ``pg_restore``
(custom format). Jiedao does not reimplement them; it finds them, runs them with the password in the
environment (never on the command line), checks the result and explains failures in Chinese."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL

from shell.errors import DatabaseError

BIN_ENV = "JIEDAO_PG_BIN"  # folder holding pg_dump / pg_restore when they are not on PATH
TIMEOUT = 6 * 3600


def find_tool(name: str) -> Path:
    """``pg_dump`` or ``pg_restore``: from JIEDAO_PG_BIN, PATH, or a standard PostgreSQL install folder."""
    exe = name + (".exe" if os.name == "nt" else "")
    folder = os.environ.get(BIN_ENV)
    if folder and (Path(folder) / exe).is_file():
        return Path(folder) / exe
    found = shutil.which(name)
    if found:
        return Path(found)
    patterns = (["C:/Program Files/PostgreSQL/*/bin/" + exe] if os.name == "nt"
                else ["/usr/lib/postgresql/*/bin/" + exe, "/usr/pgsql-*/bin/" + exe, "/opt/homebrew/bin/" + exe])
    for pattern in patterns:
        hits = sorted(glob.glob(pattern), reverse=True)  # newest version first
        if hits:
            return Path(hits[0])
    raise DatabaseError(
        f"找不到 PostgreSQL 的 {name} 程序，无法备份或恢复服务器上的数据库。\n"
        f"请在这台电脑上安装 PostgreSQL 客户端工具（与服务器同一大版本或更新），或设置环境变量 {BIN_ENV} "
        "为它所在的文件夹（例如 C:\\Program Files\\PostgreSQL\\16\\bin）。")


def _conn_args(url: URL) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env["PGCONNECT_TIMEOUT"] = "5"
    return args + ["--no-password"], env


def _run(cmd: list[str], env: dict[str, str], what: str) -> str:
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except OSError as exc:
        raise DatabaseError(f"{what}失败：无法运行 {cmd[0]}（{exc.strerror or exc}）。") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        hint = ""
        text = " ".join(detail)
        if "server version mismatch" in text or "aborting because of server version mismatch" in text:
            hint = "\n本机的 PostgreSQL 工具比服务器旧：请安装与服务器同一大版本或更新的客户端工具。"
        elif "password authentication failed" in text or "no password supplied" in text:
            hint = "\n用户名或密码不正确。"
        raise DatabaseError(f"{what}失败：{detail[0] if detail else '返回码 ' + str(proc.returncode)}{hint}")
    return proc.stdout


def default_dump_name(url: URL) -> str:
    return f"jiedao-{url.database}-{datetime.now():%Y%m%d-%H%M%S}.dump"


def check_dump(path: Path) -> int:
    """Refuse a file that is not a pg_dump custom-format archive; return the number of entries."""
    if not path.is_file():
        raise DatabaseError(f"备份文件不存在：{path}")
    with open(path, "rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise DatabaseError(f"“{path}”不是 pg_dump 生成的备份文件（自定义格式），没有恢复。")
    listing = _run([str(find_tool("pg_restore")), "--list", str(path)], dict(os.environ), "检查备份文件")
    if "TABLE DATA public core_users" not in listing and "TABLE DATA public core_audit_log" not in listing:
        raise DatabaseError(f"“{path}”不是街道工作台数据库的备份（里面没有用户表和审计日志），没有恢复。")
    return sum(1 for line in listing.splitlines() if line and not line.startswith(";"))


def pg_backup(url: URL, out: Path) -> Path:
    """``pg_dump --format=custom`` into ``out`` (written beside it first, renamed when complete)."""
    tool = find_tool("pg_dump")
    if out.exists():
        raise DatabaseError(f"文件“{out}”已存在，为免覆盖请换一个文件名。")
    args, env = _conn_args(url)
    part = out.with_name(out.name + ".part")
    try:
        # --enable-row-security: on a secured database the owner is under its tables' forced row-level
        # security too (its own policy sees every row); without it pg_dump refuses such tables.
        # A superuser bypasses row security either way.
        _run([str(tool), *args, "--format=custom", "--enable-row-security", "--file", str(part),
              "--dbname", url.database or "postgres"], env, "备份")
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    check_dump(out)
    return out


def pg_restore(url: URL, dump: Path, safety_folder: Path | None = None) -> Path:
    """Replace the database's contents with ``dump`` in one transaction, after keeping a safety dump
    of what is there now. Returns the safety dump's path."""
    check_dump(dump)
    folder = safety_folder or dump.parent
    safety = pg_backup(url, folder / f"jiedao-{url.database}-恢复前-{datetime.now():%Y%m%d-%H%M%S}.dump")
    args, env = _conn_args(url)
    _run([str(find_tool("pg_restore")), *args, "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--enable-row-security", "--exit-on-error", "--dbname", url.database or "postgres", str(dump)], env, "恢复")
    return safety
