from datetime import timedelta

import pytest
from sqlalchemy import select

from shell.clock import utcnow
from shell.core import auth
from shell.core.context import ServiceContext
from shell.core.models import AuditLog, Role, User
from shell.errors import AccountLocked, AuthError, OutOfScope, PermissionDenied, ValidationError
from tests.core.helpers import admin, build_tree, user


def test_first_admin_only_once_and_no_default_password(sqlite_db):
    with sqlite_db.session_factory() as s:
        assert not auth.has_users(s)
        with pytest.raises(ValidationError, match="至少 8 位"):
            auth.create_first_admin(s, "admin", "管理员", "short1")
        with pytest.raises(ValidationError, match="字母和数字"):
            auth.create_first_admin(s, "admin", "管理员", "onlyletters")
    actor = admin(sqlite_db)
    assert actor.is_superuser and actor.can("core.user.manage")
    with sqlite_db.session_factory() as s:
        with pytest.raises(PermissionDenied):
            auth.create_first_admin(s, "second", "第二个", "second123")
        stored = s.scalar(select(User).where(User.username == "admin")).password_hash
        assert stored.startswith("$argon2") and "admin1234" not in stored


def test_wrong_password_counts_and_locks(db):
    admin(db)
    with pytest.raises(AuthError, match="再错 4 次"):
        auth.login(db.session_factory, "admin", "wrong-pass1")
    with pytest.raises(AuthError, match="用户名或密码不正确"):
        auth.login(db.session_factory, "nobody", "whatever1")
    for _ in range(3):
        with pytest.raises(AuthError):
            auth.login(db.session_factory, "admin", "wrong-pass1")
    with pytest.raises(AccountLocked, match="已锁定 15 分钟"):
        auth.login(db.session_factory, "admin", "wrong-pass1")
    # even the right password is refused while locked
    with pytest.raises(AccountLocked, match="自动解锁"):
        auth.login(db.session_factory, "admin", "admin1234")
    # after the lock expires the right password works and resets the counter
    later = utcnow() + timedelta(minutes=16)
    actor = auth.login(db.session_factory, "admin", "admin1234", now=later)
    assert actor.username == "admin"
    with db.session_factory() as s:
        u = s.scalar(select(User).where(User.username == "admin"))
        assert u.failed_logins == 0 and u.locked_until is None
        actions = [r.action for r in s.scalars(select(AuditLog).where(AuditLog.entity == "core_users")
                                                 .order_by(AuditLog.id))]
    assert actions.count("login_failed") == 5 and "locked" in actions and actions[-1] == "login"


def test_admin_unlocks(sqlite_db):
    actor = admin(sqlite_db)
    ids = build_tree(sqlite_db, actor)
    clerk = user(sqlite_db, actor, "clerk", ids["和平社区"])
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.login(sqlite_db.session_factory, "clerk", "nope12345")
    with pytest.raises(AccountLocked):
        auth.login(sqlite_db.session_factory, "clerk", "pass1234")
    with sqlite_db.session_factory() as s:
        auth.unlock(ServiceContext(s, actor), clerk.user_id)
        s.commit()
    assert auth.login(sqlite_db.session_factory, "clerk", "pass1234").user_id == clerk.user_id


def test_permission_denied_through_services(sqlite_db):
    actor = admin(sqlite_db)
    ids = build_tree(sqlite_db, actor)
    worker = user(sqlite_db, actor, "worker", ids["和平社区/第一网格"], roles=["grid_worker"])
    assert worker.can("core.area.view") and not worker.can("core.user.manage")
    with sqlite_db.session_factory() as s:
        with pytest.raises(PermissionDenied) as err:
            auth.create_user(ServiceContext(s, worker), "x1", "某某", "pass1234", ids["和平社区/第一网格"])
        assert "管理用户与角色" in err.value.message or "core.user.manage" in err.value.message


