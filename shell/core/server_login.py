"""Logging in to a secured server database (issue 15.1): the desktop holds no shared secret.

A server address saved without a user name (``postgresql://192.168.1.10:5432/jiedao``) means "each
person logs in as themselves": the login dialog's user name and password open the server connection
as that user's own PostgreSQL login role (``<key>.u.<username>``, ``shell/db/security/naming.py``),
so the server's privileges and row-level policies apply to everything the desktop does. A wrong
name or password is refused by the server itself; the answer is the same for both (no hint which
one was wrong). No Qt in here: the desktop's login dialog and the tests call the same functions.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from shell.errors import AuthError, DatabaseError, SchemaNeedsOwner, ValidationError

log = logging.getLogger(__name__)


def needs_user_login(target: str | URL | None) -> bool:
    """True for a server address without a user name: the person logging in supplies it."""
    if target is None:
        return False
    try:
        url = target if isinstance(target, URL) else make_url(str(target)) if "://" in str(target) else None
    except (ArgumentError, ValueError, TypeError):
        return False
    return url is not None and url.get_backend_name() == "postgresql" and not url.username


def user_url(target: str | URL, username: str, password: str) -> URL:
    """The server address with this person's own login role and password."""
    from shell.db.engine import normalize_url
    from shell.db.security.naming import login_role, street_key

    url = target if isinstance(target, URL) else normalize_url(str(target))
    role = login_role(street_key(url.database or ""), username.strip())
    return url.set(username=role, password=password)


def check_server_reachable(target: str | URL) -> str:
    """设置/选择数据库's 测试连接 for an address without a user: the server answered (it asked who we
    are) over the transport the TLS rule demands. Nothing is logged in."""
    from shell.db.engine import check_connection, normalize_url

    url = target if isinstance(target, URL) else normalize_url(str(target))
    probe = url.set(username="jiedao_probe_no_login", password="-")
    try:
        return check_connection(probe)
    except DatabaseError as exc:
        if _is_auth_failure(exc, hba=True):
            return "服务器可以连接；请用您自己的用户名和密码登录"
        raise


def server_label(target: str | URL) -> str:
    """服务器 host:port/db for the login dialog (never a password)."""
    url = target if isinstance(target, URL) else make_url(str(target))
    return f"服务器 {url.host or 'localhost'}:{url.port or 5432}/{url.database}（用您自己的账号登录）"


def keyring_key(target: str | URL, username: str) -> str:
    """Where this person's own password is kept when they tick 记住密码: per server, database and user."""
    url = target if isinstance(target, URL) else make_url(str(target))
    return f"{username}@{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def stored_password(target: str | URL, username: str) -> str | None:
    from shell.config import KEYRING_SERVICE

    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, keyring_key(target, username))
    except Exception:  # noqa: BLE001 - no keyring backend on this desktop
        return None


def remember_password(target: str | URL, username: str, password: str | None) -> bool:
    """Keep (or with ``None`` forget) this person's own password in the system keyring."""
    from shell.config import KEYRING_SERVICE

    try:
        import keyring

        if password is None:
            try:
                keyring.delete_password(KEYRING_SERVICE, keyring_key(target, username))
            except keyring.errors.PasswordDeleteError:
                pass
        else:
            keyring.set_password(KEYRING_SERVICE, keyring_key(target, username), password)
        return True
    except Exception as exc:  # noqa: BLE001
        log.warning("无法在系统钥匙串中保存密码：%s", exc)
        return False


@dataclass
class UserLogin:
    """What a successful login on a secured server gives the desktop."""

    database: Any        # shell.core.database.Database, connected as the user's own role
    actor: Any           # shell.core.context.Actor
    must_change_password: bool
    role_titles: list[str]
    unit_name: str


def _is_auth_failure(exc: BaseException | None, hba: bool = False) -> bool:
    """The server refused who we said we are (wrong password, no such role, login disabled); with
    ``hba`` also a pg_hba.conf refusal (enough for 测试连接: the server did answer)."""
    if exc is None:
        return False
    for e in (exc, exc.__cause__, exc.__context__, getattr(exc, "orig", None)):
        if e is None:
            continue
        t = str(e).lower()
        if ("password authentication failed" in t or "no password supplied" in t
                or ("role" in t and "does not exist" in t) or "not permitted to log in" in t
                or (hba and "pg_hba.conf" in t)):
            return True
    return False


