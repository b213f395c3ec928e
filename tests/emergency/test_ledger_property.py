"""Property: after any sequence of stock operations (some of them refused), the stored balance of
every batch equals the sum of its moves, equals an independent model, and is never negative."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from plugins.emergency import services as sv
from plugins.emergency.models import Batch
from shell.errors import ValidationError

from .conftest import TODAY

op = st.one_of(
    st.tuples(st.just("in"), st.integers(0, 1), st.integers(0, 1), st.integers(1, 3), st.integers(1, 50),
              st.integers(-5, 200)),
    st.tuples(st.just("out"), st.integers(0, 7), st.integers(-5, 40)),
    st.tuples(st.just("transfer"), st.integers(0, 7), st.integers(0, 1), st.integers(-5, 40)),
    st.tuples(st.just("adjust"), st.integers(0, 7), st.integers(-30, 30), st.sampled_from(["丢失", "找回", "损坏"])),
    st.tuples(st.just("count"), st.integers(0, 1), st.lists(st.integers(0, 60), min_size=8, max_size=8)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, max_size=25))
def test_balance_equals_sum_of_moves(world, ops):
    ctx = world.ctx()
    try:
        _run(world, ctx, ops)
    finally:
        ctx.session.close()


def _run(world, ctx, ops):
    whs = sv.list_warehouses(ctx)
    if not whs:
        whs = [sv.create_warehouse(ctx, world.street, "储备库"), sv.create_warehouse(ctx, world.c1, "储备点")]
        sv.create_item(ctx, "1010101", "饮用水", "箱")
        sv.create_item(ctx, "2040101", "强光手电", "只")
        ctx.session.commit()
    items = sv.find_items(ctx)
    model = {b.id: b.qty for b in ctx.session.scalars(select(Batch))}

    def batch_ids():
        return sorted(model)

    for o in ops:
        try:
            if o[0] == "in":
                _, w, i, b, qty, life = o
                exp = TODAY + timedelta(days=life) if life >= 0 else None
                m = sv.receive(ctx, whs[w].id, items[i].id, qty, f"B{b}-{life}", None, exp)
                model[m.batch_id] = model.get(m.batch_id, 0) + qty
            elif o[0] in ("out", "transfer", "adjust") and model:
                bid = batch_ids()[o[1] % len(model)]
                if o[0] == "out":
                    m = sv.issue(ctx, bid, o[2])
                    assert model[bid] >= o[2]
                    model[bid] -= o[2]
                elif o[0] == "transfer":
                    src = ctx.session.get(Batch, bid)
                    dest = whs[o[2]]
                    out, inn = sv.transfer(ctx, bid, dest.id, o[3])
                    model[bid] -= o[3]
                    model[inn.batch_id] = model.get(inn.batch_id, 0) + o[3]
                    assert src.warehouse_id != dest.id
                else:
                    sv.adjust(ctx, bid, o[2], o[3])
                    model[bid] += o[2]
            elif o[0] == "count":
                take = sv.open_stocktake(ctx, whs[o[1]].id)
                lines = sv.stocktake_lines(ctx, take.id)
                for (_line, batch, _item), counted in zip(lines, o[2] * 10, strict=False):
                    sv.record_count(ctx, take.id, batch.id, counted)
                    model[batch.id] = counted
                sv.post_stocktake(ctx, take.id)
            ctx.session.commit()
        except ValidationError:
            ctx.session.rollback()
            ctx.session.expire_all()
            model = {b.id: b.qty for b in ctx.session.scalars(select(Batch))} if o[0] == "count" else model
            # a refused operation changed nothing: the database agrees with the model as it was
        for qty in model.values():
            assert qty >= 0
    ctx.session.expire_all()
    stored = {b.id: b.qty for b in ctx.session.scalars(select(Batch))}
    assert stored == model
    assert sv.check_ledger(ctx.session) == []
    assert min(stored.values(), default=0) >= 0
