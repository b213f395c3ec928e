"""The 党建 dashboard tile: counts by stage and the to-do lists, meetings required vs held this
year, and the age structure (figures computed on the thread pool)."""
from __future__ import annotations

from datetime import date

from plugins.partybuilding import services as svc
from plugins.partybuilding.services import AttendanceEntry as A
from shell.plugins import call_each


def test_party_summary_and_meeting_progress(world, tree):
    c = world.ctx   # today 2026-11-20
    world.member(tree.b1, birth=date(1995, 1, 1), admitted=date(2018, 6, 1), name="青年", education="大学本科")  # 31
    world.member(tree.b1, birth=date(1960, 11, 20), name="老党员", education="高中")       # 66 today
    world.member(tree.b2, stage="probationary", admitted=date(2025, 12, 1), birth=date(1980, 1, 1), name="预备")
    world.member(tree.b2, stage="activist", name="积极")
    world.member(tree.b3, stage="applicant", name="申请")
    s = svc.party_summary(c)
    assert (s.full, s.probationary, s.pipeline) == (2, 1, {"applicant": 1, "activist": 1, "candidate": 0})
    assert dict(s.ages) == {"35岁及以下": 1, "36–45岁": 0, "46–55岁": 1, "56–65岁": 0, "66岁及以上": 1}
    assert dict(s.education) == {"大学本科": 1, "高中": 1, "未填": 1}
    assert (s.due, s.overdue) == (1, 0)
    ids = [m.id for m in svc.list_members(c, org_id=tree.b1.id)]
    for month in range(1, 12):
        svc.record_meeting(c, tree.b1.id, "theme_day", date(2026, month, 5), f"{month}月主题党日",
                           attendance=[A(i) for i in ids])
    svc.record_meeting(c, tree.b1.id, "theme_day", date(2026, 3, 25), "加开一次")   # beyond the requirement
    progress = {k: (req, held) for k, req, held in svc.meeting_progress(c, 2026)}
    # Three branches × 11 months so far (November is running and counts as required).
    assert progress["主题党日"] == (33, 11)
    assert progress["党小组会"] == (11, 0)   # one 党小组 (founded 2015)


def test_hook_register_dashboard_widgets(world, tree, app, pm, qtbot):
    world.member(tree.b1, name="甲")
    world.session.commit()
    tiles = [t for _n, t in call_each(pm, "register_dashboard_widgets", ctx=app)]
    assert [(t.id, t.permission) for t in tiles] == [("partybuilding.summary", "partybuilding.view")]
    tile = tiles[0].factory(app, None)
    qtbot.addWidget(tile)
    qtbot.waitUntil(lambda: tile.loaded and tile.meetings.data is not None and tile.ages.data is not None,
                    timeout=10000)
    assert tile.labels[0].text() == "党员 1 名（正式 1，预备 0）"
    assert "转正到期 0 人" in tile.labels[2].text()
    assert tile.ages.data.categories[0] == "≤35岁" and sum(tile.ages.data.series[0][1]) == 1
    assert "主题党日" in tile.meetings.data.categories and [n for n, _v in tile.meetings.data.series] == ["应开", "已开"]


def test_stats_page_by_org_age_education(world, tree, app, qtbot):
    from plugins.partybuilding.views.stats_page import StatsPage

    world.member(tree.b1, birth=date(1995, 1, 1), admitted=date(2018, 6, 1), education="大学本科")
    world.member(tree.b2, stage="probationary", admitted=date(2025, 12, 1), education="研究生")
    world.member(tree.b3, education="高中")
    world.member(tree.b3, stage="activist", education="初中")     # not a party member: not counted
    world.session.commit()
    page = StatsPage(app)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: all(c.data is not None for c in page.charts()), timeout=10000)
    org = page.by_org.data
    assert list(org.categories) == ["东风社区", "红旗社区"]
    assert [(n, list(v)) for n, v in org.series] == [("正式党员", [1, 1]), ("预备党员", [1, 0])]
    assert list(page.education.data.categories) == ["研究生", "大学本科", "高中"]
    assert sum(page.ages.data.series[0][1]) == 3
