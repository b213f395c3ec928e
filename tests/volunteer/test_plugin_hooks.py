"""The volunteer plugin through its hooks: migration = models, permissions/roles/settings, search,
demo data, reports (PDF and XLSX through the shell's generate), Excel import/export."""
from __future__ import annotations

from datetime import UTC, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from plugins.volunteer import services as sv
from plugins.volunteer.models import Certificate, Volunteer
from reports.masking import mask_id
from shell.contracts import ImportResult
from shell.core import auth
from shell.core.context import Actor, AppContext, ServiceContext
from shell.core.reporting import find_report, generate, parse_params
from shell.db.base import Base
from shell.errors import PermissionDenied
from shell.plugins import call_each, plugin_status

from .conftest import T0, actor_for, id_number, make_pm


def test_hook_plugin_info_and_loading(vpm):
    st = {s.name: s for s in plugin_status(vpm)}
    assert st["volunteer"].state == "loaded" and st["volunteer"].title == "志愿服务"


def test_plugin_module_is_light():
    import subprocess
    import sys

    code = ("import sys, plugins.volunteer; bad=[m for m in ('sqlalchemy.orm','PySide6','plugins.volunteer.services',"
            "'reports.pdf','openpyxl') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_hook_register_migrations_matches_models(vdb):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    def ours(obj, name, type_, reflected, compare_to):
        # v0004's pattern_ops indexes exist on PostgreSQL only (declared with ddl_if in the models).
        wanted = getattr(obj, "info", {}).get("dialect")
        if wanted is not None and wanted != vdb.engine.dialect.name:
            return False
        return type_ != "table" or name.startswith("volunteer_")

    with vdb.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": ours})
        diff = compare_metadata(mc, Base.metadata)
    assert diff == []
    from sqlalchemy import inspect

    pattern = {f"ix_volunteer_volunteers_{c}_pattern" for c in ("id_number", "phone", "initials", "number")}
    indexes = {ix["name"] for ix in inspect(vdb.engine).get_indexes("volunteer_volunteers")}
    assert (pattern <= indexes) if vdb.engine.dialect.name == "postgresql" else not (pattern & indexes)
    assert {b.label for _n, b in call_each(make_pm(), "register_migrations")} == {"volunteer"}


def test_hook_permissions_roles_settings(vdb):
    perms = auth.collect_permissions(make_pm())
    assert perms["volunteer.redeem"] == "爱心超市积分兑换与撤销"
    roles = {t.name: t for t in auth.collect_role_templates(make_pm())}
    assert "volunteer.approve" in roles["community_staff"].permissions
    assert set(roles["volunteer_admin"].permissions) >= {"volunteer.redeem", "volunteer.store.manage"}
    from shell.core import settings

    defs = settings.definitions(make_pm())
    assert defs["volunteer.points_per_hour"].default == 1
    with vdb.session_factory() as s:
        from shell.core.models import Role

        assert s.scalar(select(Role).where(Role.name == "volunteer_admin")) is not None


def test_hook_register_search(vdb, areas, clock):
    (_, _), (c1, p1), (c2, _p2) = areas
    with vdb.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        sv.register_volunteer(ctx, name="王小明", id_number=id_number(), area_id=c1, phone="13811112222")
        sv.register_volunteer(ctx, name="王大明", id_number=id_number(seq=125), area_id=c2)
        s.commit()
    app = AppContext(vdb.session_factory, Actor.system(), make_pm())
    hits = [r for _n, r in call_each(app.plugin_manager, "register_search", ctx=app, text="wxm")]
    assert [h.title for h in hits] == ["王小明"] and "****" in hits[0].subtitle and hits[0].kind == "volunteer.volunteer"
    limited = AppContext(vdb.session_factory, actor_for(p1, "volunteer.view"), make_pm())
    assert [r.title for _n, r in call_each(limited.plugin_manager, "register_search", ctx=limited, text="王")] == ["王小明"]
    nobody = AppContext(vdb.session_factory, actor_for(p1), make_pm())
    assert list(call_each(nobody.plugin_manager, "register_search", ctx=nobody, text="王")) == []
    assert app.plugin_manager.hook.open_record(ctx=app, kind="volunteer.volunteer", id=1) is None


def test_hook_seed_demo(tmp_path, sqlite_templates):
    # The run's volunteer demo template, made by create_demo: building it fails on any seed error.
    from .conftest import VOLUNTEER

    db = sqlite_templates.open(tmp_path / "demo.sqlite", VOLUNTEER, demo=True, pm=make_pm())
    try:
        assert db.is_demo
        with db.session_factory() as s:
            assert s.scalar(select(func.count()).select_from(Volunteer)) >= 60
            assert sv.check_consistency(s) == []
            ctx = ServiceContext(s, Actor.system())
            assert sv.pending_approvals(ctx)  # the last week's activities wait for approval
            assert sum(sv.account(ctx, v.id)[1] for v in s.scalars(select(Volunteer))) > 0
            # 积分兑换台账 (issue 18 §2): every order has its handler, none is dated after today
            from datetime import datetime

            from plugins.volunteer.models import RedemptionOrder

            orders = s.execute(select(RedemptionOrder.at, RedemptionOrder.handled_by)).all()
            assert orders and all(h is not None for _at, h in orders)
            now = datetime.now(UTC)
            assert max((at if at.tzinfo else at.replace(tzinfo=UTC)) for at, _h in orders) <= now
            first = min(at for at, _h in orders)
        _plugin, definition = find_report(make_pm(), "volunteer.redemptions")
        out = tmp_path / "orders.xlsx"
        params = parse_params(definition, {"month_from": f"{first:%Y-%m}", "month_to": f"{now:%Y-%m}"})
        generate(db.session_factory, Actor.system(), definition, params, out)
        import openpyxl

        rows = [r for r in openpyxl.load_workbook(out, read_only=True).active.iter_rows(values_only=True)]
        header = next(r for r in rows if r and r[0] == "单号")
        body = [r for r in rows if r and str(r[0]).isdigit()]
        handler, points = header.index("经办人"), header.index("积分")
        assert len(body) == len(orders) and all(r[handler] and r[handler] != "（未记录）" for r in body)
        total = next(r for r in rows if r and r[0] == "合计")
        assert total[points] == sum(r[points] for r in body) and total[1] == f"{len(body)} 单"
    finally:
        db.dispose()


@pytest.fixture
def reporting_db(vol_sqlite, clock):
    from .conftest import seed_areas

    (_, _), (c1, _), _ = seed_areas(vol_sqlite)
    with vol_sqlite.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), clock)
        v = sv.register_volunteer(ctx, name="张三", id_number=id_number(), area_id=c1, phone="13800001111")
        team = sv.create_team(ctx, name="银龄互助队", area_id=c1)
        a = sv.create_activity(ctx, name="敬老院陪伴", area_id=c1, team_id=team.id, starts_at=T0,
                               ends_at=T0 + timedelta(hours=3), place="敬老院", content="陪伴聊天", cap_minutes=0,
                               points_per_hour=10)
        clock.now = T0 + timedelta(hours=2)
        att = sv.record_attendance(ctx, a.id, v.id, T0, T0 + timedelta(hours=2))
        sv.approve(ctx, [att.id])
        item = sv.create_item(ctx, name="大米", area_id=c1, points_price=5, stock=10)
        sv.redeem(ctx, v.id, {item.id: 1})
        s.commit()
        return vol_sqlite, v.number