def open_as_user(target: str | URL, username: str, password: str, pm=None, *, connection_budget: bool = True,
                 load_plugin_models: bool = False, labels: dict[str, str] | None = None) -> UserLogin:
    """Connect as the person's own login role, refuse a schema older than the program (only the
    owner upgrades, ``SchemaNeedsOwner``), build their Actor from their own user row, audit the login."""
    from shell.core import audit, auth, settings
    from shell.core.database import open_database
    from shell.core.models import User

    username = (username or "").strip()
    if not username:
        raise AuthError("请输入用户名。")
    try:
        url = user_url(target, username, password)
    except ValidationError as exc:  # a user name that cannot be a server role cannot log in
        raise AuthError("用户名或密码错误。") from exc
    try:
        database = open_database(url, pm=pm, migrate=True, backup=False, load_plugin_models=load_plugin_models,
                                 connection_budget=connection_budget)
    except SchemaNeedsOwner as exc:
        # Only the owner upgrades; an administrator may give the owner's password once (the dialog asks).
        exc.can_upgrade = _may_upgrade(url, username, pm)
        raise
    except DatabaseError as exc:
        if _is_auth_failure(exc):
            raise AuthError("用户名或密码不正确（或者这个账号已被停用）。") from None
        raise
    except DBAPIError as exc:
        if _is_auth_failure(exc):
            raise AuthError("用户名或密码不正确（或者这个账号已被停用）。") from None
        raise
    try:
        with database.session_factory() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None or not user.is_active:
                # The role logged in but the Jiedao user is gone or disabled: the server's policies
                # would show this person nothing; say so instead of opening an empty window.
                raise AuthError("这个账号已被停用，请与系统管理员联系。")
            actor = auth.build_actor(session, user, labels)
            must_change = bool(user.must_change_password)
            titles = auth.role_titles(session, user.id)
            unit = str(settings.core(session, "core.unit_name") or "")
            session.info.update(actor_id=actor.user_id, actor_name=actor.display_name or actor.username)
            audit.record(session, "login", "core_users", user.id, f"用户“{username}”登录（服务器账号）")
            session.commit()
    except BaseException:
        database.dispose()
        raise
    return UserLogin(database, actor, must_change, titles, unit)


def _may_upgrade(url: URL, username: str, pm) -> bool:
    """Whether this person administers the database (core.database.manage), read with their own
    role from the schema as it is; any doubt is a no."""
    from shell.core import auth
    from shell.core.database import open_database
    from shell.core.models import User

    try:
        database = open_database(url, pm=pm, migrate=False, backup=False, load_plugin_models=False)
    except Exception:  # noqa: BLE001 - could not even read: no offer
        return False
    try:
        with database.session_factory() as session:
            user = session.scalar(select(User).where(User.username == username))
            return user is not None and auth.build_actor(session, user).can("core.database.manage")
    except Exception:  # noqa: BLE001 - e.g. a column the older schema lacks
        return False
    finally:
        database.dispose()


def change_own_server_password(database, actor, old_password: str, new_password: str) -> None:
    """The first login's new password on a secured server: the same service as 设置's own-password
    change (``auth.change_own_password``: the server checks the old one, the person's own role gets
    the new one as a SCRAM verifier, the first-login flag is cleared), committed."""
    from shell.core import auth
    from shell.core.context import ServiceContext

    with database.session_factory() as session:
        auth.change_own_password(ServiceContext(session, actor), old_password, new_password)
        session.commit()


def upgrade_as_owner(target: str | URL, owner_password: str, pm=None):
    """The desktop's way to do what ``jiedao db upgrade`` does, for an administrator who knows the
    owner's password (asked once, never kept): migrate as ``<key>.owner`` and re-apply the grants,
    policies and audit triggers to new tables."""
    from shell.core.database import open_database
    from shell.db.engine import normalize_url
    from shell.db.security.naming import owner_role, street_key

    url = target if isinstance(target, URL) else normalize_url(str(target))
    owner = url.set(username=owner_role(street_key(url.database or "")), password=owner_password)
    try:
        database = open_database(owner, pm=pm, migrate=True, backup=False)
    except DatabaseError as exc:
        if _is_auth_failure(exc):
            raise AuthError("数据库所有者的密码不正确。") from None
        raise
    database.dispose()
    return database.upgrade
