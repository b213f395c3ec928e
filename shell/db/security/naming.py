"""Role names on a secured server database. Several streets may share one PostgreSQL server, and
roles are cluster-wide, so every name starts with the street key taken from the database name:

    <key>.owner            the schema owner (jiedao db init|upgrade|secure|backup|restore only)
    <key>.users            every login role is a member (CONNECT, USAGE, the identity functions)
    <key>.r.<role name>    one group role per Jiedao role: that role's table privileges
    <key>.u.<username>     the login role of one Jiedao user

A key has no "." (it is made of [a-z0-9_]), so names of two streets never clash. Names are always
quoted identifiers and at most 63 bytes (PostgreSQL's NAMEDATALEN)."""
from __future__ import annotations

import re

from shell.errors import ValidationError

KEY_MAX = 20
NAME_MAX_BYTES = 63
RULE = ("服务器角色名 = 街道键.u.用户名（街道键取自数据库名：小写字母、数字、下划线，至多 20 个字符，"
        "以字母开头）；角色组为 街道键.r.角色名，所有者为 街道键.owner，最长 63 字节。")


def street_key(dbname: str) -> str:
    """The key of a database name: lower-case, every char outside [a-z0-9_] → "_", ≤ 20 chars."""
    key = re.sub(r"[^a-z0-9_]", "_", (dbname or "").lower())[:KEY_MAX]
    if not key or not ("a" <= key[0] <= "z"):
        raise ValidationError(
            f"数据库名“{dbname}”不能用作街道键：街道键取数据库名的前 {KEY_MAX} 个字符（小写字母、数字、下划线），"
            "必须以英文字母开头。请换一个以字母开头的数据库名（例如 jiedao_qingshi）。", "database", dbname)
    return key


def _checked(name: str, what: str) -> str:
    if len(name.encode("utf-8")) > NAME_MAX_BYTES:
        raise ValidationError(
            f"{what}的服务器角色名“{name}”有 {len(name.encode('utf-8'))} 字节，超过 PostgreSQL 的上限 "
            f"{NAME_MAX_BYTES} 字节。请用更短的名称。", "username", name)
    return name


def owner_role(key: str) -> str:
    return f"{key}.owner"


def base_role(key: str) -> str:
    return f"{key}.users"


def group_prefix(key: str) -> str:
    return f"{key}.r."


def login_prefix(key: str) -> str:
    return f"{key}.u."


def group_role(key: str, role_name: str) -> str:
    return _checked(group_prefix(key) + role_name, f"角色“{role_name}”")


def login_role(key: str, username: str) -> str:
    return _checked(login_prefix(key) + username, f"用户“{username}”")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
