from datetime import date

import pytest

from shell.core import areas
from shell.core.audit import history
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.errors import ConflictError, OutOfScope, PermissionDenied, ValidationError
from tests.core.helpers import admin, build_tree, user


@pytest.fixture
def tree(db):
    actor = admin(db)
    return db, actor, build_tree(db, actor)


def test_paths_and_subtree_query(tree):
    db, actor, ids = tree
    with db.session_factory() as s:
        street = s.get(Area, ids["青石街道"])
        hp = s.get(Area, ids["和平社区"])
        g = s.get(Area, ids["和平社区/第一网格"])
        assert street.path == f"/{street.id}/"
        assert g.path == f"/{street.id}/{hp.id}/{g.id}/"
        assert sorted(areas.subtree_ids(s, hp)) == sorted([hp.id, ids["和平社区/第一网格"], ids["和平社区/第二网格"]])
        assert len(areas.subtree_ids(s, street)) == 7
        assert areas.full_name(s, g) == "青石街道 / 和平社区 / 第一网格"


def test_level_rules(tree):
    db, actor, ids = tree
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        with pytest.raises(ValidationError, match="只能建网格"):
            areas.create_area(ctx, "错层社区", "community", ids["和平社区"])
        with pytest.raises(ValidationError, match="必须挂在上级"):
            areas.create_area(ctx, "孤儿网格", "grid")
        with pytest.raises(ValidationError, match="已有名为"):
            areas.create_area(ctx, "第一网格", "grid", ids["和平社区"])
        micro = areas.create_area(ctx, "一号楼微网格", "microgrid", ids["和平社区/第一网格"])
        assert micro.level_label == "微网格"


def test_move_subtree_rewrites_paths(tree):
    db, actor, ids = tree
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        g1 = ids["和平社区/第一网格"]
        micro = areas.create_area(ctx, "一号楼", "microgrid", g1)
        s.commit()
        with pytest.raises(ValidationError, match="已有名为"):  # 东湖 has its own 第一网格
            areas.move_area(ctx, g1, ids["东湖社区"])
        areas.rename_area(ctx, g1, "和平一网格")
        s.commit()
        moved = areas.move_area(ctx, g1, ids["东湖社区"])
        s.commit()
        assert moved == 2
        dh = s.get(Area, ids["东湖社区"])
        g = s.get(Area, g1)
        m = s.get(Area, micro.id)
        assert g.parent_id == dh.id and g.path == f"{dh.path}{g1}/"
        assert m.path == f"{dh.path}{g1}/{micro.id}/"
        assert len(areas.subtree_ids(s, dh)) == 5
        assert len(areas.subtree_ids(s, s.get(Area, ids["和平社区"]))) == 2


def test_move_refuses_cycles_and_wrong_levels(tree):
    db, actor, ids = tree
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        with pytest.raises(ValidationError, match="自己或它的下级"):
            areas.move_area(ctx, ids["和平社区"], ids["和平社区/第一网格"])
        with pytest.raises(ValidationError, match="只能放在"):
            areas.move_area(ctx, ids["和平社区/第一网格"], ids["青石街道"])
        with pytest.raises(ValidationError, match="顶级街道"):
            areas.move_area(ctx, ids["青石街道"], ids["和平社区"])


def test_scope_refusals(tree):
    db, actor, ids = tree
    clerk = user(db, actor, "hp_clerk", ids["和平社区"])
    with db.session_factory() as s:
        # permission first: the clerk has no role at all
        with pytest.raises(PermissionDenied):
            areas.create_area(ServiceContext(s, clerk), "新网格", "grid", ids["和平社区"])
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        from shell.core import auth
        auth.save_role(ctx, "area_keeper", "辖区维护员", ["core.area.view", "core.area.manage"],
                       auth.collect_permissions())
        s.commit()
    keeper = user(db, actor, "hp_keeper", ids["和平社区"], roles=["area_keeper"])
    with db.session_factory() as s:
        ctx = ServiceContext(s, keeper)
        assert areas.create_area(ctx, "第三网格", "grid", ids["和平社区"]).path.startswith(
            s.get(Area, ids["和平社区"]).path)
        with pytest.raises(OutOfScope, match="东湖社区"):
            areas.create_area(ctx, "第三网格", "grid", ids["东湖社区"])
        # moving a grid of his own community into another community is out of scope too
        with pytest.raises(OutOfScope):
            areas.move_area(ctx, ids["和平社区/第二网格"], ids["东湖社区"])
        visible = {a.name for a in areas.visible_areas(ctx)}
        assert "东湖社区" not in visible and "和平社区" in visible and "青石街道" not in visible


