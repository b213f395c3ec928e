"""The bulk street (``jiedao demo --scale medium|large``): ``seed_bulk`` run with small counts must be
consistent by construction — the same rules the services enforce hold for every row — and the same
seed must give the same rows."""
from __future__ import annotations

import random
import shutil
from collections import defaultdict
from datetime import UTC, date

import pytest
from sqlalchemy import select, text

from plugins.partybuilding import demo
from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Attendance, Counter, DuesPayment, Meeting, Member, Membership, PartyOrg, Transfer
from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.core.demo import seed_areas
from shell.idnumber import parse_id_number

from .conftest import make_pm

TODAY = date(2026, 11, 20)


def _street(template, path, seed=7, orgs=160, members=600):
    shutil.copy(template, path)
    db = open_database(path, pm=make_pm(), backup=False)
    with db.session_factory() as s:
        seed_areas(s, "medium")
        counts = demo.seed_bulk(s, random.Random(seed), orgs=orgs, members=members, today=TODAY)
        s.commit()
    return db, counts


@pytest.fixture(scope="module")
def bulk(tmp_path_factory, pb_template):
    db, counts = _street(pb_template, tmp_path_factory.mktemp("pb-bulk") / "bulk.sqlite")
    yield db, counts
    db.dispose()


def test_counts_and_every_level(bulk):
    db, counts = bulk
    assert counts["orgs"] == 160
    with db.session_factory() as s:
        levels = {lv for (lv,) in s.execute(select(PartyOrg.level).distinct())}
        stages = {st for (st,) in s.execute(select(Member.stage).distinct())}
        on_rolls = s.scalar(text("SELECT count(*) FROM partybuilding_members WHERE status = 'normal' "
                                 "AND stage IN ('probationary', 'full')"))
    assert levels == {1, 2, 3, 4, 5}
    assert stages == {"applicant", "activist", "candidate", "probationary", "full"}
    assert abs(on_rolls - 600) <= 30           # the party members asked for stay on the rolls
    assert counts["dues"] > 600 * 40 and counts["meetings"] > 1000 and counts["attendance"] > 5000


def test_tree_and_members_follow_the_rules(bulk):
    db, _ = bulk
    with db.session_factory() as s:
        orgs = {o.id: o for o in s.scalars(select(PartyOrg))}
        for o in orgs.values():
            parent = orgs.get(o.parent_id)
            assert o.path == (parent.path if parent else "/") + f"{o.id}/"
            assert o.level == svc.ORG_KINDS[o.kind][0] == (parent.level + 1 if parent else 1)
        for m in s.scalars(select(Member)):
            info = parse_id_number(m.id_number)       # python-stdnum accepts it, region and birth date too
            assert (info.birth_date, info.sex) == (m.birth_date, m.sex)
            dates = {k: getattr(m, k) for k in ("applied_on", "activist_on", "candidate_on", "admitted_on", "full_on")}
            svc.check_stage_dates(m.stage, dates, m.birth_date, TODAY)
            if m.stage == "full":
                assert m.full_on >= svc.add_months(m.admitted_on, 12 + (m.extension_months or 0))
            assert m.initials and m.phone and len(m.phone) == 11
        periods = defaultdict(list)
        for p in s.scalars(select(Membership).order_by(Membership.start_on)):
            periods[p.member_id].append(p)
        for m in s.scalars(select(Member)):
            ps = periods[m.id]
            open_ = [p for p in ps if p.end_on is None]
            if m.status == "transferred_out":
                assert m.org_id is None and not open_
            else:
                assert [p.org_id for p in open_] == [m.org_id]
            for a, b in zip(ps, ps[1:], strict=False):
                assert a.end_on is not None and a.end_on <= b.start_on
            assert all(p.start_on >= orgs[p.org_id].founded_on for p in ps)


