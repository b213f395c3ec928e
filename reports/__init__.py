"""Printed ledgers (台账), statements and certificates: a spec in, a PDF or XLSX out. No Qt here.

    from reports import Column, LedgerSpec, render_pdf, render_xlsx
    spec = LedgerSpec(title="实有人口登记台账", unit_name="某某街道办事处", period="2024年5月",
                      columns=[Column("姓名", 18), Column("身份证号", 40, mask="id"), Column("现住址", "*")],
                      rows=query_rows(), orientation="landscape")
    render_pdf(spec, "ledger.pdf", progress=cb, cancel=is_cancelled)

Dates in one style: ``cn_date(d)`` → 2026年12月3日, ``cn_period(start, end)`` → 2026年12月1日至12月31日,
``as_of(d)`` → 截至2026年12月3日 (a snapshot; the header prints any other period as 统计期间：…).
The unit and the printed scope come from ``shell.core.reporting.heading(ctx, area, party=…)``.
"""
import importlib

# Loaded on first use (PEP 562): ReportLab and openpyxl take ≈0.2 s and ≈0.6 s to import, and a page
# that only masks an ID number (reports.masking) must not pay for them on the GUI thread.
_WHERE = {
    "FontInfo": "fonts", "FontNotFound": "fonts", "find_cjk_font": "fonts", "register_fonts": "fonts",
    "mask_id": "masking", "mask_phone": "masking",
    "Cancelled": "pdf", "RenderResult": "pdf", "render_document": "pdf", "render_pdf": "pdf",
    "Column": "spec", "DocPart": "spec", "DocumentSpec": "spec", "ItemsTable": "spec", "LedgerSpec": "spec",
    "render_xlsx": "xlsx",
    "cn_date": "spec", "cn_period": "spec", "as_of": "spec", "period_label": "spec",
}

__all__ = [
    "Column", "LedgerSpec", "DocumentSpec", "DocPart", "ItemsTable", "render_pdf", "render_document",
    "render_xlsx", "RenderResult", "Cancelled", "FontNotFound", "FontInfo", "find_cjk_font",
    "register_fonts", "mask_id", "mask_phone", "cn_date", "cn_period", "as_of", "period_label",
]


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'reports' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
