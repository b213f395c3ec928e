from datetime import date

import pytest
from sqlalchemy import select

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Member, OrgEvent, PartyOrg
from shell.core import auth
from shell.core.models import AuditLog
from shell.errors import OutOfScope, PermissionDenied, ValidationError


def test_level_rules(world, tree):
    c = world.ctx
    with pytest.raises(ValidationError, match="只能建小区（网格）党支部"):
        svc.create_org(c, "错层党小组", "group", tree.dfc.id)
    with pytest.raises(ValidationError, match="必须建在上级党组织下面"):
        svc.create_org(c, "孤立支部", "branch", None, world.g11.id)
    with pytest.raises(ValidationError, match="党员中心户下不能再建组织"):
        svc.create_org(c, "下级", "household", tree.h1.id)
    with pytest.raises(ValidationError, match="未知的党组织类别"):
        svc.create_org(c, "x", "club", tree.dfc.id, world.g11.id)
    # A branch hangs on a grid or community inside its parent's community, not a street or another community.
    with pytest.raises(ValidationError, match="应挂在"):
        svc.create_org(c, "挂错层", "branch", tree.dfc.id, world.street.id)
    with pytest.raises(ValidationError, match="不在上级党组织的辖区"):
        svc.create_org(c, "跨社区支部", "branch", tree.dfc.id, world.g21.id)
    with pytest.raises(ValidationError, match="已有名为"):
        svc.create_org(c, "东风一网格党支部", "branch", tree.dfc.id, world.g11.id)
    # Groups and households take their parent's area.
    assert tree.g1.area_id == world.g11.id and tree.h1.area_id == world.g11.id
    assert tree.h1.path == f"{tree.g1.path}{tree.h1.id}/"
    assert tree.h1.level == 5 and tree.top.level == 1


def test_committee_size_rules(world, tree):
    with pytest.raises(ValidationError, match="3 至 7"):
        svc.update_committee(world.ctx, tree.b2.id, True, 9, date(2025, 1, 1))
    with pytest.raises(ValidationError, match="选举"):
        svc.update_committee(world.ctx, tree.b2.id, True, 5, None)
    o = svc.update_committee(world.ctx, tree.b2.id, True, 5, date(2025, 1, 1), secretary="王书记")
    assert o.has_committee and o.committee_size == 5 and o.secretary == "王书记"


def test_rename_keeps_history(world, tree):
    svc.rename_org(world.ctx, tree.b2.id, "东风二网格第一党支部", on=date(2026, 3, 1))
    events = svc.org_history(world.ctx, tree.b2.id)
    assert [e.event for e in events] == ["founded", "renamed"]
    assert "东风二网格党支部" in events[1].detail and events[1].on == date(2026, 3, 1)
    world.session.commit()
    with world.db.session_factory() as s:
        logged = s.scalars(select(AuditLog).where(AuditLog.entity == "partybuilding_orgs",
                                                  AuditLog.entity_id == str(tree.b2.id), AuditLog.action == "update"))
        assert any((e.before or {}).get("name") == "东风二网格党支部" for e in logged)


def test_dissolve_needs_empty_org_and_keeps_row(world, tree):
    m = world.member(tree.b2)
    with pytest.raises(ValidationError, match="下级组织"):
        svc.dissolve_org(world.ctx, tree.dfc.id)
    with pytest.raises(ValidationError, match="1 名党员"):
        svc.dissolve_org(world.ctx, tree.b2.id)
    svc.join_org(world.ctx, m.id, tree.b1.id, date(2026, 6, 1))
    with pytest.raises(ValidationError, match="早于成立日期"):
        svc.dissolve_org(world.ctx, tree.b2.id, on=date(2009, 1, 1))
    svc.dissolve_org(world.ctx, tree.b2.id, on=date(2026, 6, 30), reason="并入东风一网格党支部")
    o = world.session.get(PartyOrg, tree.b2.id)
    assert o.dissolved_on == date(2026, 6, 30) and not o.is_open
    assert [n.org.id for n in svc.org_tree(world.ctx)].count(tree.b2.id) == 0
    assert tree.b2.id in [n.org.id for n in svc.org_tree(world.ctx, include_dissolved=True)]
    with pytest.raises(ValidationError, match="已撤销"):
        svc.create_org(world.ctx, "新小组", "group", tree.b2.id)
    with pytest.raises(ValidationError, match="已撤销"):
        svc.join_org(world.ctx, m.id, tree.b2.id)


def test_move_subtree_counts_history_and_paths(world, tree):
    g2 = svc.create_org(world.ctx, "2号楼党小组", "group", tree.b1.id)
    h2 = svc.create_org(world.ctx, "2号楼党员中心户", "household", g2.id)
    members = [world.member(g2) for _ in range(3)] + [world.member(h2)]
    world.member(tree.b1)  # stays
    preview = svc.move_org(world.ctx, g2.id, tree.b3.id, preview=True)
    assert (preview.organisations, preview.members, preview.area_changed) == (2, 4, True)
    assert "2 个党组织、4 名党员" in preview.message
    assert world.session.get(PartyOrg, g2.id).parent_id == tree.b1.id  # preview changed nothing
    result = svc.move_org(world.ctx, g2.id, tree.b3.id, on=date(2026, 10, 1))
    assert (result.organisations, result.members) == (2, 4)
    world.session.commit()
    g2 = world.session.get(PartyOrg, g2.id)
    h2 = world.session.get(PartyOrg, h2.id)
    b3 = world.session.get(PartyOrg, tree.b3.id)
    assert g2.parent_id == b3.id and g2.path == f"{b3.path}{g2.id}/" and h2.path == f"{g2.path}{h2.id}/"
    # A group moved to a branch in another grid takes that grid.
    assert g2.area_id == h2.area_id == world.g21.id
    # Members stay in their group; counts follow the tree.
    nodes = {n.org.id: n for n in svc.org_tree(world.ctx)}
    assert nodes[tree.b3.id].members == 4 and nodes[tree.b1.id].members == 1
    assert nodes[tree.hqz.id].members == 4 and nodes[tree.top.id].members == 5
    assert all(world.session.get(Member, m.id).org_id in (g2.id, h2.id) for m in members)
    ev = world.session.scalars(select(OrgEvent).where(OrgEvent.org_id == g2.id, OrgEvent.event == "moved")).one()
    assert "东风一网格党支部" in ev.detail and "红旗一网格党支部" in ev.detail and ev.on == date(2026, 10, 1)


