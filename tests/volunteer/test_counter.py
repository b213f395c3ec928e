"""The 爱心超市兑换 counter page (pytest-qt, real widgets) on a demo database seeded by the volunteer
plugin: a basket of two items redeemed with one click (UI and database drop by exactly the amounts),
a basket over the balance refused with the service's Chinese message (nothing written, basket kept),
and the page offered only to users with volunteer.redeem."""
from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from plugins.volunteer import services as sv
from plugins.volunteer.models import PointsEntry, RedemptionOrder, RewardItem, Volunteer, VolunteerAccount
from plugins.volunteer.views.counter import CounterPage
from shell.contracts import PageSpec
from shell.core.context import Actor, AppContext, ServiceContext
from shell.core.models import Area
from shell.plugins import call_each

from .conftest import actor_for, make_pm

MASKED_ID = re.compile(r"^\d{4}\*{10}[\dX]{4}$")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, sqlite_templates):
    """The demo street with the volunteer plugin: a copy of the run's template (seeded without error)."""
    from .conftest import VOLUNTEER

    db = sqlite_templates.open(tmp_path_factory.mktemp("vol-counter") / "demo.sqlite", VOLUNTEER, demo=True, pm=make_pm())
    yield db
    db.dispose()


@pytest.fixture
def app(demo_db):
    return AppContext(demo_db.session_factory, Actor.system(), make_pm())


def _richest(demo_db, lowest=False):
    """(volunteer id, number, name, balance) of the active volunteer with the most (or least positive) points."""
    with demo_db.session_factory() as s:
        order = VolunteerAccount.points_balance.asc() if lowest else VolunteerAccount.points_balance.desc()
        v, bal = s.execute(select(Volunteer, VolunteerAccount.points_balance)
                           .join(VolunteerAccount, VolunteerAccount.volunteer_id == Volunteer.id)
                           .where(Volunteer.active.is_(True), VolunteerAccount.points_balance > 0)
                           .order_by(order, Volunteer.id)).first()
        return v.id, v.number, v.name, bal


def _state(demo_db, volunteer_id):
    with demo_db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        stocks = {i.id: i.stock for i in s.scalars(select(RewardItem))}
        orders = s.scalar(select(func.count()).select_from(RedemptionOrder))
        entries = s.scalar(select(func.count()).select_from(PointsEntry))
        return sv.account(ctx, volunteer_id)[0], stocks, orders, entries


def _pick(qtbot, page, number):
    qtbot.keyClicks(page.search, number)
    page.search.flush()
    assert page.results.rowCount() == 1
    assert MASKED_ID.match(page.results.item(0, 2).text())
    qtbot.waitUntil(lambda: page.counter.person is not None, timeout=2000)
    assert page.counter.person.number == number


def _row(page, item_id):
    return next(r for r, it in enumerate(page.counter.items) if it.item_id == item_id)


