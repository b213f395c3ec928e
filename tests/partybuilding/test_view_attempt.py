"""``views.common.attempt``: a form's submit whose call was refused rolls the whole transaction back
(the earlier steps of the same submit too) without the view touching the session."""
from __future__ import annotations

from datetime import date

import pytest

from plugins.partybuilding import services as svc
from plugins.partybuilding.views.common import Refused, attempt


def _groups(app, tree) -> list[str]:
    with app.service(commit=False) as ctx:
        return [o.name for o in svc.visible_orgs(ctx, kinds=("group",)) if o.parent_id == tree.b2.id]


def test_refused_rolls_back_every_step_and_ends_quietly(app, tree):
    reached = []
    with attempt(app) as ctx:
        svc.create_org(ctx, "2号楼党小组", "group", tree.b2.id, founded_on=date(2020, 1, 1))
        reached.append("first step")
        raise Refused
    assert reached == ["first step"] and _groups(app, tree) == []

    with attempt(app) as ctx:
        svc.create_org(ctx, "2号楼党小组", "group", tree.b2.id, founded_on=date(2020, 1, 1))
    assert _groups(app, tree) == ["2号楼党小组"]


def test_other_errors_still_reach_the_caller(app, tree):
    with pytest.raises(ZeroDivisionError), attempt(app) as ctx:
        svc.create_org(ctx, "3号楼党小组", "group", tree.b2.id, founded_on=date(2020, 1, 1))
        _ = 1 / 0
    assert _groups(app, tree) == []