def test_move_validation(world, tree):
    c = world.ctx
    with pytest.raises(ValidationError, match="它自己或它的下级"):
        svc.move_org(c, tree.dfc.id, tree.dfc.id)
    with pytest.raises(ValidationError, match="只能放在"):
        svc.move_org(c, tree.g1.id, tree.dfc.id)           # a group under a community committee
    with pytest.raises(ValidationError, match="只能放在|它自己或它的下级"):
        svc.move_org(c, tree.b1.id, tree.g1.id)            # under its own descendant
    with pytest.raises(ValidationError, match="最高一级"):
        svc.move_org(c, tree.top.id, tree.dfc.id)
    with pytest.raises(ValidationError, match="请先调整辖区"):
        svc.move_org(c, tree.b1.id, tree.hqz.id)           # a grid branch of 东风 under 红旗's committee
    assert svc.move_org(c, tree.g1.id, tree.b1.id).organisations == 0  # already there
    # Moving a branch between committees of the same community is fine.
    dz = svc.create_org(c, "中共东风社区第二总支部委员会", "general_branch", tree.top.id, world.c1.id)
    r = svc.move_org(c, tree.b1.id, dz.id)
    assert r.organisations == 3 and not r.area_changed


def test_move_respects_scope(world, tree):
    auth.create_user(world.ctx, "dfclerk", "东风党务", "dfclerk1234", world.c1.id, ["partybuilding_clerk"])
    world.session.commit()
    actor = auth.login(world.db.session_factory, "dfclerk", "dfclerk1234")
    c = world.as_actor(actor)
    try:
        with pytest.raises(OutOfScope):
            svc.move_org(c, tree.g1.id, tree.b3.id)       # target outside 东风社区
        with pytest.raises(OutOfScope):
            svc.create_org(c, "红旗新支部", "branch", tree.hqz.id, world.g21.id)
        assert {n.org.id for n in svc.org_tree(c)} == {tree.dfc.id, tree.b1.id, tree.b2.id, tree.g1.id, tree.h1.id}
        assert svc.move_org(c, tree.g1.id, tree.b2.id).organisations == 2
    finally:
        c.session.close()


def test_permission_needed(world, tree):
    auth.create_user(world.ctx, "viewer", "只读", "viewer1234", world.street.id, ["street_staff"])
    world.session.commit()
    actor = auth.login(world.db.session_factory, "viewer", "viewer1234")
    c = world.as_actor(actor)
    try:
        assert svc.org_tree(c)
        with pytest.raises(PermissionDenied):
            svc.rename_org(c, tree.b1.id, "新名字")
    finally:
        c.session.close()


def test_branch_rules_findings(world, tree):
    c = world.ctx
    # b1: 7 full members, has a committee elected 2023 → fine except nothing.
    for _ in range(7):
        world.member(tree.b1)
    # b2: 7 full members without a committee; b3: 2 full + 1 probationary → too few full.
    for _ in range(7):
        world.member(tree.b2)
    world.member(tree.b3)
    world.member(tree.b3)
    world.member(tree.b3, stage="probationary", admitted=date(2026, 5, 1))
    # 红旗 general branch: committee elected 2021-06-01 → term (5 years) ended 2026-06-01.
    svc.update_committee(c, tree.hqz.id, True, 3, date(2021, 6, 1))
    findings = svc.branch_findings(c)
    got = {(f.org_id, f.code) for f in findings}
    assert got == {(tree.b2.id, "needs_committee"), (tree.b3.id, "too_few_full"), (tree.hqz.id, "term_expired")}
    msg = next(f.message for f in findings if f.code == "too_few_full")
    assert "只有 2 名正式党员" in msg
    # Suspended members do not count; >50 members is flagged.
    for _ in range(44):
        world.member(tree.b2)
    assert (tree.b2.id, "too_many") in {(f.org_id, f.code) for f in svc.branch_findings(c, org_id=tree.dfc.id)}
    # Limited to a subtree.
    assert all(f.org_id != tree.hqz.id for f in svc.branch_findings(c, org_id=tree.dfc.id))
    # The term check moves with the date.
    assert (tree.hqz.id, "term_expired") not in {(f.org_id, f.code) for f in svc.branch_findings(c, on=date(2026, 5, 31))}


def test_households_list(world, tree):
    o = svc.set_households(world.ctx, tree.h1.id, ["1单元101 张大爷家", "", "1单元102 李阿姨家"])
    assert o.households.splitlines() == ["1单元101 张大爷家", "1单元102 李阿姨家"]
    with pytest.raises(ValidationError, match="不是党员中心户"):
        svc.set_households(world.ctx, tree.g1.id, ["x"])
