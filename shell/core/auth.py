"""Users, roles and permissions; argon2 passwords; login with lockout; the ``Actor`` of a user."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Table, case, func, literal, or_, select, update
from sqlalchemy.orm import Session, sessionmaker, undefer
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from shell.clock import format_local, utcnow
from shell.contracts import RoleTemplate
from shell.core import audit, settings
from shell.core.context import Actor, ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area, Role, RolePermission, User
from shell.core.rules import CORE_PERMISSIONS as CORE_PERMISSIONS  # declared as data, registered by the core plugin
from shell.core.rules import CORE_ROLES as CORE_ROLES
from shell.errors import AccountLocked, AuthError, NotFound, PermissionDenied, ValidationError

# argon2-cffi's defaults (RFC 9106 low-memory profile: 3 passes over 64 MiB, 4 lanes): the program's
# cost, never lowered by the program itself. Test suites swap in a cheap hasher for the whole run
# (``use_password_hasher``; shell.testing does it) because a hash takes 0.1–0.6 s on a small machine.
_hasher = PasswordHasher()
_USERS = cast(Table, User.__table__)
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")


# --- permissions and roles ---------------------------------------------------------------------
def collect_permissions(pm=None) -> dict[str, str]:
    """code → Chinese label from every plugin's ``register_permissions``, the core (the first
    plugin) first; without a manager, the core's own declarations."""
    if pm is None:
        return {p.code: p.label for p in CORE_PERMISSIONS}
    from shell.hooks import call_each

    return {p.code: p.label for _name, p in call_each(pm, "register_permissions")}


def collect_role_templates(pm=None) -> list[RoleTemplate]:
    """Every plugin's ``register_roles``, the core's first: a template whose name is already offered
    adds its codes to it (title and description stay the first one's). Without a manager, the core's."""
    if pm is None:
        return list(CORE_ROLES)
    from shell.hooks import call_each

    merged: dict[str, RoleTemplate] = {}
    for _name, t in call_each(pm, "register_roles"):
        if t.name in merged:
            old = merged[t.name]
            codes = tuple(dict.fromkeys(old.permissions + tuple(t.permissions)))
            merged[t.name] = RoleTemplate(old.name, old.title, codes, old.description)
        else:
            merged[t.name] = t
    return list(merged.values())


SYNCED_CODES_KEY = "core.roles.synced_codes"


def sync_roles(session: Session, templates: Iterable[RoleTemplate], known_codes: Iterable[str]) -> None:
    """Create missing default roles; give existing ones only codes never offered before, so a code an
    administrator removed from a role stays removed."""
    known = set(known_codes)
    offered_before = set(settings.get_value(session, SYNCED_CODES_KEY, []) or [])
    roles = {r.name: r for r in session.scalars(select(Role))}
    for t in templates:
        codes = [c for c in t.permissions if c in known]
        role = roles.get(t.name)
        if role is None:
            role = Role(name=t.name, title=t.title, description=t.description, builtin=True)
            role.permissions = [RolePermission(code=c) for c in codes]
            session.add(role)
        else:
            have = role.codes
            for c in codes:
                if c not in have and c not in offered_before:
                    role.permissions.append(RolePermission(code=c))
    settings.set_flag(session, SYNCED_CODES_KEY, sorted(known | offered_before))
    session.flush()


# --- passwords ---------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    return _hasher.hash(password)