def test_redeem_two_items_drops_balance_and_stock_exactly(qtbot, app, demo_db, monkeypatch, tmp_path):
    from plugins.volunteer.views import counter as counter_view

    questions: list[str] = []
    monkeypatch.setattr(counter_view, "confirm", lambda _p, title, text: questions.append(f"{title}|{text}") or True)
    vid, number, name, balance = _richest(demo_db)
    page = CounterPage(app)
    qtbot.addWidget(page)
    page.show()
    _pick(qtbot, page, number)
    assert page.fields["points"].text() == f"{balance} 分"
    assert page.eligibility_label.text() == "✓ 现在可以兑换"
    # Two unlimited items in stock whose price together fits the balance.
    items = sorted((it for it in page.counter.items if it.stock >= 2 and not it.limit), key=lambda it: it.price)[:2]
    assert len(items) == 2
    a, b = items
    assert a.price + 2 * b.price <= balance
    assert not page.confirm_button.isEnabled()          # empty basket
    page.set_quantity(a.item_id, 1)
    page.set_quantity(b.item_id, 2)
    total = a.price + 2 * b.price
    assert page.total_label.text() == f"合计 {total} 分"
    assert page.remaining_label.text() == f"余额 {balance} 分，兑换后剩 {balance - total} 分"
    before_balance, before_stock, before_orders, _ = _state(demo_db, vid)

    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)

    after_balance, after_stock, after_orders, _ = _state(demo_db, vid)
    assert after_balance == before_balance - total
    assert after_stock[a.item_id] == before_stock[a.item_id] - 1
    assert after_stock[b.item_id] == before_stock[b.item_id] - 2
    assert {k: v for k, v in after_stock.items() if k not in (a.item_id, b.item_id)} == \
        {k: v for k, v in before_stock.items() if k not in (a.item_id, b.item_id)}
    assert after_orders == before_orders + 1
    with demo_db.session_factory() as s:
        order = s.scalars(select(RedemptionOrder).order_by(RedemptionOrder.id.desc())).first()
        assert (order.volunteer_id, order.total_points, order.status) == (vid, total, "done")
        assert sorted((ln.item_id, ln.quantity) for ln in order.lines) == sorted([(a.item_id, 1), (b.item_id, 2)])
    msg = page.message_label.text()
    assert f"兑换单号 {order.id}" in msg and f"现余 {after_balance} 分" in msg
    # The UI shows the new balance and stock, and the basket is empty again.
    assert page.fields["points"].text() == f"{after_balance} 分"
    assert page.items.item(_row(page, a.item_id), 2).text().startswith(f"{after_stock[a.item_id]} ")
    assert page.items.item(_row(page, b.item_id), 2).text().startswith(f"{after_stock[b.item_id]} ")
    assert page.basket() == {} and page.total_label.text() == "合计 0 分"
    # the clerk was asked first (irreversible: 兑换), with the items and the points
    assert len(questions) == 1 and questions[0].startswith("确认兑换|")
    assert f"共使用 {total} 分，兑换后剩 {balance - total} 分" in questions[0] and a.name in questions[0]
    # 打印兑换单: the paper the volunteer signs, through the report engine, in the PDF preview
    assert page.receipt_button.isEnabled()
    qtbot.mouseClick(page.receipt_button, Qt.MouseButton.LeftButton)
    preview = page.receipt_preview
    qtbot.waitUntil(lambda: preview.result is not None or "失败" in preview.status.text(), timeout=20000)
    assert preview.result is not None, preview.status.text()
    from pypdf import PdfReader

    text = "".join((pg.extract_text() or "") for pg in PdfReader(str(preview.result.path)).pages)
    text = text.replace(" ", "").replace("\n", "")
    for expected in ("爱心超市兑换单", f"编号：{order.id}", name, number, a.name, b.name, "领取人签字", str(total)):
        assert expected in text, expected
    # another volunteer at the counter: the button no longer offers the previous one's receipt
    other = _richest(demo_db, lowest=True)
    page.select_volunteer(other[0])
    assert not page.receipt_button.isEnabled()


def test_basket_over_balance_is_refused_and_kept(qtbot, app, demo_db, monkeypatch):
    from plugins.volunteer.views import counter as counter_view

    monkeypatch.setattr(counter_view, "confirm", lambda *_a: pytest.fail("no question when the service will refuse"))
    vid, number, name, balance = _richest(demo_db, lowest=True)
    page = CounterPage(app)
    qtbot.addWidget(page)
    page.show()
    _pick(qtbot, page, number)
    item = next(it for it in sorted(page.counter.items, key=lambda it: it.price)
                if not it.limit and it.stock * it.price > balance)
    qty = balance // item.price + 1
    page.set_quantity(item.item_id, qty)
    assert page.basket() == {item.item_id: qty}
    assert page.remaining_label.text().startswith("超出余额")
    before = _state(demo_db, vid)

    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)

    assert _state(demo_db, vid) == before                 # nothing written
    msg = page.message_label.text()
    assert msg.startswith("兑换没有成功：积分余额不足")
    assert f"当前 {balance} 分" in msg and f"需要 {qty * item.price} 分" in msg
    assert page.basket() == {item.item_id: qty}           # the basket survives the refusal
    assert page.fields["points"].text() == f"{balance} 分"
    assert page.confirm_button.isEnabled()


