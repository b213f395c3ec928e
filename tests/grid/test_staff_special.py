"""Grid staff and the households-per-worker ratio; special groups with visits; visit logs → events."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert

from plugins.grid import services as svc
from plugins.grid.models import Household
from plugins.grid.rules import HOUSEHOLDS_PER_WORKER
from shell.core import settings
from shell.errors import OutOfScope, PermissionDenied, ValidationError

from .conftest import FIXED_NOW, actor, make_id


def _households(db, area_id, n, prefix):
    with db.session_factory() as s:
        s.execute(insert(Household), [dict(area_id=area_id, number=f"{prefix}{i:05d}", address="", notes="",
                                           version_id=1, created_at=FIXED_NOW, updated_at=FIXED_NOW)
                                      for i in range(n)])
        s.commit()


def test_ratio_against_configurable_norm(gdb, tree, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street, codes=svc.PERMISSION_LABELS.keys() | {"core.settings.manage"}))
    _households(gdb, tree.g11.id, 300, "A")     # 2 workers → 150 each: fine
    _households(gdb, tree.g12.id, 151, "B")     # 1 worker → breaks
    _households(gdb, tree.g21.id, 40, "C")      # no worker → breaks
    svc.assign_staff(ctx, tree.g11.id, "head", "王网格长", phone="13800000001")
    svc.assign_staff(ctx, tree.g11.id, "worker", "网格员甲")
    svc.assign_staff(ctx, tree.g11.id, "worker", "网格员乙")
    gone = svc.assign_staff(ctx, tree.g12.id, "worker", "网格员丙", start=date(2024, 1, 1))
    svc.assign_staff(ctx, tree.g12.id, "worker", "网格员丁")
    svc.end_staff(ctx, gone.id, date(2025, 1, 1))            # ended: no longer counts
    ratios = {r.grid_id: r for r in svc.grid_ratios(ctx)}
    assert (ratios[tree.g11.id].households, ratios[tree.g11.id].workers, ratios[tree.g11.id].heads) == (300, 2, 1)
    assert ratios[tree.g11.id].per_worker == 150 and not ratios[tree.g11.id].breaks_ratio
    assert ratios[tree.g21.id].per_worker is None and ratios[tree.g21.id].workers_needed == 1
    broken = [r.grid_name for r in svc.grids_breaking_ratio(ctx)]
    assert broken == ["和平里社区第二网格", "幸福苑社区第一网格"]
    settings.set_value(ctx, HOUSEHOLDS_PER_WORKER, 160)
    assert [r.grid_id for r in svc.grids_breaking_ratio(ctx)] == [tree.g21.id]
    assert [r.grid_id for r in svc.grid_ratios(ctx, area_id=tree.c2.id)] == [tree.g21.id, tree.g22.id]


def test_staff_rules(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    svc.assign_staff(ctx, stree.g11.id, "head", "王网格长")
    with pytest.raises(ValidationError, match="已有网格长：王网格长"):
        svc.assign_staff(ctx, stree.g11.id, "head", "李网格长")
    with pytest.raises(ValidationError) as e:
        svc.assign_staff(ctx, stree.c1.id, "worker", "x")
    assert e.value.field == "grid_id"
    with pytest.raises(ValidationError) as e:
        svc.assign_staff(ctx, stree.g11.id, "captain", "x")
    assert e.value.field == "role"
    worker = ctx_for(grid_sqlite, actor(stree.g11, codes={"grid.view"}))
    with pytest.raises(PermissionDenied):
        svc.assign_staff(worker, stree.g11.id, "worker", "x")
    community = ctx_for(grid_sqlite, actor(stree.c1))
    with pytest.raises(OutOfScope):
        svc.assign_staff(community, stree.g21.id, "worker", "x")


def test_special_groups_fields_and_overdue_visits(gdb, tree, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street))
    p = svc.register_person(ctx, area_id=tree.g11.id, name="陈某", id_number=make_id(seq=71))
    q = svc.register_person(ctx, area_id=tree.g21.id, name="林某", id_number=make_id(seq=73))
    sp = svc.add_special(ctx, p.id, "correction", {"correction_type": "宣告缓刑", "correction_start": "2025-01-01",
                                                    "correction_end": date(2026, 1, 1), "team": "第一矫正小组"},
                         helper="司法所刘", start=date(2025, 5, 1), visit_interval_days=30)
    assert sp.details["correction_start"] == "2025-01-01" and sp.next_visit_date == date(2025, 5, 31)
    with pytest.raises(ValidationError) as e:
        svc.add_special(ctx, p.id, "correction", {"correction_type": "宣告缓刑", "correction_start": "2025-01-01",
                                                   "correction_end": "2026-01-01"})
    assert "已在社区矫正人员名单中" in e.value.message
    with pytest.raises(ValidationError) as e:
        svc.add_special(ctx, q.id, "mental", {"guardian": "林父", "danger_level": "6级"})
    assert e.value.field == "danger_level"
    with pytest.raises(ValidationError) as e:
        svc.add_special(ctx, q.id, "mental", {"danger_level": "3级"})
    assert e.value.field == "guardian"
    with pytest.raises(ValidationError) as e:
        svc.add_special(ctx, q.id, "released", {"release_date": "2025-13-01"})
    assert e.value.field == "release_date"
    with pytest.raises(ValidationError) as e:
        svc.add_special(ctx, q.id, "youth", {"youth_type": "闲散青少年", "shoe": 1})
    assert e.value.field == "shoe"
    sq = svc.add_special(ctx, q.id, "mental", {"guardian": "林父", "danger_level": "3级", "incident_history": 1},
                         start=date(2025, 6, 1), visit_interval_days=7)
    for group, details in (("released", {"release_date": date(2024, 12, 1), "risk": "低"}),
                           ("drug", {"control": "社区康复"}), ("aids", {"treatment": "定期随访"}),
                           ("youth", {"youth_type": "闲散青少年", "help_means": "职业培训"})):
        svc.add_special(ctx, p.id, group, details, start=date(2025, 6, 10))
    ctx.session.commit()
    # FIXED_NOW is 2025-06-16: sp (due 05-31) and sq (due 06-08) are overdue
    assert [s.id for s in svc.overdue_visits(ctx)] == [sp.id, sq.id]
    v = svc.record_visit(ctx, sp.id, date(2025, 6, 16), "本人在家，情绪稳定", visitor_name="张网格")
    assert v.next_visit_date == date(2025, 7, 16) and sp.next_visit_date == date(2025, 7, 16)
    assert [s.id for s in svc.overdue_visits(ctx)] == [sq.id]
    with pytest.raises(ValidationError) as e:
        svc.record_visit(ctx, sq.id, date(2025, 6, 16), "走访", next_visit_date=date(2025, 6, 1))
    assert e.value.field == "next_visit_date"
    with pytest.raises(ValidationError) as e:
        svc.record_visit(ctx, sq.id, date(2025, 7, 1), "走访")
    assert e.value.field == "visit_date"
    ctx.session.commit()
    worker = ctx_for(gdb, actor(tree.g11))
    assert svc.overdue_visits(worker) == []          # sq is in another grid
    with pytest.raises(OutOfScope):
        svc.record_visit(worker, sq.id, date(2025, 6, 16), "走访")


def test_visit_log_finding_becomes_event(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.g11, name="张网格"))
    hh = svc.create_household(ctx, stree.g11.id, "H0001", "和平里1号楼101")
    log = svc.write_log(ctx, stree.g11.id, "入户走访，了解老人生活情况", finding="楼顶防水层破损，雨天漏水",
                        household_id=hh.id)
    empty = svc.write_log(ctx, stree.g11.id, "日常巡查")
    cat = next(c for c in svc.list_categories(ctx) if c.name == "民生诉求")
    ev = svc.log_to_event(ctx, log.id, cat.id)
    assert ev.status == "reported" and ev.source == "民情日志" and ev.title == "楼顶防水层破损，雨天漏水"
    assert log.event_id == ev.id and ev.reporter_name == "张网格"
    with pytest.raises(ValidationError, match="已转为事件"):
        svc.log_to_event(ctx, log.id, cat.id)
    with pytest.raises(ValidationError) as e:
        svc.log_to_event(ctx, empty.id, cat.id)
    assert e.value.field == "finding"
    with pytest.raises(ValidationError) as e:
        svc.write_log(ctx, stree.g11.id, "x", log_date=date(2025, 7, 1))
    assert e.value.field == "log_date"


def test_cared_for_groups(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    old = svc.register_person(ctx, area_id=stree.g11.id, name="孙奶奶", id_number=make_id(birth="19400505", seq=82))
    sp = svc.add_special(ctx, old.id, "elderly_alone", {"living": "独居", "emergency_contact": "孙女",
                                                         "emergency_phone": "13800000000"}, start=date(2025, 6, 1),
                         visit_interval_days=7)
    assert sp.details["living"] == "独居"
    svc.add_special(ctx, old.id, "disabled", {"disability_type": "肢体", "disability_grade": "二级"})
    with pytest.raises(ValidationError) as e:
        svc.add_special(ctx, old.id, "dibao", {"certificate_no": "DB001", "pension": 1})
    assert e.value.field == "pension"
    with pytest.raises(ValidationError) as e:
        svc.add_special(ctx, old.id, "left_behind", {"left_type": "留守青年"})
    assert e.value.field == "left_type"
    with pytest.raises(ValidationError) as e:
        svc.add_special(ctx, old.id, "unknown_group")
    assert e.value.field == "group"
    assert [s.id for s in svc.overdue_visits(ctx)] == [sp.id]     # due 06-08, today 06-16
