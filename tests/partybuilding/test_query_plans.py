"""Indexes of the party-building plugin are deliberate (issue 9, p0003): the member search by ID
number, phone and pinyin initials and the 三会一课 list's newest page are EXPLAINed on SQLite and
PostgreSQL as the services send them; a full scan of the members, meetings or dues fails."""
from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy import event

from plugins.partybuilding import services as svc
from shell.core.context import Actor, ServiceContext

LARGE = {"partybuilding_members", "partybuilding_meetings", "partybuilding_dues_payments", "partybuilding_attendance"}


def _scans(db, conn, statement, params) -> list[str]:
    out = []
    if db.is_sqlite:
        for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).fetchall():
            m = re.match(r"SCAN (\w+)", row[3])
            if m and m.group(1) in LARGE:
                out.append(row[3])
        return out
    raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params).scalar()
    plan = raw if isinstance(raw, list) else json.loads(raw)

    def walk(node):
        kind, table = node.get("Node Type"), node.get("Relation Name")
        if table in LARGE and (kind == "Seq Scan" or (kind in ("Index Scan", "Index Only Scan")
                                                      and "Index Cond" not in node)):
            out.append(f"{kind} on {table}")
        for child in node.get("Plans", []):
            walk(child)
    walk(plan[0]["Plan"])
    return out


def test_member_search_and_meeting_pages_use_indexes(anyworld):
    w = anyworld
    top = svc.create_org(w.ctx, "中共幸福街道工作委员会", "working_committee", area_id=w.street.id,
                         founded_on=date(2005, 1, 1))
    cmt = svc.create_org(w.ctx, "中共东风社区委员会", "community_committee", top.id, w.c1.id, founded_on=date(2005, 1, 1))
    branch = svc.create_org(w.ctx, "东风一网格党支部", "branch", cmt.id, w.g11.id, founded_on=date(2010, 1, 1))
    m = w.member(branch, name="欧阳检索", phone="13912345678")
    svc.record_meeting(w.ctx, branch.id, "theme_day", date(2026, 10, 9), "10月主题党日")
    w.session.commit()
    db = w.db
    operations = [
        ("full ID number", lambda ctx: svc.list_members(ctx, text=m.id_number, limit=20)),
        ("ID prefix", lambda ctx: svc.list_members(ctx, text=m.id_number[:10], limit=20)),
        ("phone", lambda ctx: svc.list_members(ctx, text="13912345678", limit=20)),
        ("phone prefix", lambda ctx: svc.list_members(ctx, text="1391234", limit=20)),
        ("pinyin initials", lambda ctx: svc.list_members(ctx, text="oyjs", limit=20)),
        ("meetings, newest page", lambda ctx: svc.list_meetings(ctx, date(2026, 1, 1), date(2026, 12, 31), limit=200)),
    ]
    problems = []
    with db.session_factory() as s:
        conn = s.connection()
        if not db.is_sqlite:
            conn.exec_driver_sql("SET enable_seqscan = off")
        ctx = ServiceContext(s, Actor.system())
        for label, operation in operations:
            captured = []

            def capture(_c, _cur, statement, params, _ctx, _many):
                if statement.lstrip().upper().startswith("SELECT"):
                    captured.append((statement, params))
            event.listen(db.engine, "before_cursor_execute", capture)
            try:
                found = operation(ctx)
            finally:
                event.remove(db.engine, "before_cursor_execute", capture)
            assert found, label
            for statement, params in captured:
                scans = _scans(db, conn, statement, params)
                if scans:
                    problems.append(f"{label}: {scans}")
    assert problems == []


def test_search_finds_by_phone_and_id_tail(world, tree):
    m = world.member(tree.b1, name="电话甲", phone="13800001111")
    world.session.commit()
    ctx = world.ctx
    for text in ("13800001111", "1380000", "1111", m.id_number[-6:], m.id_number[:8]):
        assert [x.id for x in svc.list_members(ctx, text=text)] == [m.id], text
    hits = svc.search(ctx, "13800001111")
    assert [(h.kind, h.id) for h in hits] == [("partybuilding.member", m.id)]


def test_prefix_searches_are_not_cached_with_the_first_prefix(world, tree):
    """The prefix is written into the SQL when it is compiled: a statement cache keyed on the shape
    would answer every later search with the first prefix."""
    a = world.member(tree.b1, name="前缀甲", phone="13711112222")
    b = world.member(tree.b2, name="前缀乙", phone="13633334444")
    world.session.commit()
    ctx = world.ctx
    assert [m.id for m in svc.list_members(ctx, text="1371111")] == [a.id]
    assert [m.id for m in svc.list_members(ctx, text="1363333")] == [b.id]
    assert {r.member_id for r in svc.dues_sheet(ctx, tree.b1.id, "2026-11")} == {a.id}
    assert {r.member_id for r in svc.dues_sheet(ctx, tree.b2.id, "2026-11")} == {b.id}
