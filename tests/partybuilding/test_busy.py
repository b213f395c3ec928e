"""Contended writes of the party-building plugin (the letter counter every desktop of the street
increments, a branch's month of dues) use the shared busy-retry (shell/db/retry.py): a lock met
inside them is a Chinese ``BusyError``, and ``run_with_retry`` tries again in a fresh transaction."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import DuesPayment, Transfer
from plugins.partybuilding.services import dues, transfers
from shell.core.context import Actor
from shell.errors import BusyError

from .conftest import TODAY, clock


def _locked(*_args, **_kwargs):
    raise OperationalError("UPDATE partybuilding_counters …", {}, Exception("database is locked"))


def test_a_locked_letter_counter_is_busy_and_the_retry_issues_one_letter(world, tree, monkeypatch):
    m = world.member(tree.b1)
    world.session.commit()
    monkeypatch.setattr(transfers, "next_number", _locked)
    with pytest.raises(BusyError) as refused:
        svc.issue_transfer_letter(world.ctx, m.id, "中共某某社区委员会", on=TODAY)
    assert refused.value.message == svc.BUSY_MESSAGE
    world.session.rollback()

    real, calls = svc.next_number, []

    def locked_once(session, name):
        calls.append(name)
        if len(calls) == 1:
            _locked()
        return real(session, name)

    monkeypatch.setattr(transfers, "next_number", locked_once)

    def issue(ctx):
        t = svc.issue_transfer_letter(ctx, m.id, "中共某某社区委员会", on=TODAY)
        return t.id, t.letter_number

    tid, number = svc.run_with_retry(world.db.session_factory, Actor.system(), issue, clock=clock)
    assert len(calls) == 2 and number.endswith("〔2026〕第0001号")
    with world.db.session_factory() as s:   # one letter: the first attempt left nothing behind
        assert [t.id for t in s.query(Transfer)] == [tid]


def test_a_locked_dues_write_is_busy(world, tree, monkeypatch):
    m = world.member(tree.b1)
    world.session.commit()
    monkeypatch.setattr(dues, "monthly_dues_fen", _locked)
    with pytest.raises(BusyError):
        svc.record_payments(world.ctx, [m.id], "2026-10")
    world.session.rollback()
    assert world.session.query(DuesPayment).count() == 0