def test_meetings_attendance_and_findings(bulk):
    db, _ = bulk
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), lambda: svc_now())
        orgs = {o.id: o for o in s.scalars(select(PartyOrg))}
        for mt in s.scalars(select(Meeting)):
            o = orgs[mt.org_id]
            assert o.founded_on <= mt.held_on <= TODAY
            assert mt.kind in svc.meeting_kinds_for(o)
        # Every attendance row is a member of the meeting's subtree that day (what record_meeting checks).
        by_meeting = defaultdict(set)
        for mid, member_id in s.execute(select(Attendance.meeting_id, Attendance.member_id)):
            by_meeting[mid].add(member_id)
        sample = sorted(by_meeting)[:: max(1, len(by_meeting) // 150)]
        for mid in sample:
            mt = s.get(Meeting, mid)
            assert by_meeting[mid] <= svc._members_of_subtree_on(ctx, orgs[mt.org_id], mt.held_on)
        rows = svc.compliance(ctx, 2025, on=TODAY)
        missing = [r for r in rows if r.status == "missing"]
        assert rows and 0 < len(missing) < len(rows) * 0.2     # mostly compliant, some branches behind
        codes = {f.code for f in svc.branch_findings(ctx, on=TODAY)}
        assert {"too_few_full", "too_many"} <= codes


def svc_now():
    from datetime import datetime

    return datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


def test_dues_and_transfers_are_consistent(bulk):
    db, _ = bulk
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), svc_now)
        rules = svc.DuesRules(s)
        since = rules.since
        assert since == "2022-01"
        members = {m.id: m for m in s.scalars(select(Member))}
        first_start = dict(s.execute(text("SELECT member_id, min(start_on) FROM partybuilding_memberships "
                                          "GROUP BY member_id")).all())
        last = {}
        for p in s.scalars(select(DuesPayment)):
            m = members[p.member_id]
            assert m.stage in ("probationary", "full")
            start = max(svc.month_key(m.admitted_on), str(first_start[m.id])[:7], since)
            assert start <= p.month <= "2026-11" and p.paid_on <= TODAY
            assert p.month == svc.month_key(p.paid_on)
            assert p.amount_fen == rules.monthly_fen(m) and p.base_fen == m.income_fen
            last[m.id] = max(last.get(m.id, ""), p.month)
        per_year = defaultdict(list)
        for t in s.scalars(select(Transfer)):
            if t.direction == "out":
                per_year[t.issued_on.year].append(int(t.letter_number.split("第")[1][:-1]))
                assert t.dues_paid_to == last.get(t.member_id)
                assert (t.status == "received") == (t.receipt_on is not None)
            else:
                assert t.status == "registered" and members[t.member_id].org_id == t.to_org_id
        counters = {c.name: c.value for c in s.scalars(select(Counter))}
        for y, numbers in per_year.items():
            assert sorted(numbers) == list(range(1, len(numbers) + 1)) and counters[f"transfer_letter:{y}"] == len(numbers)
        # The ledger knows who is behind; some are past the 6-month flag, most are paid up.
        arrears = svc.arrears(ctx, upto="2026-11")
        assert 0 < sum(a.flagged for a in arrears) < len(arrears) < len(members) * 0.6
        # The next letter number continues after the seeded ones.
        assert svc.next_number(s, "transfer_letter:2026") == counters["transfer_letter:2026"] + 1
        s.rollback()


def _rows(db):
    skip = {"created_at", "updated_at"}
    out = {}
    with db.session_factory() as s:
        for model in (PartyOrg, Member, Membership, Transfer, DuesPayment, Meeting, Attendance):
            cols = [c for c in model.__table__.columns if c.name not in skip]
            out[model.__tablename__] = s.execute(select(*cols).order_by(model.__table__.c.id)).all()
    return out


def test_same_seed_same_rows(bulk, pb_template, tmp_path):
    db, _ = bulk
    again, _ = _street(pb_template, tmp_path / "again.sqlite")
    other, _ = _street(pb_template, tmp_path / "other.sqlite", seed=8)
    try:
        first, second = _rows(db), _rows(again)
        assert first == second
        assert _rows(other)["partybuilding_members"] != first["partybuilding_members"]
    finally:
        again.dispose()
        other.dispose()
