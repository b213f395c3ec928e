import dataclasses

import pytest
from pypdf import PdfReader
from sqlalchemy import select

import tests.testplugin as testplugin
from shell.contracts import ReportDefinition, ReportParameter
from shell.core import auth
from shell.core.models import AuditLog
from shell.core.reporting import available_reports, find_report, generate, parse_params
from shell.errors import NotFound, PermissionDenied, ValidationError
from shell.plugins import make_plugin_manager
from shell.testing import PluginSet


@pytest.fixture
def demo(tmp_path, sqlite_templates):
    """The demo street with the test plugin: a copy of the run's template."""
    pm = make_plugin_manager(builtins=(), extra=[testplugin], entry_points=False)
    db = sqlite_templates.open(tmp_path / "d.sqlite", PluginSet(builtins=(), extra=("tests.testplugin",)), demo=True,
                               pm=pm)
    yield db, pm
    db.dispose()


def test_listing_is_filtered_by_permission(demo):
    db, pm = demo
    worker = auth.login(db.session_factory, "grid_worker", "demo1234")      # has testplug.view
    street = auth.login(db.session_factory, "street_staff", "demo1234")     # does not
    assert [d.id for _p, d in available_reports(pm, worker)] == ["testplug.notes"]
    assert available_reports(pm, street) == []
    with pytest.raises(NotFound, match="nosuch"):
        find_report(pm, "nosuch")


def test_parse_params_says_what_is_wrong():
    d = ReportDefinition("x", "某台账", builder=lambda c, p: None, parameters=(
        ReportParameter("year", "年度", kind="year"),
        ReportParameter("month", "月份", kind="month", required=False),
        ReportParameter("kind", "类别", kind="choice", choices=(("a", "甲"), ("b", "乙")), default="a")))
    assert parse_params(d, {"year": "2026", "month": "2026-03"})["month"].month == 3
    assert parse_params(d, {"year": "2026"})["kind"] == "a"
    with pytest.raises(ValidationError, match="请填写报表参数“年度”"):
        parse_params(d, {})
    with pytest.raises(ValidationError, match="“年度”的值“二〇二六”格式不正确"):
        parse_params(d, {"year": "二〇二六"})
    with pytest.raises(ValidationError, match="可选：a（甲）、b（乙）"):
        parse_params(d, {"year": "2026", "kind": "c"})
    with pytest.raises(ValidationError, match="没有参数 colour"):
        parse_params(d, {"year": "2026", "colour": "red"})


def test_generate_pdf_and_xlsx_in_scope_and_audited(demo, tmp_path):
    import openpyxl

    db, pm = demo
    worker = auth.login(db.session_factory, "grid_worker", "demo1234")
    _p, d = find_report(pm, "testplug.notes")
    pdf = generate(db.session_factory, worker, d, parse_params(d, {}), tmp_path / "notes.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf.path).pages)
    assert "测试便签台账" in text and "第 1 页 共 1 页" in text
    assert pdf.rows == 1  # the grid worker sees the notes of their one grid only
    # without core.data.export a user prints ledgers but takes no Excel away; the grid worker's role has
    # it (issue 17: the lists of their own grid, masked), so the Excel holds their grid only
    assert "core.data.export" in worker.permissions
    bare = dataclasses.replace(worker, permissions=worker.permissions - {"core.data.export"})
    with pytest.raises(PermissionDenied):
        generate(db.session_factory, bare, d, {"year": 2026}, tmp_path / "notes.xlsx")
    xlsx = generate(db.session_factory, worker, d, {"year": 2026}, tmp_path / "notes.xlsx")
    assert xlsx.rows == 1 and openpyxl.load_workbook(xlsx.path).active.max_row >= 2
    with db.session_factory() as s:
        entries = list(s.scalars(select(AuditLog).where(AuditLog.entity == "testplug.notes")))
    assert [e.action for e in entries] == ["report", "report"] and entries[0].actor_name == "张网格"
    with pytest.raises(ValidationError, match=r"\.pdf 或 \.xlsx"):
        generate(db.session_factory, worker, d, {"year": 2026}, tmp_path / "notes.docx")


def test_generate_checks_permissions(demo, tmp_path):
    from reports import Column, LedgerSpec

    db, pm = demo
    street = auth.login(db.session_factory, "street_staff", "demo1234")
    _p, d = find_report(pm, "testplug.notes")
    with pytest.raises(PermissionDenied):
        generate(db.session_factory, street, d, {"year": 2026}, tmp_path / "x.pdf")
    full = ReportDefinition("full", "完整身份证号台账", builder=lambda c, p: LedgerSpec(
        "完整身份证号台账", "测试", "2026", [Column("身份证号", "*", mask="id")], rows=[("110101199003077777",)],
        mask_ids=False))
    with pytest.raises(PermissionDenied, match="查看完整身份证号码"):
        generate(db.session_factory, street, full, {}, tmp_path / "full.pdf")
    assert not (tmp_path / "full.pdf").exists()
    admin = auth.login(db.session_factory, "admin", "demo1234")
    generate(db.session_factory, admin, full, {}, tmp_path / "full.pdf")
    with db.session_factory() as s:
        assert s.scalar(select(AuditLog.action).where(AuditLog.entity == "full")) == "report_full_ids"
