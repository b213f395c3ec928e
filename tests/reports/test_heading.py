"""The header's unit and scope for the actor (shell.core.reporting.heading) and the one Chinese date
style (reports.spec.cn_date / cn_period / as_of / period_label) — issue 18 §1."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from reports.spec import as_of, cn_date, cn_period, period_label
from shell.core import settings
from shell.core.areas import create_area
from shell.core.context import Actor, ServiceContext
from shell.core.reporting import heading, unit_name


def test_dates_in_one_style():
    assert cn_date(date(2026, 12, 3)) == "2026年12月3日"
    assert cn_date(datetime(2026, 1, 9, 18, 30)) == "2026年1月9日"
    assert cn_date(None) == ""
    assert cn_period(date(2026, 12, 1), date(2026, 12, 31)) == "2026年12月1日至12月31日"
    assert cn_period(date(2026, 12, 1), date(2027, 1, 31)) == "2026年12月1日至2027年1月31日"
    assert cn_period(date(2026, 5, 4), date(2026, 5, 4)) == "2026年5月4日"
    assert cn_period(date(2026, 1, 1), None) == "2026年1月1日起"
    assert as_of(date(2026, 12, 3)) == "截至2026年12月3日"
    assert period_label(as_of(date(2026, 12, 3))) == "截至2026年12月3日"
    assert period_label("2026年12月1日至12月31日") == "统计期间：2026年12月1日至12月31日"
    assert period_label("") == ""


@pytest.fixture
def street(db):
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        st = create_area(ctx, "青石街道", "street")
        hp = create_area(ctx, "和平里社区", "community", parent_id=st.id)
        g1 = create_area(ctx, "第一网格", "grid", parent_id=hp.id)
        g2 = create_area(ctx, "第二网格", "grid", parent_id=hp.id)
        other = create_area(ctx, "东风社区", "community", parent_id=st.id)
        settings.set_flag(s, "core.unit_name", "青石街道办事处")
        s.commit()
        return {a.name: (a.id, a.path) for a in (st, hp, g1, g2, other)}


def _ctx(s, *paths, superuser=False):
    return ServiceContext(s, Actor(user_id=None, username="u", display_name="u", scope_paths=paths,
                                   is_superuser=superuser))


def test_the_unit_and_scope_follow_the_actor(db, street):
    with db.session_factory() as s:
        h = heading(_ctx(s, street["青石街道"][1]))
        assert (h.unit, h.scope) == ("青石街道办事处", "青石街道")
        assert heading(_ctx(s, superuser=True)).unit == "青石街道办事处"
        h = heading(_ctx(s, street["和平里社区"][1]))
        assert (h.unit, h.scope) == ("青石街道 和平里社区", "和平里社区")
        h = heading(_ctx(s, street["第一网格"][1]))
        assert (h.unit, h.scope) == ("青石街道 和平里社区", "和平里社区 第一网格")
        h = heading(_ctx(s, street["第一网格"][1], street["第二网格"][1]))
        assert (h.unit, h.scope) == ("青石街道 和平里社区", "和平里社区 第一网格、第二网格")
        # two communities: the street is the common area, and both are named
        h = heading(_ctx(s, street["和平里社区"][1], street["东风社区"][1]))
        assert h.unit == "青石街道办事处" and h.scope == "和平里社区、东风社区"
        # a ledger asked for one area (the report's 辖区 parameter) names that area
        h = heading(_ctx(s, street["青石街道"][1]), street["第二网格"][0])
        assert (h.unit, h.scope) == ("青石街道 和平里社区", "和平里社区 第二网格")
        # no scope at all: no rows, and no claim to the street either
        assert heading(_ctx(s)).scope == ""


def test_party_ledgers_are_headed_by_the_party_organisation(db, street):
    with db.session_factory() as s:
        assert unit_name(_ctx(s, street["青石街道"][1]), party=True) == "中共青石街道工作委员会"
        assert unit_name(_ctx(s, street["第一网格"][1]), party=True) == "中共和平里社区委员会"
        assert unit_name(_ctx(s, street["第一网格"][1]), party=True, party_org="中共和平里社区总支部委员会") \
            == "中共和平里社区总支部委员会"
        assert "办事处" not in unit_name(_ctx(s, superuser=True), party=True)