def test_manager_limited_to_scope_and_own_permissions(sqlite_db):
    actor = admin(sqlite_db)
    ids = build_tree(sqlite_db, actor)
    with sqlite_db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        # export too: the 网格员 role it hands out holds it (lists' export and print, issue 17 §2)
        auth.save_role(ctx, "community_admin", "社区管理员", ["core.area.view", "core.data.export", "core.user.manage"],
                       auth.collect_permissions())
        s.commit()
    boss = user(sqlite_db, actor, "hp_boss", ids["和平社区"], roles=["community_admin"])
    with sqlite_db.session_factory() as s:
        ctx = ServiceContext(s, boss)
        u = auth.create_user(ctx, "hp_worker", "和平网格员", "pass1234", ids["和平社区/第一网格"], ["grid_worker"])
        assert u.area_id == ids["和平社区/第一网格"]
        with pytest.raises(OutOfScope):
            auth.create_user(ctx, "dh_worker", "东湖网格员", "pass1234", ids["东湖社区/第一网格"], ["grid_worker"])
        with pytest.raises(PermissionDenied):  # admin role holds codes the boss does not
            auth.create_user(ctx, "hp_admin", "想当管理员", "pass1234", ids["和平社区"], ["admin"])
        with pytest.raises(ValidationError, match="管辖范围"):
            auth.create_user(ctx, "nowhere", "无辖区", "pass1234", None, [])
        s.commit()
        names = {x.username for x in auth.list_users(ctx)}
        assert names == {"hp_boss", "hp_worker"}


def test_roles_sync_keeps_admin_removals(sqlite_db):
    from shell.contracts import RoleTemplate

    with sqlite_db.session_factory() as s:
        worker = s.scalar(select(Role).where(Role.name == "grid_worker"))
        assert worker.builtin and worker.codes == {"core.area.view", "core.data.export"}
        worker.permissions.clear()  # an administrator removed the code
        s.commit()
        auth.sync_roles(s, auth.CORE_ROLES + (RoleTemplate("grid_worker", "网格员", ("core.area.view", "x.new")),),
                        list(auth.collect_permissions()) + ["x.new"])
        s.commit()
        worker = s.scalar(select(Role).where(Role.name == "grid_worker"))
        assert worker.codes == {"x.new"}  # the new code arrives, the removed one stays removed


def test_deactivated_user_cannot_login(sqlite_db):
    actor = admin(sqlite_db)
    ids = build_tree(sqlite_db, actor)
    clerk = user(sqlite_db, actor, "gone", ids["和平社区"])
    with sqlite_db.session_factory() as s:
        auth.update_user(ServiceContext(s, actor), clerk.user_id, is_active=False)
        s.commit()
    with pytest.raises(AuthError):
        auth.login(sqlite_db.session_factory, "gone", "pass1234")


def test_previous_login_and_role_titles(sqlite_db):
    actor = admin(sqlite_db)
    with sqlite_db.session_factory() as s:
        assert auth.previous_login(s, actor.user_id) is None  # only the current login so far
        assert auth.role_titles(s, actor.user_id) == ["系统管理员"]
    again = auth.login(sqlite_db.session_factory, "admin", "admin1234")
    with sqlite_db.session_factory() as s:
        first = s.scalars(select(AuditLog.at).where(AuditLog.action == "login").order_by(AuditLog.id)).first()
        assert auth.previous_login(s, again.user_id) == first


@pytest.mark.parametrize("edit", [
    lambda ctx, uid: auth.update_user(ctx, uid, display_name="乙改的"),
    lambda ctx, uid: auth.reset_password(ctx, uid, "newpass5678"),
    lambda ctx, uid: auth.unlock(ctx, uid),
], ids=["update_user", "reset_password", "unlock"])
def test_two_administrators_editing_one_user_get_a_conflict(db, edit):
    """The second save of a user another administrator saved meanwhile names who saved first
    instead of crashing with the ORM's StaleDataError."""
    from shell.errors import ConflictError

    actor = admin(db)
    ids = build_tree(db, actor)
    clerk = user(db, actor, "clerk", ids["和平社区"])
    with db.session_factory() as first, db.session_factory() as second:
        stale = ServiceContext(second, actor)
        loaded = second.get(User, clerk.user_id)  # the second administrator has the user loaded
        auth.update_user(ServiceContext(first, actor), clerk.user_id, display_name="甲改的")
        first.commit()
        with pytest.raises(ConflictError):
            edit(stale, loaded.id)
    with db.session_factory() as s:
        assert s.get(User, clerk.user_id).display_name == "甲改的"
