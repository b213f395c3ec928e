"""shell.core.list_output on the demo street, SQLite and PostgreSQL: every row of a listing streamed
in its keyset order across pages (ascending and newest first), numbers in full in the workbook only
for a holder of core.personal.full_view (audited as export_full_ids), masked otherwise and always in
print, a cancelled export leaving no file and no audit entry."""
from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import func, select, text

from reports import Cancelled
from shell.core import list_output
from shell.core.list_output import ListColumn, ListRequest, export_list, iter_records, print_list
from shell.core.listing import Listing
from shell.core.models import AuditLog
from shell.testing import ALL_BUILTINS, demo_actor


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory, sqlite_templates):
    from shell.core.database import open_database
    from shell.plugins import make_plugin_manager

    path = sqlite_templates.copy(tmp_path_factory.mktemp("list_output") / "demo.sqlite", ALL_BUILTINS, demo=True)
    db = open_database(path, pm=make_plugin_manager(entry_points=False), backup=False)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def pg_demo(pg_templates):
    from shell.core.database import open_database
    from shell.plugins import make_plugin_manager

    with pg_templates.clone(ALL_BUILTINS, demo=True, prefix="jd_test_listout") as url:
        db = open_database(url, pm=make_plugin_manager(entry_points=False), backup=False)
        yield db
        db.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def demo(request):
    return request.getfixturevalue("sqlite_demo" if request.param == "sqlite" else "pg_demo")


def persons(actor, descending=False) -> Listing:
    from plugins.grid import services as svc
    from plugins.grid.models import Person

    listing = svc.persons_listing(actor, "")
    return Listing(listing.query, Person.id, descending=descending) if descending else listing


COLUMNS = (ListColumn("姓名", lambda p: p.name), ListColumn("公民身份号码", lambda p: p.id_number, personal="id"),
           ListColumn("联系电话", lambda p: p.phone, personal="phone"),
           ListColumn("出生日期", lambda p: p.birth_date, kind="date"))


def hand_ids(demo, path="/", descending=False):
    with demo.engine.connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT p.id FROM grid_persons p JOIN core_areas a ON a.id = p.area_id WHERE p.status = 'active' "
            "AND a.path LIKE :p ORDER BY p.id" + (" DESC" if descending else "")), {"p": path + "%"})]


def audit_count(ctx) -> int:
    return ctx.session.scalar(select(func.count()).select_from(AuditLog)) or 0


@pytest.mark.parametrize("descending", [False, True])
def test_every_row_streams_in_keyset_order_across_pages(demo, make_ctx, monkeypatch, descending):
    monkeypatch.setattr(list_output, "PAGE_ROWS", 7)
    ctx = make_ctx(demo, demo_actor(demo, "community_staff"))
    with demo.engine.connect() as conn:
        path = conn.execute(text("SELECT a.path FROM core_users u JOIN core_areas a ON a.id = u.area_id "
                                 "WHERE u.username = 'community_staff'")).scalar()
    expected = hand_ids(demo, path, descending)
    assert len(expected) > 7 * 3
    listing = persons(ctx.actor, descending)
    assert [p.id for p in iter_records(ctx.session, listing, page_size=7)] == expected
    assert [p.id for p in iter_records(ctx.session, listing, limit=10, page_size=7)] == expected[:10]


def test_full_numbers_only_with_full_view_and_audited_as_such(demo, make_ctx, tmp_path):
    from reports.masking import mask_id

    with demo.engine.connect() as conn:
        numbers = [r[0] for r in conn.execute(text(
            "SELECT id_number FROM grid_persons WHERE status = 'active' ORDER BY id"))]
    for role, full in (("admin", True), ("street_staff", False)):
        ctx = make_ctx(demo, demo_actor(demo, role))
        before = audit_count(ctx)
        request = ListRequest("实有人口", persons(ctx.actor), COLUMNS, "", entity="test.list", count_unit="人")
        out = tmp_path / f"{role}.xlsx"
        assert export_list(ctx, request, out) == len(numbers)
        ctx.session.commit()
        rows = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))[1:]
        assert [r[1] for r in rows] == (numbers if full else [mask_id(n) for n in numbers])
        entry = ctx.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
        assert audit_count(ctx) == before + 1
        assert entry.action == ("export_full_ids" if full else "export") and entry.entity == "test.list"
        assert f"{len(numbers)} 行" in entry.summary


def test_print_masks_for_everyone(demo, make_ctx, tmp_path):
    import pypdf

    from reports.masking import mask_id

    ctx = make_ctx(demo, demo_actor(demo, "admin"))
    first = ctx.session.execute(text("SELECT id_number FROM grid_persons WHERE status = 'active' ORDER BY id")).scalar()
    request = ListRequest("实有人口", persons(ctx.actor), COLUMNS, "搜索“张”", entity="test.list", count_unit="人")
    result = print_list(ctx, request, tmp_path / "list.pdf")
    ctx.session.commit()
    printed = "\n".join(p.extract_text() for p in pypdf.PdfReader(str(tmp_path / "list.pdf")).pages)
    assert result.pages > 1 and mask_id(first) in printed and first not in printed
    assert "筛选：搜索“张”" in printed
    entry = ctx.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert entry.action == "print" and f"{result.rows} 行" in entry.summary


def test_cancelled_export_leaves_no_file_and_no_entry(demo, make_ctx, tmp_path):
    ctx = make_ctx(demo, demo_actor(demo, "street_staff"))
    before = audit_count(ctx)
    request = ListRequest("实有人口", persons(ctx.actor), COLUMNS)
    out = tmp_path / "cancelled.xlsx"
    with pytest.raises(Cancelled):
        export_list(ctx, request, out, cancel=lambda: True)
    assert list(tmp_path.iterdir()) == [] and audit_count(ctx) == before
