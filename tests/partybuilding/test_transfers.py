import threading
from datetime import date

import pytest

from plugins.partybuilding import ledgers
from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Member
from shell.core.context import Actor, ServiceContext
from shell.errors import ValidationError

from .conftest import clock


def _run_threads(n, target):
    errors = []

    def wrap(i):
        try:
            target(i)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_counter_never_hands_out_a_number_twice(anydb):
    got, lock = [], threading.Lock()

    def work(_):
        for _ in range(15):
            with anydb.session_factory() as s:
                n = svc.next_number(s, "transfer_letter:2026")
                s.commit()
            with lock:
                got.append(n)

    _run_threads(4, work)
    assert sorted(got) == list(range(1, 61))


def test_rolled_back_number_is_not_committed_twice(anydb):
    with anydb.session_factory() as a:
        assert svc.next_number(a, "c") == 1
        a.rollback()
    with anydb.session_factory() as b:
        assert svc.next_number(b, "c") == 1  # nothing was committed with 1, so it is free
        b.commit()
    with anydb.session_factory() as c:
        assert svc.next_number(c, "c") == 2


def test_letters_issued_concurrently_get_distinct_numbers(anyworld):
    w = anyworld
    b = svc.create_org(w.ctx, "党工委", "working_committee", area_id=w.street.id, founded_on=date(2005, 1, 1))
    cm = svc.create_org(w.ctx, "东风社区党委", "community_committee", b.id, w.c1.id, founded_on=date(2005, 1, 1))
    br = svc.create_org(w.ctx, "东风一网格党支部", "branch", cm.id, w.g11.id, founded_on=date(2005, 1, 1))
    ids = [w.member(br).id for _ in range(12)]
    w.session.commit()
    numbers, lock = [], threading.Lock()

    def work(i):
        for mid in ids[i::3]:
            for _attempt in range(20):  # SQLite may report "busy" when two writers start at once: retry
                s = w.db.session_factory()
                try:
                    t = svc.issue_transfer_letter(ServiceContext(s, Actor.system(), clock), mid, "外区某社区党委",
                                                  on=date(2026, 11, 1))
                    s.commit()
                    with lock:
                        numbers.append(t.letter_number)
                    break
                except Exception as exc:
                    s.rollback()
                    if "locked" not in str(exc) and "busy" not in str(exc).lower():
                        raise
                finally:
                    s.close()

    _run_threads(3, work)
    assert len(numbers) == 12 and len(set(numbers)) == 12
    assert sorted(numbers) == [f"党组介字〔2026〕第{n:04d}号" for n in range(1, 13)]


def test_outgoing_letter_receipt_and_overdue(world, tree):
    c = world.ctx
    m = world.member(tree.b1, name="李四")
    svc.record_payment(c, m.id, "2026-09")
    svc.record_payment(c, m.id, "2026-10")
    with pytest.raises(ValidationError, match="1 至 90"):
        svc.issue_transfer_letter(c, m.id, "某区某街道党工委", on=date(2026, 10, 15), valid_days=91)
    with pytest.raises(ValidationError, match="晚于开信月份"):
        svc.issue_transfer_letter(c, m.id, "某区某街道党工委", on=date(2026, 10, 15), dues_paid_to="2026-11")
    t = svc.issue_transfer_letter(c, m.id, "中共某区某街道工作委员会", on=date(2026, 10, 15), reason="搬迁")
    assert t.letter_number == "党组介字〔2026〕第0001号" and t.valid_days == 90 and t.dues_paid_to == "2026-10"
    assert t.receipt_due_on == date(2026, 11, 14)
    assert m.org_id is None and m.status == "transferred_out"
    assert svc.memberships(c, m.id)[-1][0].end_on == date(2026, 10, 15)
    # Another letter on the 20th of October: its receipt is due 19 November, overdue on the 20th.
    m2 = world.member(tree.b2, name="王五")
    t2 = svc.issue_transfer_letter(c, m2.id, "外省某党支部", on=date(2026, 10, 21), valid_days=30)
    assert t2.letter_number == "党组介字〔2026〕第0002号"
    assert [x.id for x in svc.overdue_receipts(c)] == [t.id]
    assert [x.id for x in svc.overdue_receipts(c, on=date(2026, 11, 21))] == [t.id, t2.id]
    svc.record_receipt(c, t.id, date(2026, 11, 18))
    assert t.status == "received" and svc.overdue_receipts(c) == []
    with pytest.raises(ValidationError, match="不能登记回执"):
        svc.record_receipt(c, t.id)
    with pytest.raises(ValidationError, match="不是本街道在册的党员"):
        svc.issue_transfer_letter(c, m.id, "x")
    applicant = world.member(tree.b1, stage="applicant")
    with pytest.raises(ValidationError, match="不是本街道在册的党员"):
        svc.issue_transfer_letter(c, applicant.id, "x")


