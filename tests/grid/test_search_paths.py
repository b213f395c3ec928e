"""The resident search keeps to the indexes on a large street: on SQLite an ID-number, phone or
pinyin-initials prefix is a GLOB the index serves (LIKE is case-insensitive there and cannot), with
wildcards in what the user typed taken literally; and the initials the importer stores are exactly
what shell.text.pinyin_initials gives, without loading pypinyin's phrase dictionary."""
from __future__ import annotations

from sqlalchemy import text

from plugins.grid import services as svc
from plugins.grid.demo import GIVEN_F, GIVEN_M, SURNAMES
from shell.text import pinyin_initials

from .conftest import actor, make_id


def _plan(session, query) -> str:
    compiled = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    return " ".join(r[-1] for r in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_prefix_searches_use_indexes_on_sqlite(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    svc.register_person(ctx, area_id=stree.g11.id, name="张三", id_number=make_id(seq=11), phone="13812345678")
    svc.register_person(ctx, area_id=stree.g11.id, name="张三丰", id_number=make_id(seq=13))
    ctx.session.commit()
    a = ctx.actor
    assert "USING INDEX ix_grid_persons_initials (name_initials>? AND name_initials<?)" in _plan(
        ctx.session, svc.search_persons_query(a, "zs"))
    assert "(id_number>? AND id_number<?)" in _plan(ctx.session, svc.search_persons_query(a, make_id(seq=11)[:10]))
    plan = _plan(ctx.session, svc.search_persons_query(a, "1381234"))
    assert "(id_number>? AND id_number<?)" in plan and "ix_grid_persons_phone (phone>? AND phone<?)" in plan
    assert "SCAN grid_persons" not in plan
    # part of a name: a scan, but of the narrow name index, not the table
    plan = _plan(ctx.session, svc.search_persons_query(a, "三丰"))
    assert "COVERING INDEX ix_grid_persons_name" in plan
    assert [p.name for p in svc.list_persons(ctx, "三丰")] == ["张三丰"]
    # the results are those of a plain prefix match
    assert [p.name for p in svc.list_persons(ctx, "zs")] == ["张三", "张三丰"]
    assert [p.name for p in svc.list_persons(ctx, "ZSF")] == ["张三丰"]
    assert [p.name for p in svc.list_persons(ctx, "1381234")] == ["张三"]
    assert [p.name for p in svc.list_persons(ctx, make_id(seq=13))] == ["张三丰"]
    # GLOB wildcards typed by the user are literal characters, not patterns
    for typed in ("z*", "z?", "[z]s", "*"):
        assert svc.list_persons(ctx, typed) == [], typed


def test_prefix_search_on_postgresql(gdb, tree, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street))
    svc.register_person(ctx, area_id=tree.g11.id, name="李四", id_number=make_id(seq=21), phone="13900001111")
    ctx.session.commit()
    assert [p.name for p in svc.list_persons(ctx, "ls")] == ["李四"]
    assert [p.name for p in svc.list_persons(ctx, make_id(seq=21)[:8])] == ["李四"]
    assert [p.name for p in svc.list_persons(ctx, "139000")] == ["李四"]
    assert svc.list_persons(ctx, "l%") == [] and svc.list_persons(ctx, "l_") == []


def test_name_initials_same_as_shell_helper():
    chars = set(SURNAMES + GIVEN_M + GIVEN_F) | set("曾单解仇朴区查尉迟长孙乐覃佘")
    assert {c: svc.name_initials(c) for c in chars} == {c: pinyin_initials(c) for c in chars}
    assert svc.name_initials("阿依古丽·买买提") == "".join(pinyin_initials(c) for c in "阿依古丽·买买提")
    assert svc.name_initials("Tom 王") == "tomw"
