"""积分有效期 from the 志愿者 page: the button appears only when the street set a validity and the
user may touch points; it expires what is due after confirmation and says how much."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from plugins.volunteer import services as sv
from plugins.volunteer.models import PointsEntry
from plugins.volunteer.rules import SETTING_BY_KEY
from plugins.volunteer.views.volunteers import VolunteersPage
from shell.core import settings
from shell.core.context import Actor, AppContext, ServiceContext

from .conftest import make_pm


@pytest.fixture
def street(sqlite_templates, tmp_path):
    from .conftest import VOLUNTEER

    db = sqlite_templates.open(tmp_path / "street.sqlite", VOLUNTEER, demo=True, pm=make_pm())
    yield db
    db.dispose()


def test_expire_button_only_with_a_validity_and_it_expires_what_is_due(qtbot, street, monkeypatch):
    app = AppContext(street.session_factory, Actor.system(), make_pm())
    page = VolunteersPage(app)
    qtbot.addWidget(page)
    assert not page.expire_button.isVisibleTo(page)  # no validity set: nothing to clean up

    with street.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        settings.set_value(ctx, SETTING_BY_KEY["volunteer.expiry_months"], 1)
        s.commit()
        before = s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)))
    page = VolunteersPage(app)
    qtbot.addWidget(page)
    page.show()
    assert page.expire_button.isVisible()
    monkeypatch.setattr("shell.ui.errors.confirm", lambda *a, **k: True)
    qtbot.mouseClick(page.expire_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.expire_task.is_finished, timeout=20000)
    text = page.card.message.text()
    assert text.startswith("已为 ") and "名志愿者清理过期积分" in text
    with street.session_factory() as s:
        expired = -s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.kind == "expire"))
        after = s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)))
        assert expired > 0 and after == before - expired
        assert f"共 {expired} 分" in text
        assert sv.check_consistency(s) == []
    qtbot.mouseClick(page.expire_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.expire_task.is_finished, timeout=20000)
    assert page.card.message.text() == "没有需要清理的过期积分。"
