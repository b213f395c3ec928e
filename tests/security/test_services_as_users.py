"""What the program allows the server allows; what it refuses stays refused (issue 15).

Every public service (the catalogue of tests/test_rollback.py, with its real arguments) is called
as the demo grid worker and the demo community worker twice, each time in a fresh session rolled
back afterwards:

- through the owner's connection (no row-level security, every privilege): what the program alone
  decides;
- through the user's own login role on the secured database (``pg_secure_db.session_for``).

Where the program allows the call, the server must allow it too — no ``ServerPermissionDenied`` /
``ServerOutOfScope`` nor any other error, and the same result size for reads; where the program
refuses (``PermissionDenied``, ``OutOfScope``, any ``JiedaoError``), the secured call must refuse as well.
"""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from shell.core.context import ServiceContext
from shell.db.session import make_session_factory
from shell.errors import JiedaoError, ServerOutOfScope, ServerPermissionDenied
from tests.test_permissions import FUNCTIONS
from tests.test_rollback import NOT_CALLED, REAL_ARGS, Refs, _call_args, _record_ids

USERS = ("grid_worker", "community_staff")


@pytest.fixture(scope="module")
def pg_secure_db(pg_server):
    """One secured demo street for the whole module (conftest's is per test; securing takes a while and
    nothing here is left behind: every attempt is refused or rolled back)."""
    from tests.security.conftest import destroy_secure_db, make_secure_db

    sdb, name = make_secure_db(pg_server)
    try:
        yield sdb
    finally:
        destroy_secure_db(pg_server, sdb, name)


def _outcome(fn, session, actor, kwargs):
    try:
        result = fn(ServiceContext(session, actor), **kwargs)
        if session.new or session.dirty or session.deleted:
            session.flush()
        return ("ok", _size(result))
    except JiedaoError as exc:
        return ("refused", exc)
    except Exception as exc:  # noqa: BLE001 - compared below
        return ("error", exc)
    finally:
        session.rollback()


def _size(result):
    try:
        return len(result)
    except TypeError:
        return None


@pytest.fixture(scope="module")
def catalogue(pg_secure_db):
    """The services and their arguments, built from the owner's view of the demo street."""
    engine = create_engine(pg_secure_db.url)
    with make_session_factory(engine)() as s:
        present = set(s.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        refs = Refs(s)
        ids = _record_ids(s, present)
        areas = {"street": refs.street, "community": refs.community, "grid": refs.grid}
        calls = []
        for qualname, fn in FUNCTIONS:
            if qualname in NOT_CALLED:
                continue
            plugin = qualname.split(".")[1] if qualname.startswith("plugins.") else "core"
            given = REAL_ARGS[qualname](refs) if qualname in REAL_ARGS else {}
            calls.append((qualname, fn, _call_args(fn, plugin, ids, areas, given)))
        s.rollback()
    yield engine, calls
    engine.dispose()


@pytest.mark.parametrize("username", USERS)
def test_the_server_allows_what_the_program_allows(pg_secure_db, catalogue, username):
    owner_engine, calls = catalogue
    owner_sessions = make_session_factory(owner_engine)
    actor = pg_secure_db.actor_for(username)
    mine = pg_secure_db.session_for(username)
    try:
        allowed, refused, mismatches = 0, 0, []
        for qualname, fn, kwargs in calls:
            with owner_sessions() as s:
                program = _outcome(fn, s, actor, kwargs)
            server = _outcome(fn, mine, actor, kwargs)
            if program[0] == "ok":
                allowed += 1
                if server[0] != "ok":
                    exc = server[1]
                    kind = "server refused" if isinstance(exc, (ServerPermissionDenied, ServerOutOfScope)) else "failed"
                    mismatches.append(f"{qualname}: the program allows it, the server {kind}: "
                                      f"{type(exc).__name__}: {exc}")
                elif program[1] != server[1]:
                    mismatches.append(f"{qualname}: the program returns {program[1]} rows, the server {server[1]}")
            elif program[0] == "refused":
                refused += 1
                if server[0] == "ok":
                    mismatches.append(f"{qualname}: the program refuses it ({program[1]}), the secured call succeeded")
    finally:
        mine.rollback()
        mine.close()
    assert allowed >= 40 and refused >= 20, (allowed, refused)
    assert not mismatches, f"{username}:\n" + "\n".join(mismatches)
