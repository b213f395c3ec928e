"""Several logins of one account at once (issue 14.2): offices share accounts and run scripts, so
logins — right or wrong passwords — run in parallel processes and must never conflict with each
other or with an administrator editing the user; the lockout stays exact."""
from __future__ import annotations

import multiprocessing
import threading
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from shell.clock import utcnow
from shell.core import auth
from shell.core.context import ServiceContext
from shell.core.models import AuditLog, User
from shell.errors import AccountLocked, AuthError
from tests.core.helpers import admin

PROCESSES = 8
ROUNDS = 3
# fork: the children inherit the imported modules, so a round costs milliseconds, not imports.
_mp = multiprocessing.get_context("fork")


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    """Real argon2 at a lower cost, so 24 verifications on a small machine take a second, not ten
    (the forked children inherit it; verifying reads the cost from the stored hash)."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))


def _login_in_child(url: str, username: str, password: str, barrier, results) -> None:
    from shell.db.engine import make_engine
    from shell.db.session import make_session_factory

    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        barrier.wait(timeout=30)
        try:
            actor = auth.login(factory, username, password)
            results.put(("ok", actor.username))
        except AccountLocked as exc:
            results.put(("locked", exc.message))
        except AuthError as exc:
            results.put(("wrong", exc.message))
        except Exception as exc:  # noqa: BLE001 - what the issue saw: StaleDataError, database is locked
            results.put(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()


def _parallel_logins(db, username: str, password: str, n: int = PROCESSES) -> list[tuple[str, str]]:
    """``n`` processes that log in at the same moment; their outcomes."""
    url = db.url.render_as_string(hide_password=False)
    db.engine.dispose()  # no pooled connection crosses the fork
    barrier, results = _mp.Barrier(n), _mp.Queue()
    procs = [_mp.Process(target=_login_in_child, args=(url, username, password, barrier, results))
             for _ in range(n)]
    for p in procs:
        p.start()
    out = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return out


def _user(db, username: str = "admin") -> User:
    # the lockout columns are deferred (a secured server's users may not read them): loaded here
    with db.session_factory() as s:
        return s.scalar(select(User).where(User.username == username)
                        .options(undefer(User.failed_logins), undefer(User.locked_until)))


def _audit_count(db, action: str, user_id: int) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == action, AuditLog.entity == "core_users", AuditLog.entity_id == str(user_id)))


def test_parallel_logins_of_one_account_never_fail(db):
    admin(db)
    before = _user(db)
    logins_before = _audit_count(db, "login", before.id)
    outcomes = [o for _ in range(ROUNDS) for o in _parallel_logins(db, "admin", "admin1234")]
    failures = [o for o in outcomes if o[0] != "ok"]
    assert not failures, f"{len(failures)} of {len(outcomes)} parallel logins failed: {failures[:3]}"
    after = _user(db)
    assert _audit_count(db, "login", before.id) - logins_before == PROCESSES * ROUNDS
    assert after.failed_logins == 0 and after.locked_until is None
    assert after.last_login_at > before.last_login_at
    # Logins are bookkeeping, not edits: the version an administrator opened the user at stays current.
    assert after.version_id == before.version_id


def test_parallel_wrong_passwords_lock_exactly_once(db):
    admin(db)
    uid = _user(db).id
    limit = 5  # core.login.max_failures by default
    outcomes = _parallel_logins(db, "admin", "wrong-pass1")
    crashes = [o for o in outcomes if o[0] == "crash"]
    assert not crashes, crashes[:3]
    wrong = sorted(m for k, m in outcomes if k == "wrong")
    locked_now = [m for k, m in outcomes if k == "locked" and "已锁定 15 分钟" in m]
    already = [m for k, m in outcomes if k == "locked" and "自动解锁" in m]
    # Each counted attempt saw a different count: 再错 4 … 1 次, then exactly one locked the account.
    assert wrong == sorted(f"用户名或密码不正确（再错 {left} 次将锁定账号）。" for left in range(1, limit))
    assert len(locked_now) == 1, outcomes
    assert len(already) == PROCESSES - limit
    assert _audit_count(db, "login_failed", uid) == limit - 1
    assert _audit_count(db, "locked", uid) == 1
    u = _user(db)
    assert u.failed_logins == 0 and u.locked_until is not None and u.locked_until > utcnow()
    # The right password is refused while locked, from every process.
    assert {k for k, _ in _parallel_logins(db, "admin", "admin1234", n=3)} == {"locked"}
    assert _audit_count(db, "locked", uid) == 1


def test_login_resets_counters_and_never_conflicts_with_an_administrator(db):
    actor = admin(db)
    version = _user(db).version_id
    with db.session_factory() as held_session:
        held = held_session.get(User, actor.user_id)  # an administrator's copy, loaded before the logins
        for _ in range(3):
            with pytest.raises(AuthError):
                auth.login(db.session_factory, "admin", "wrong-pass1")
        assert _user(db).failed_logins == 3
        later = utcnow() + timedelta(minutes=1)
        auth.login(db.session_factory, "admin", "admin1234", now=later)
        u = _user(db)
        assert (u.failed_logins, u.locked_until, u.last_login_at) == (0, None, later)
        with pytest.raises(AuthError):
            auth.login(db.session_factory, "admin", "wrong-pass1")
        # Logins are bookkeeping, not edits: the version the administrator opened stays current,
        # and saving the copy held across the logins neither conflicts nor undoes their counting.
        assert _user(db).version_id == version
        auth.update_user(ServiceContext(held_session, actor), held.id, phone="13800000000",
                         expected_version=version)
        held_session.commit()
    u = _user(db)
    assert (u.phone, u.failed_logins, u.version_id) == ("13800000000", 1, version + 1)


def _set_user(db, uid: int, **values) -> None:
    """A write by someone else (another desktop, a test's setup): not a service, not audited."""
    with db.session_factory() as s:
        s.execute(User.__table__.update().where(User.__table__.c.id == uid).values(**values))
        s.commit()


def _on_a_thread(fn) -> None:
    # As another desktop would: not part of the caller's call stack or session.
    t = threading.Thread(target=fn)
    t.start()
    t.join()


MEANWHILE = [
    # Another process locked the account while this one checked the password: refused, not audited.
    ({"locked_until": utcnow() + timedelta(minutes=15)}, "admin1234", "自动解锁", ()),
    ({"locked_until": utcnow() + timedelta(minutes=15)}, "wrong-pass1", "自动解锁", ()),
    # An administrator deactivated the user meanwhile: refused, and the attempt is audited.
    ({"is_active": False}, "admin1234", "用户名或密码不正确。", ("login_failed",)),
]


def test_what_changes_during_the_password_check_is_respected(db, monkeypatch):
    admin(db)
    uid = _user(db).id
    real_verify = auth.verify_password
    for meanwhile, password, error, audited in MEANWHILE:
        _set_user(db, uid, is_active=True, locked_until=None, failed_logins=0)
        monkeypatch.setattr(auth, "verify_password",
                            lambda hashed, pw: _on_a_thread(lambda: _set_user(db, uid, **meanwhile))
                            or real_verify(hashed, pw))
        with db.session_factory() as s:
            last = s.scalar(select(func.max(AuditLog.id)))
        with pytest.raises(AuthError, match=error):
            auth.login(db.session_factory, "admin", password)
        with db.session_factory() as s:
            actions = tuple(s.scalars(select(AuditLog.action).where(AuditLog.id > last).order_by(AuditLog.id)))
        assert actions == audited, (meanwhile, password)
        assert _user(db).failed_logins == 0, (meanwhile, password)


def test_unlock_clears_a_lock_a_parallel_login_set_after_it_read_the_user(db, monkeypatch):
    actor = admin(db)
    uid = _user(db).id
    real_managed_user = auth._managed_user
    locked_meanwhile = []

    def wrong_login():
        with pytest.raises(AccountLocked, match="已锁定"):
            auth.login(db.session_factory, "admin", "wrong-pass1")
        locked_meanwhile.append(True)

    def managed_user_then_a_wrong_login(ctx, user_id):
        user = real_managed_user(ctx, user_id)  # loaded: 4 failures, not locked
        _on_a_thread(wrong_login)  # … and the 5th failure locks the account before the save
        return user

    monkeypatch.setattr(auth, "_managed_user", managed_user_then_a_wrong_login)
    for service, args in (("unlock", ()), ("reset_password", ("newpass123",))):
        _set_user(db, uid, failed_logins=4, locked_until=None)  # one wrong password short of the lockout
        locked_meanwhile.clear()
        with db.session_factory() as s:
            getattr(auth, service)(ServiceContext(s, actor), uid, *args)
            s.commit()
        assert locked_meanwhile, service
        u = _user(db)
        assert (u.failed_logins, u.locked_until) == (0, None), service