def test_cancelled_letter_keeps_its_number(world, tree):
    c = world.ctx
    m = world.member(tree.b1)
    t = svc.issue_transfer_letter(c, m.id, "外区党委", on=date(2026, 11, 2))
    svc.cancel_letter(c, t.id, "本人不再迁出", on=date(2026, 11, 5))
    assert t.status == "cancelled" and m.org_id == tree.b1.id and m.status == "normal"
    assert [(p.org_id, p.end_on) for p, _ in svc.memberships(c, m.id)][-2:] == [(tree.b1.id, date(2026, 11, 2)),
                                                                                 (tree.b1.id, None)]
    t2 = svc.issue_transfer_letter(c, m.id, "外区党委", on=date(2026, 11, 6))
    assert t2.letter_number.endswith("第0002号")
    with pytest.raises(ValidationError, match="作废原因"):
        svc.cancel_letter(c, t2.id, " ")


def test_internal_transfer_moves_membership(world, tree):
    c = world.ctx
    m = world.member(tree.b1)
    t = svc.issue_transfer_letter(c, m.id, "红旗一网格党支部", on=date(2026, 11, 3), to_org_id=tree.b3.id)
    assert m.org_id == tree.b3.id and m.status == "normal" and t.to_org_id == tree.b3.id
    assert [p.org_id for p, _ in svc.memberships(c, m.id)] == [tree.b1.id, tree.b3.id]


def test_incoming_registration(world, tree):
    c = world.ctx
    number = world.id_number(date(1990, 3, 3))
    t = svc.register_incoming(c, org_id=tree.b2.id, origin="中共外区某社区委员会", letter_number="外组字〔2026〕15号",
                              on=date(2026, 11, 10), dues_paid_to="2026-10", name="赵六", id_number=number,
                              stage="full", admitted_on=date(2015, 6, 1), full_on=date(2016, 6, 1))
    m = world.session.get(Member, t.member_id)
    assert (t.direction, t.status, m.org_id, m.name) == ("in", "registered", tree.b2.id, "赵六")
    assert svc.memberships(c, m.id)[0][0].start_on == date(2026, 11, 10)
    # The same person leaves and comes back: found by ID number, history kept.
    out = svc.issue_transfer_letter(c, m.id, "外区", on=date(2026, 11, 12))
    svc.record_receipt(c, out.id, date(2026, 11, 15))
    t2 = svc.register_incoming(c, org_id=tree.b1.id, origin="外区", letter_number="外组字〔2026〕20号",
                               on=date(2026, 11, 18), id_number=number)
    assert t2.member_id == m.id and m.org_id == tree.b1.id and m.status == "normal"
    assert len(svc.memberships(c, m.id)) == 2
    with pytest.raises(ValidationError, match="仍在"):
        svc.register_incoming(c, org_id=tree.b3.id, origin="外区", letter_number="x", id_number=number)
    with pytest.raises(ValidationError, match="预备党员或正式党员"):
        svc.register_incoming(c, org_id=tree.b3.id, origin="外区", letter_number="y", name="钱七",
                              id_number=world.id_number(), stage="applicant", applied_on=date(2025, 1, 1))


def test_transfer_letter_document(world, tree, tmp_path):
    from reports import DocumentSpec, render_document

    c = world.ctx
    m = world.member(tree.b1, name="孙八")
    svc.record_payment(c, m.id, "2026-10")
    t = svc.issue_transfer_letter(c, m.id, "中共某区某街道工作委员会", on=date(2026, 11, 1), valid_days=60)
    world.session.commit()
    spec = ledgers.transfer_letter(c, {"transfer": t.id})
    assert isinstance(spec, DocumentSpec) and spec.number == t.letter_number
    stub, letter, receipt = spec.parts
    assert stub.title.endswith("（存根）") and receipt.title.endswith("回执")
    text = "\n".join(p for part in spec.parts for p in part.body)
    assert "孙八" in text and "2026年10月" in text
    assert "有效期60天" in text and "2026年12月31日" in text  # valid until
    assert letter.closing[0] == "中共东风社区委员会" and letter.seal      # the committee issues and seals it
    out = tmp_path / "letter.pdf"
    result = render_document(spec, out)
    assert out.exists() and result.pages == 1
