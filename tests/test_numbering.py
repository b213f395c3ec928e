"""Numbered documents never repeat a number, even with many desktops issuing at the same moment:
志愿服务证明 from eight connections at once, on SQLite and on PostgreSQL."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.errors import ConflictError, DatabaseError
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
from shell.testing import ALL_BUILTINS

WORKERS, EACH = 8, 5


def _pm():
    return make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def street(request, tmp_path, sqlite_templates):
    """The demo street with every built-in plugin: a copy of the run's template."""
    if request.param == "sqlite":
        db = sqlite_templates.open(tmp_path / "street.sqlite", ALL_BUILTINS, demo=True, pm=_pm())
        yield db
        db.dispose()
        return
    with request.getfixturevalue("pg_templates").clone(ALL_BUILTINS, demo=True) as url:
        db = open_database(url, pm=_pm(), backup=False)
        yield db
        db.dispose()


def test_certificate_numbers_stay_unique_under_concurrent_issuing(street):
    from plugins.volunteer import services as vs
    from plugins.volunteer.models import Certificate, VolunteerAccount

    with street.session_factory() as s:
        volunteer_id = s.scalar(select(VolunteerAccount.volunteer_id).where(VolunteerAccount.approved_minutes > 0)
                                .order_by(VolunteerAccount.volunteer_id).limit(1))
        before = set(s.scalars(select(Certificate.number)))
    assert volunteer_id is not None
    issued: list[str] = []
    failures: list[str] = []
    start = threading.Barrier(WORKERS)

    def worker():
        start.wait()
        for _ in range(EACH):
            for attempt in range(50):
                try:
                    with street.session_factory() as s:
                        cert, _services = vs.issue_certificate(ServiceContext(s, Actor.system()), volunteer_id)
                        s.commit()
                        issued.append(cert.number)
                    break
                except (ConflictError, DatabaseError) as exc:  # a busy database: try again, as a user would
                    time.sleep(0.01 * (attempt + 1))
                    last = exc
            else:
                failures.append(str(last))

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert len(issued) == WORKERS * EACH
    assert len(set(issued)) == len(issued), "a certificate number was handed out twice"
    with street.session_factory() as s:
        stored = list(s.scalars(select(Certificate.number)))
    assert len(stored) == len(set(stored)) == len(before) + WORKERS * EACH
    assert set(issued) == set(stored) - before