@pytest.mark.parametrize("report_id,params,suffix", [
    ("volunteer.statement", {"number": None, "month_from": "2026-05"}, ".pdf"),
    ("volunteer.roster", {}, ".xlsx"),
    ("volunteer.roster", {}, ".pdf"),
    ("volunteer.hours", {"year": "2026", "group": "team"}, ".pdf"),
    ("volunteer.hours", {"year": "2026", "group": "month"}, ".xlsx"),
    ("volunteer.hours", {"year": "2026", "group": "community"}, ".xlsx"),
    ("volunteer.redemptions", {"month_from": "2026-05"}, ".pdf"),
    ("volunteer.stock", {"month_from": "2026-05"}, ".xlsx"),
    ("volunteer.activities", {"month_from": "2026-05"}, ".pdf"),
    ("volunteer.activities", {"month_from": "2026-05"}, ".xlsx"),
    ("volunteer.stars", {}, ".xlsx"),
])
def test_hook_register_reports_ledgers(reporting_db, tmp_path, report_id, params, suffix):
    db, number = reporting_db
    _plugin, definition = find_report(make_pm(), report_id)
    params = {k: (number if v is None else v) for k, v in params.items()}
    out = tmp_path / f"r{suffix}"
    result = generate(db.session_factory, Actor.system(), definition, parse_params(definition, params), out)
    assert out.exists() and result.rows >= 1


def test_hours_statistics_values(reporting_db):
    db, _number = reporting_db
    _p, definition = find_report(make_pm(), "volunteer.hours")
    with db.session_factory() as s:
        spec = definition.builder(ServiceContext(s, Actor.system()), {"year": 2026, "group": "team"})
        assert list(spec.rows) == [("银龄互助队", 1, 1, "2", "2")]


