"""The 首页 names the actor's scope as people say it and counts only the levels below it (issue #17 §1:
a grid worker's 首页 said "0 个社区 / 1 个网格")."""
from __future__ import annotations

import pytest

from shell.core import areas
from shell.core.context import ServiceContext
from tests.core.helpers import admin, build_tree, user


@pytest.fixture
def street(sqlite_db):
    actor = admin(sqlite_db)
    ids = build_tree(sqlite_db, actor)
    with sqlite_db.session_factory() as s:
        areas.create_area(ServiceContext(s, actor), "一号楼微网格", "microgrid", ids["和平社区/第一网格"])
        s.commit()
    return sqlite_db, actor, ids


@pytest.mark.parametrize(("scope", "label", "counts"), [
    ("和平社区/第一网格", "和平社区 第一网格", ((1, "个微网格"),)),
    ("东湖社区/第二网格", "东湖社区 第二网格", ()),
    ("和平社区", "和平社区", ((2, "个网格"), (1, "个微网格"))),
    ("青石街道", "青石街道", ((2, "个社区"), (4, "个网格"), (1, "个微网格"))),
])
def test_scope_is_named_and_only_the_levels_below_it_counted(street, scope, label, counts):
    db, actor, ids = street
    worker = user(db, actor, "u" + str(ids[scope]), ids[scope], roles=["grid_worker"])
    with db.session_factory() as s:
        summary = areas.scope_summary(ServiceContext(s, worker))
    assert summary.label == label
    assert summary.counts == counts


def test_superuser_sees_all(street):
    db, actor, _ids = street
    with db.session_factory() as s:
        summary = areas.scope_summary(ServiceContext(s, actor))
    assert summary.label == "全部辖区"
    assert summary.counts == ((2, "个社区"), (4, "个网格"), (1, "个微网格"))


def test_closed_areas_are_not_counted(street):
    db, actor, ids = street
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        areas.close_area(ctx, ids["东湖社区/第二网格"], reason="合并到第一网格")
        s.commit()
    worker = user(db, actor, "east", ids["东湖社区"], roles=["community_staff"])
    with db.session_factory() as s:
        assert areas.scope_summary(ServiceContext(s, worker)).counts == ((1, "个网格"),)