def test_close_keeps_history(tree):
    db, actor, ids = tree
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        with pytest.raises(ValidationError, match="未撤销的下级"):
            areas.close_area(ctx, ids["和平社区"])
        areas.close_area(ctx, ids["和平社区/第二网格"], date(2026, 11, 1), "并入第一网格")
        s.commit()
        closed = s.get(Area, ids["和平社区/第二网格"])
        assert closed.closed_on == date(2026, 11, 1) and closed.closed_reason == "并入第一网格"
        names = {a.name for a in areas.visible_areas(ctx) if a.parent_id == ids["和平社区"]}
        assert names == {"第一网格"}
        assert len(areas.visible_areas(ctx, include_closed=True)) == 7
        # a closed name may be reused by a new area
        areas.create_area(ctx, "第二网格", "grid", ids["和平社区"])


def test_audit_rows_for_each_change(tree):
    db, actor, ids = tree
    g = ids["和平社区/第一网格"]
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        areas.rename_area(ctx, g, "第一（东）网格")
        s.commit()
        areas.move_area(ctx, g, ids["东湖社区"])
        s.commit()
        areas.close_area(ctx, g, date(2026, 11, 20), "撤并")
        s.commit()
        rows = history(s, "core_areas", g)
    actions = [(r.action, tuple(sorted((r.after or {}).keys()))) for r in rows]
    assert actions[0][0] == "insert"
    assert ("update", ("name",)) in actions
    assert ("update", ("parent_id", "path")) in actions
    assert ("update", ("closed_on", "closed_reason")) in actions
    rename = next(r for r in rows if r.action == "update" and "name" in r.after)
    assert rename.before == {"name": "第一网格"} and rename.after == {"name": "第一（东）网格"}
    assert all(r.actor_id == actor.user_id and r.actor_name == "管理员" for r in rows)


def test_stale_edit_is_a_conflict(tree):
    db, actor, ids = tree
    g = ids["和平社区/第一网格"]
    with db.session_factory() as s1:
        seen = s1.get(Area, g).version_id
    with db.session_factory() as s2:
        areas.rename_area(ServiceContext(s2, actor), g, "别人改的名字", expected_version=seen)
        s2.commit()
    with db.session_factory() as s3:
        with pytest.raises(ConflictError, match="管理员"):
            areas.rename_area(ServiceContext(s3, actor), g, "我改的名字", expected_version=seen)
    with db.session_factory() as s4:
        assert s4.get(Area, g).name == "别人改的名字"


def test_two_desktops_saving_at_once(tree):
    """Both desktops passed the version check; the version-guarded UPDATE lets only one win."""
    db, actor, ids = tree
    g = ids["和平社区/第一网格"]
    s1, s2 = db.session_factory(), db.session_factory()
    try:
        ServiceContext(s1, actor), ServiceContext(s2, actor)  # both sessions act as the admin
        a1, a2 = s1.get(Area, g), s2.get(Area, g)
        a1.name = "甲改的"
        s1.commit()
        a2.name = "乙改的"
        with pytest.raises(ConflictError, match="已被管理员于"):
            from shell.core.locking import flush_or_conflict
            flush_or_conflict(s2, a2, "辖区")
    finally:
        s1.close()
        s2.close()
    with db.session_factory() as s:
        assert s.get(Area, g).name == "甲改的"


def test_search_areas_by_name_initials_and_scope(tree):
    db, actor, ids = tree
    keeper = user(db, actor, "dh_clerk", ids["东湖社区"], roles=["community_staff"])
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        assert [r.title for r in areas.search_areas(ctx, "和平")] == ["和平社区"]
        assert [r.title for r in areas.search_areas(ctx, "dhsq")] == ["东湖社区"]  # 东湖社区 → dhsq
        hits = areas.search_areas(ctx, "第一网格")
        assert {r.subtitle for r in hits} == {"网格 · 青石街道 / 和平社区 / 第一网格", "网格 · 青石街道 / 东湖社区 / 第一网格"}
        scoped = areas.search_areas(ServiceContext(s, keeper), "网格")
        assert {r.subtitle.split(" / ")[1] for r in scoped} == {"东湖社区"}


def test_listing_is_in_tree_order_not_path_text_order(sqlite_db):
    actor = admin(sqlite_db)
    with sqlite_db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        street = areas.create_area(ctx, "街道", "street")
        names = [f"社区{i}" for i in range(1, 13)]  # ids 2..13: "/1/10/" sorts before "/1/2/" as text
        for i, n in enumerate(names):
            areas.create_area(ctx, n, "community", street.id, sort_order=i)
        s.commit()
        assert [a.name for a in areas.visible_areas(ctx, level="community")] == names
        assert [a.name for a in areas.list_areas(s)][:3] == ["街道", "社区1", "社区2"]
