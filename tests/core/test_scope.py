"""shell.core.scope: a record or an area the actor may work on (missing → NotFound, outside the
scope → OutOfScope, a closed area refused for new records)."""
from __future__ import annotations

import pytest

from shell.core import areas
from shell.core.context import ServiceContext
from shell.core.models import Area, User
from shell.core.scope import area_in_scope, get_in_scope
from shell.errors import NotFound, OutOfScope, ValidationError
from tests.core.helpers import admin, build_tree, user


@pytest.fixture
def street(sqlite_db):
    actor = admin(sqlite_db)
    ids = build_tree(sqlite_db, actor)
    worker = user(sqlite_db, actor, "w1", ids["和平社区/第一网格"])
    return sqlite_db, actor, worker, ids


def test_get_in_scope(street):
    db, actor, worker, ids = street
    with db.session_factory() as s:
        ctx = ServiceContext(s, worker)
        mine = get_in_scope(ctx, Area, ids["和平社区/第一网格"], "网格")
        assert mine.name == "第一网格"
        with pytest.raises(NotFound) as err:
            get_in_scope(ctx, Area, 999_999, "网格")
        assert err.value.message == "网格 999999 不存在，可能已被他人删除。请刷新。"
        with pytest.raises(NotFound):
            get_in_scope(ctx, Area, None, "网格")
        assert get_in_scope(ctx, User, worker.user_id, "用户").username == "w1"   # no area_id: no scope check


def test_get_in_scope_checks_area_id(street):
    """A record whose area_id lies outside the actor's scope is refused (User has area_id)."""
    db, actor, worker, ids = street
    other = user(db, actor, "w2", ids["东湖社区/第一网格"])
    with db.session_factory() as s:
        ctx = ServiceContext(s, worker)
        with pytest.raises(OutOfScope):
            get_in_scope(ctx, User, other.user_id, "用户")
        assert get_in_scope(ServiceContext(s, actor), User, other.user_id, "用户").username == "w2"


def test_area_in_scope(street):
    db, actor, worker, ids = street
    with db.session_factory() as s:
        ctx = ServiceContext(s, worker)
        assert area_in_scope(ctx, ids["和平社区/第一网格"]).name == "第一网格"
        with pytest.raises(OutOfScope):
            area_in_scope(ctx, ids["东湖社区/第一网格"])
        with pytest.raises(ValidationError) as err:
            area_in_scope(ctx, 424242, "grid_id")
        assert err.value.message == "所属网格“424242”不存在。" and err.value.field == "grid_id"
        with pytest.raises(ValidationError, match="^请选择所属社区。$"):
            area_in_scope(ctx, None, label="所属社区")
        areas.close_area(ServiceContext(s, actor), ids["和平社区/第一网格"], reason="合并")
        s.flush()
        with pytest.raises(ValidationError) as err:
            area_in_scope(ctx, ids["和平社区/第一网格"])
        assert err.value.message == "“第一网格”已撤销，不能再登记。"
        assert area_in_scope(ctx, ids["和平社区/第一网格"], open_only=False).name == "第一网格"