def _collect(app_ctx):
    """The plugins' register_pages (not the core's) filtered by permission, as collect_pages does."""
    return [spec for p, spec in call_each(app_ctx.plugin_manager, "register_pages", ctx=app_ctx)
            if p != "core" and isinstance(spec, PageSpec) and (spec.permission is None or app_ctx.actor.can(spec.permission))]


def test_counter_page_needs_the_redeem_permission(qtbot, demo_db):
    with demo_db.session_factory() as s:
        street = s.scalars(select(Area).where(Area.level == "street")).first().path
    pm = make_pm()
    viewer = AppContext(demo_db.session_factory, actor_for(street, "volunteer.view"), pm)
    assert "volunteer.counter" not in [s.id for s in _collect(viewer)]
    clerk = AppContext(demo_db.session_factory, actor_for(street, "volunteer.view", "volunteer.redeem"), pm)
    specs = {s.id: s for s in _collect(clerk)}
    spec = specs["volunteer.counter"]
    assert (spec.title, spec.order, spec.permission) == ("爱心超市兑换", 33, "volunteer.redeem")
    page = spec.factory(clerk, None)
    qtbot.addWidget(page)
    assert isinstance(page, CounterPage) and page.objectName() == "volunteer-counter"


def _newest(demo_db, model, in_path: str = "/") -> list[int]:
    """The active volunteers in ``in_path`` in the order of the newest ``model`` rows (redemptions or
    attendances), by hand."""
    with demo_db.session_factory() as s:
        rows = s.execute(select(model.volunteer_id, Volunteer.active, Area.path)
                         .join(Volunteer, Volunteer.id == model.volunteer_id).join(Area, Area.id == Volunteer.area_id)
                         .order_by(model.id.desc())).all()
    out: list[int] = []
    for vid, active, path in rows:
        if active and path.startswith(in_path) and vid not in out:
            out.append(vid)
    return out


@pytest.mark.parametrize("who", ["street", "community"])
def test_counter_and_picker_open_with_recent_volunteers_in_scope(qtbot, demo_db, who):
    """Issue 17 §3: before anything is typed the counter lists who redeemed or took part lately, and the
    活动报名 picker who took part lately — in the user's scope, newest first, ID numbers masked."""
    from plugins.volunteer.models import Attendance
    from plugins.volunteer.views.common import VolunteerPicker
    from shell.core.context import AppContext

    with demo_db.session_factory() as s:
        community = s.scalar(select(Area).where(Area.level == "community").order_by(Area.id))
    path = "/" if who == "street" else community.path
    acting = actor_for(path, "volunteer.view", "volunteer.redeem", "volunteer.manage")
    app = AppContext(demo_db.session_factory, acting, make_pm())
    redeemers = _newest(demo_db, RedemptionOrder, path)
    takers = _newest(demo_db, Attendance, path)
    expected = (redeemers + [v for v in takers if v not in redeemers])
    assert expected, "the demo street has recent volunteers in every community"

    page = CounterPage(app)
    qtbot.addWidget(page)
    shown = page._result_ids
    assert 0 < len(shown) <= 20 and shown == expected[:len(shown)]
    assert "最近兑换或参加活动" in page.results_hint.text()
    assert all(MASKED_ID.match(page.results.item(r, 2).text()) for r in range(page.results.rowCount()))
    assert page.counter.person is None            # nothing chosen until the clerk clicks

    picker = VolunteerPicker(None, app, "活动报名", "为活动登记报名的志愿者。")
    qtbot.addWidget(picker)
    ids = [picker.results.item(i).data(Qt.ItemDataRole.UserRole) for i in range(picker.results.count())]
    n = min(len(ids), len(takers))
    assert n > 0 and ids[:n] == takers[:n]       # then, if too few took part, the newest registered
    assert "最近参加活动" in picker.results.toolTip()
    # typing searches as before; clearing the box brings the recent ones back
    picker.search.setText("zzzzqx")
    picker.search.flush()
    assert picker.results.count() == 0
    picker.search.setText("")
    picker.search.flush()
    assert picker.results.count() == len(ids)