def test_certificate_numbers_are_never_reused(reporting_db, tmp_path):
    db, number = reporting_db
    _p, definition = find_report(make_pm(), "volunteer.certificate")
    for i in range(2):
        generate(db.session_factory, Actor.system(), definition, parse_params(definition, {"number": number}),
                 tmp_path / f"c{i}.pdf")
    with db.session_factory() as s:
        numbers = list(s.scalars(select(Certificate.number).order_by(Certificate.id)))
        assert len(numbers) == len(set(numbers)) == 2 and numbers[0].startswith("ZYFW")
        # A failed generation (rolled back) never hands its number to anyone else.
        ctx = ServiceContext(s, Actor.system())
        sv.issue_certificate(ctx, s.scalar(select(Volunteer.id)))
        s.rollback()
        cert, _services = sv.issue_certificate(ctx, s.scalar(select(Volunteer.id)))
        assert cert.number not in numbers
    limited = actor_for("/1/", "volunteer.view")
    with pytest.raises(PermissionDenied):
        generate(db.session_factory, limited, definition, parse_params(definition, {"number": number}), tmp_path / "x.pdf")


def test_certificate_document_content(reporting_db):
    db, number = reporting_db
    _p, definition = find_report(make_pm(), "volunteer.certificate")
    with db.session_factory() as s:
        doc = definition.builder(ServiceContext(s, Actor.system()), {"number": number})
        assert doc.title == "志愿服务证明" and doc.number.startswith("ZYFW")
        assert ("志愿者编号", number) in doc.fields and "2 小时" in doc.body[0]
        assert doc.items.rows[0][1] == "敬老院陪伴"


# ---------------------------------------------------------------- importers

def _xlsx(path, rows):
    from openpyxl import Workbook

    from plugins.volunteer.importers import COLUMNS

    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for r in rows:
        ws.append(r)
    wb.save(path)


def test_hook_register_importers(vdb, areas, tmp_path, clock):
    (_, _), (c1, p1), _ = areas
    (_n, definition), = [x for x in call_each(make_pm(), "register_importers") if x[1].kind == "volunteer-volunteers"]
    good = ["", "李四", id_number(seq=125), "男", "1990-01-01", "13800001111", "和平里社区", "理发、助老", "", "2024-05-01",
            "在册"]
    bad_id = ["", "王五", "330102199001011239", "", "", "", "和平里社区", "", "", "", "在册"]
    dup = ["", "李四二", id_number(seq=125), "", "", "", "幸福苑社区", "", "", "", "在册"]
    nowhere = ["V9", "赵六", id_number(seq=127), "女", "", "123", "不存在社区", "", "", "", "离开"]
    path = tmp_path / "v.xlsx"
    _xlsx(path, [good, bad_id, dup, [None] * 11, nowhere])
    with vdb.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), clock)
        result = definition.import_fn(ctx, path, False)
        assert isinstance(result, ImportResult) and result.total_rows == 4 and result.valid_rows == 1
        assert result.written == 0 and s.scalar(select(func.count()).select_from(Volunteer)) == 0
        errs = {(e.row, e.column) for e in result.errors}
        assert {(3, "身份证号"), (4, "身份证号"), (6, "性别"), (6, "所属社区"), (6, "联系电话"), (6, "状态")} <= errs
        assert "校验位" in str(next(e for e in result.errors if e.row == 3))
        result = definition.import_fn(ctx, path, True)
        assert result.written == 1
        s.commit()
        out = tmp_path / "out.xlsx"
        assert definition.export_fn(ctx, out) == 1
        # Without core.personal.full_view the export goes out with the ID number masked.
        limited = ServiceContext(s, actor_for(p1, "volunteer.view", "volunteer.manage"), clock)
        assert definition.export_fn(limited, tmp_path / "x.xlsx") == 1
        cells = [c for row in openpyxl.load_workbook(tmp_path / "x.xlsx").active.iter_rows(values_only=True) for c in row]
        assert id_number(seq=125) not in cells and mask_id(id_number(seq=125)) in cells
    # The export re-imports as duplicates only (round trip of the columns).
    with vdb.session_factory() as s:
        r = definition.import_fn(ServiceContext(s, Actor.system(), clock), out, False)
        assert r.total_rows == 1 and {e.column for e in r.errors} == {"身份证号", "志愿者编号"}
    definition.template_fn(tmp_path / "t.xlsx")
    assert (tmp_path / "t.xlsx").exists()