def use_password_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash new passwords with ``hasher`` from now on (tests: cheap parameters); returns the one it
    replaces. Verifying reads the cost from the stored hash, so existing hashes keep working."""
    global _hasher
    previous, _hasher = _hasher, hasher
    return previous


def verify_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str, min_length: int = 8) -> None:
    if len(password) < min_length:
        raise ValidationError(f"密码至少 {min_length} 位（现在是 {len(password)} 位）。", "password")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        raise ValidationError("密码须同时包含字母和数字。", "password")


def check_username(username: str) -> str:
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise ValidationError(
            f"用户名“{username}”不可用：须为 2–64 位字母、数字、下划线、点或横线。", "username", username
        )
    return username


# --- first start and login ---------------------------------------------------------------------
def has_users(session: Session) -> bool:
    return (session.scalar(select(func.count()).select_from(User)) or 0) > 0


def create_first_admin(session: Session, username: str, display_name: str, password: str) -> User:
    """The first start asks for an administrator: allowed only while the database has no user."""
    if has_users(session):
        raise PermissionDenied("core.user.manage", "创建首个管理员（数据库中已有用户）")
    username = check_username(username)
    check_password_policy(password, settings.core(session, "core.password.min_length"))
    if not (display_name or "").strip():
        raise ValidationError("请填写管理员姓名。", "display_name")
    session.info.setdefault("actor_name", "首次启动")
    user = User(username=username, display_name=display_name.strip(), password_hash=hash_password(password),
                is_superuser=True)
    admin_role = session.scalar(select(Role).where(Role.name == "admin"))
    if admin_role is not None:
        user.roles = [admin_role]
    session.add(user)
    session.flush()
    return user


def build_actor(session: Session, user: User, labels: dict[str, str] | None = None) -> Actor:
    codes: set[str] = set()
    for role in user.roles:
        codes |= role.codes
    scope: tuple[str, ...] = ()
    if user.area_id is not None:
        area = session.get(Area, user.area_id)
        scope = (area.path,) if area is not None else ()
    return Actor(user_id=user.id, username=user.username, display_name=user.display_name,
                 permissions=frozenset(codes), scope_paths=scope, is_superuser=user.is_superuser,
                 labels=dict(labels or {}))


def login(session_factory: sessionmaker, username: str, password: str, now: datetime | None = None,
          labels: dict[str, str] | None = None) -> Actor:
    """Check a password; count failures and lock after too many. Commits its own bookkeeping, so a
    failed attempt is remembered even though this raises.

    Offices share accounts and run scripts, so one account logs in from several processes at once.
    The bookkeeping is therefore not an edit of the versioned user row (that made parallel logins
    fail with StaleDataError and an administrator's save conflict with any login): each outcome is one
    guarded UPDATE that leaves ``version_id`` alone, first in its own short transaction with its audit
    entry. The password is checked before that transaction opens (argon2 takes a while)."""
    now = now or utcnow()
    username = (username or "").strip()
    with session_factory() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is not None and user.is_active:
            if _locked(user.locked_until, now):
                raise AccountLocked(_still_locked(username, user.locked_until))
            user_id, display_name, hashed = user.id, user.display_name, user.password_hash
            limit = settings.core(session, "core.login.max_failures")
            minutes = settings.core(session, "core.login.lock_minutes")
    if user is None or not user.is_active:
        with session_factory() as session:
            session.info.update(actor_id=None, actor_name=username or "?")
            audit.record(session, "login_failed", "core_users", None, f"用户名“{username}”不存在或已停用")
            session.commit()
        raise AuthError("用户名或密码不正确。")
    ok = verify_password(hashed, password)
    with session_factory() as session:
        if ok:
            session.info.update(actor_id=user_id, actor_name=display_name)
            done = session.execute(
                _bookkeeping(user_id, now).values(failed_logins=0, locked_until=None, last_login_at=now)
            ).rowcount
            if done:
                audit.record(session, "login", "core_users", user_id, "登录成功")
                session.commit()
                user = session.get(User, user_id)
                # Without the plugins' labels, at least the core permissions are named in Chinese.
                return build_actor(session, user, labels or collect_permissions())
        else:
            session.info.update(actor_id=None, actor_name=username)
            # Count and lock in one statement (SET sees the row as it was before it): of N parallel
            # wrong passwords, exactly one reaches the limit, and the others then find the row locked.
            col = _USERS.c
            reached = col.failed_logins + 1 >= limit
            until = literal(now + timedelta(minutes=minutes), col.locked_until.type)
            done = session.execute(_bookkeeping(user_id, now).values(
                failed_logins=case((reached, 0), else_=col.failed_logins + 1),
                locked_until=case((reached, until), else_=None),
            )).rowcount
            if done:
                # This transaction holds the row since its UPDATE: what it reads is what it wrote.
                failed, locked_until = session.execute(
                    select(_USERS.c.failed_logins, _USERS.c.locked_until).where(_USERS.c.id == user_id)).one()
                if locked_until is not None:
                    audit.record(session, "locked", "core_users", user_id, f"连续 {limit} 次密码错误，锁定 {minutes} 分钟")
                    session.commit()
                    raise AccountLocked(f"连续 {limit} 次密码错误，账号“{username}”已锁定 {minutes} 分钟。")
                audit.record(session, "login_failed", "core_users", user_id, "密码错误")
                session.commit()
                raise AuthError(f"用户名或密码不正确（再错 {limit - failed} 次将锁定账号）。")
        # The guarded UPDATE matched nothing: meanwhile the account was locked (a parallel wrong
        # password reached the limit), deactivated or deleted.
        session.rollback()
        row = session.execute(select(User.is_active, User.locked_until).where(User.id == user_id)).first()
        if row is not None and row.is_active and _locked(row.locked_until, now):
            raise AccountLocked(_still_locked(username, row.locked_until))
        session.rollback()
        session.info.update(actor_id=None, actor_name=username)
        audit.record(session, "login_failed", "core_users", user_id, f"用户名“{username}”不存在或已停用")
        session.commit()
        raise AuthError("用户名或密码不正确。")


def _locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def _still_locked(username: str, locked_until: datetime) -> str:
    return (f"账号“{username}”因连续输错密码已被锁定，将于 {format_local(locked_until)} 自动解锁；"
            "也可请管理员在“设置 → 用户与角色”中解锁。")


def _bookkeeping(user_id: int, now: datetime):
    """The UPDATE of a login's bookkeeping on an active, unlocked user. Core, not the ORM row: it
    neither bumps ``version_id`` nor counts as an edit (``updated_at`` stays)."""
    col = _USERS.c
    return (update(_USERS)
            .where(col.id == user_id, col.is_active.is_(True), or_(col.locked_until.is_(None), col.locked_until <= now))
            .values(updated_at=col.updated_at))


# --- the server side of user administration (a secured PostgreSQL database) --------------------
def server_key(session: Session) -> str | None:
    """The street key of a secured server database (shell/db/security), None on SQLite or an
    unsecured server. There the administration functions create and change the login roles."""
    if "jiedao_server_key" not in session.info:
        conn = session.connection()
        key = None
        if conn.dialect.name == "postgresql":
            from shell.db.security import security_info

            info = security_info(conn)
            key = info[0] if info else None
        session.info["jiedao_server_key"] = key
    return session.info["jiedao_server_key"]


def _server(session: Session, sql: str, **params) -> object:
    from sqlalchemy import text

    return session.execute(text(f"SELECT jiedao_sec.{sql}"), params).scalar()


def _server_login(session: Session, user: User, password: str) -> None:
    from shell.db.security import scram

    _server(session, "create_login(:u, :v)", u=user.id, v=scram.verifier(password))
    session.expire(user, ["server_role"])


# --- user and role management (services) -------------------------------------------------------
def _require_grantable(ctx: ServiceContext, roles: list[Role]) -> None:
    """Nobody hands out permissions they do not hold themselves."""
    if ctx.actor.is_superuser:
        return
    for role in roles:
        extra = role.codes - set(ctx.actor.permissions)
        if extra:
            raise PermissionDenied(sorted(extra)[0], f"授予角色“{role.title}”（含有您没有的权限）")


def _scope_area(ctx: ServiceContext, area_id: int | None) -> Area | None:
    if area_id is None:
        if not ctx.actor.is_superuser:
            raise ValidationError("请为用户选择管辖范围（所属辖区）。", "area_id")
        return None
    area = ctx.session.get(Area, area_id)
    if area is None:
        raise NotFound(f"辖区 {area_id} 不存在。")
    ctx.actor.require_scope(area)
    return area


def create_user(ctx: ServiceContext, username: str, display_name: str, password: str,
                area_id: int | None, role_names: Iterable[str] = (), phone: str | None = None,
                is_superuser: bool = False) -> User:
    ctx.actor.require("core.user.manage")
    username = check_username(username)
    if ctx.session.scalar(select(User).where(User.username == username)) is not None:
        raise ValidationError(f"用户名“{username}”已被使用。", "username", username)
    if not (display_name or "").strip():
        raise ValidationError("请填写姓名。", "display_name")
    if is_superuser and not ctx.actor.is_superuser:
        raise PermissionDenied("core.user.manage", "创建超级管理员")
    check_password_policy(password, settings.core(ctx.session, "core.password.min_length"))
    _scope_area(ctx, area_id)
    roles = list(ctx.session.scalars(select(Role).where(Role.name.in_(list(role_names)))))
    missing = set(role_names) - {r.name for r in roles}
    if missing:
        raise ValidationError("角色不存在：" + "、".join(sorted(missing)), "roles")
    _require_grantable(ctx, roles)
    key = server_key(ctx.session)
    if key is not None:
        from shell.db.security import naming

        naming.login_role(key, username)   # over 63 bytes: refused before anything is written
    # On a secured server the server checks the password (SCRAM, its own login role): no local hash.
    user = User(username=username, display_name=display_name.strip(),
                password_hash="" if key is not None else hash_password(password),
                area_id=area_id, phone=phone, is_superuser=is_superuser, created_by=ctx.actor.user_id,
                must_change_password=True)
    user.roles = roles
    ctx.session.add(user)
    ctx.session.flush()
    if key is not None:
        _server_login(ctx.session, user, password)
    return user


def _managed_user(ctx: ServiceContext, user_id: int) -> User:
    ctx.actor.require("core.user.manage")
    user = ctx.session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在。")
    if not ctx.actor.is_superuser:
        if user.is_superuser or user.area_id is None:
            raise PermissionDenied("core.user.manage", "管理超级管理员")
        ctx.actor.require_scope(ctx.session.get(Area, user.area_id))
    return user


def update_user(ctx: ServiceContext, user_id: int, *, display_name: str | None = None,
                phone: str | None = None, area_id: int | None = None, is_active: bool | None = None,
                role_names: Iterable[str] | None = None, expected_version: int | None = None) -> User:

    user = _managed_user(ctx, user_id)
    check_version(ctx.session, user, expected_version, "用户")
    if display_name is not None:
        if not display_name.strip():
            raise ValidationError("姓名不能为空。", "display_name")
        user.display_name = display_name.strip()
    if phone is not None:
        user.phone = phone.strip() or None
    if area_id is not None and area_id != user.area_id:
        _scope_area(ctx, area_id)
        user.area_id = area_id
    if is_active is not None:
        if not is_active and user.id == ctx.actor.user_id:
            raise ValidationError("不能停用自己的账号。", "is_active")
        user.is_active = is_active
    if role_names is not None:
        names = list(role_names)
        roles = list(ctx.session.scalars(select(Role).where(Role.name.in_(names))))
        missing = set(names) - {r.name for r in roles}
        if missing:
            raise ValidationError("角色不存在：" + "、".join(sorted(missing)), "roles")
        _require_grantable(ctx, roles)
        before = sorted(r.name for r in user.roles)
        if before != sorted(r.name for r in roles):
            # core_user_roles is a plain link table: the flush listener sees no row of its own.
            audit.record(ctx.session, "roles", "core_users", user.id, f"调整了 {user.username} 的角色",
                         before={"roles": before}, after={"roles": sorted(r.name for r in roles)})
        user.roles = roles
    flush_or_conflict(ctx.session, user, "用户")
    if server_key(ctx.session) is not None and user.server_role is not None:
        _server(ctx.session, "sync_user(:u)", u=user.id)   # memberships and LOGIN follow roles and is_active
    return user


def _clear_lockout(user: User) -> None:
    """Written even when the loaded values look cleared already: a login may have counted or locked
    since they were read (its bookkeeping does not bump the version), and the ORM leaves out of its
    UPDATE a column set to the value it loaded."""
    user.failed_logins, user.locked_until = 0, None
    flag_modified(user, "failed_logins")
    flag_modified(user, "locked_until")


def reset_password(ctx: ServiceContext, user_id: int, new_password: str) -> None:
    user = _managed_user(ctx, user_id)
    check_password_policy(new_password, settings.core(ctx.session, "core.password.min_length"))
    user.must_change_password = True
    if server_key(ctx.session) is not None:
        # The server's login role gets the new password (SCRAM, computed here); it keeps no lockout.
        audit.record(ctx.session, "password_reset", "core_users", user.id, f"重置了 {user.username} 的密码")
        flush_or_conflict(ctx.session, user, "用户")
        if user.server_role is None:
            _server_login(ctx.session, user, new_password)
        else:
            from shell.db.security import scram

            _server(ctx.session, "set_password(:u, :v)", u=user.id, v=scram.verifier(new_password))
        return
    user.password_hash = hash_password(new_password)
    _clear_lockout(user)
    audit.record(ctx.session, "password_reset", "core_users", user.id, f"重置了 {user.username} 的密码")
    flush_or_conflict(ctx.session, user, "用户")


def needs_password_change(session: Session, user_id: int | None) -> bool:
    """True for a user an administrator created or whose password was reset: they choose their own
    at the first login (the login dialog asks before the window opens)."""
    if user_id is None:
        return False
    return bool(session.scalar(select(User.must_change_password).where(User.id == user_id)))


def change_own_password(ctx: ServiceContext, old_password: str, new_password: str) -> None:
    user = ctx.session.get(User, ctx.actor.user_id)
    if user is not None and server_key(ctx.session) is not None:
        _change_server_password(ctx, user, old_password, new_password)
        return
    if user is None or not verify_password(user.password_hash, old_password):
        raise AuthError("原密码不正确。")
    check_password_policy(new_password, settings.core(ctx.session, "core.password.min_length"))
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    audit.record(ctx.session, "password_change", "core_users", user.id, "修改了自己的密码")
    flush_or_conflict(ctx.session, user, "用户")


def _change_server_password(ctx: ServiceContext, user: User, old_password: str, new_password: str) -> None:
    """On a secured server: the server checks the old password (a short connection with it), the
    user's own role gets the new one (``ALTER ROLE CURRENT_USER``, which any role may do)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    from shell.db.engine import make_engine
    from shell.db.security import roles, scram

    url = ctx.session.get_bind().engine.url
    if user.server_role is None or url.username != user.server_role:
        raise AuthError("请用自己的账号登录后再修改密码。")
    check = make_engine(url.set(password=old_password), poolclass=NullPool)
    try:
        with check.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (DBAPIError, Exception):  # noqa: BLE001  (explained: wrong password or server gone)
        raise AuthError("原密码不正确。") from None
    finally:
        check.dispose()
    check_password_policy(new_password, settings.core(ctx.session, "core.password.min_length"))
    roles.run_script(ctx.session.connection(), f"ALTER ROLE CURRENT_USER PASSWORD '{scram.verifier(new_password)}'")
    _server(ctx.session, "password_changed()")
    ctx.session.expire(user, ["must_change_password"])
    audit.record(ctx.session, "password_change", "core_users", user.id, "修改了自己的密码")


def unlock(ctx: ServiceContext, user_id: int) -> None:
    user = _managed_user(ctx, user_id)
    if server_key(ctx.session) is not None:
        # No program lockout on a secured server (the server authenticates; see auth_delay in
        # docs/lan-server.md): unlocking lets an active user's login role log in again.
        if user.server_role is not None and user.is_active:
            _server(ctx.session, "set_login(:u, true)", u=user.id)
        audit.record(ctx.session, "unlock", "core_users", user.id, f"解锁了 {user.username}")
        return
    _clear_lockout(user)
    audit.record(ctx.session, "unlock", "core_users", user.id, f"解锁了 {user.username}")
    flush_or_conflict(ctx.session, user, "用户")


def list_users(ctx: ServiceContext) -> list[User]:
    ctx.actor.require("core.user.manage")
    if server_key(ctx.session) is None:   # the lockout is shown in the list: loaded with the rows
        users = list(ctx.session.scalars(select(User).options(undefer(User.failed_logins), undefer(User.locked_until))
                                         .order_by(User.username)))
    else:
        # A secured server keeps no program lockout and grants nobody these columns: known empty.
        users = list(ctx.session.scalars(select(User).order_by(User.username)))
        for u in users:
            set_committed_value(u, "locked_until", None)
            set_committed_value(u, "failed_logins", 0)
    if ctx.actor.is_superuser:
        return users
    paths = {a.id: a.path for a in ctx.session.scalars(select(Area))}
    return [u for u in users if u.area_id is not None and ctx.actor.in_scope(paths.get(u.area_id))]


def list_roles(session: Session) -> list[Role]:
    return list(session.scalars(select(Role).order_by(Role.id)))


def save_role(ctx: ServiceContext, name: str, title: str, codes: Iterable[str], known_codes: Iterable[str],
              description: str = "") -> Role:
    """Create a role or replace an existing role's permission set."""
    ctx.actor.require("core.user.manage")
    codes = list(dict.fromkeys(codes))
    unknown = set(codes) - set(known_codes)
    if unknown:
        raise ValidationError("未知的权限代码：" + "、".join(sorted(unknown)), "permissions")
    if not ctx.actor.is_superuser:
        extra = set(codes) - set(ctx.actor.permissions)
        if extra:
            raise PermissionDenied(sorted(extra)[0], "授予自己没有的权限")
    name = check_username(name)
    if not title.strip():
        raise ValidationError("请填写角色名称。", "title")
    role = ctx.session.scalar(select(Role).where(Role.name == name))
    if role is None:
        role = Role(name=name, title=title.strip(), description=description, created_by=ctx.actor.user_id)
        ctx.session.add(role)
    else:
        role.title, role.description = title.strip(), description
    have = {p.code: p for p in role.permissions}
    role.permissions = [have.get(c) or RolePermission(code=c) for c in codes]
    ctx.session.flush()
    if server_key(ctx.session) is not None:
        _server(ctx.session, "sync_role(:r)", r=role.id)   # the group role's grants follow its codes
    return role


def delete_role(ctx: ServiceContext, role_id: int) -> None:
    ctx.actor.require("core.user.manage")
    role = ctx.session.get(Role, role_id)
    if role is None:
        raise NotFound(f"角色 {role_id} 不存在。")
    if role.builtin:
        raise ValidationError(f"“{role.title}”是预置角色，不能删除（可以修改其权限）。", "role")
    if role.users:
        raise ValidationError(f"角色“{role.title}”还有 {len(role.users)} 个用户在用，请先调整这些用户的角色。", "role")
    ctx.session.delete(role)
    ctx.session.flush()


def role_titles(session: Session, user_id: int | None) -> list[str]:
    if user_id is None:
        return []
    user = session.get(User, user_id)
    return [r.title for r in user.roles] if user is not None else []


def previous_login(session: Session, user_id: int | None) -> datetime | None:
    """When the user logged in before the current session (the newest login is the current one)."""
    from shell.core.models import AuditLog

    if user_id is None:
        return None
    rows = session.scalars(
        select(AuditLog.at).where(AuditLog.entity == "core_users", AuditLog.entity_id == str(user_id),
                                  AuditLog.action == "login")
        .order_by(AuditLog.id.desc()).limit(2)
    ).all()
    return rows[1] if len(rows) == 2 else None
