"""Printed ledgers (台账), statements and certificates: a spec in, a PDF or XLSX out. No Qt here.

    from reports import Column, LedgerSpec, render_pdf, render_xlsx
    spec = LedgerSpec(title="实有人口登记台账", unit_name="某某街道办事处", period="2024年5月",
                      columns=[Column("姓名", 18), Column("身份证号", 40, mask="id"), Column("现住址", "*")],
                      rows=query_rows(), orientation="landscape")
    render_pdf(spec, "ledger.pdf", progress=cb, cancel=is_cancelled)
"""
from .fonts import FontInfo, FontNotFound, find_cjk_font, register_fonts
from .masking import mask_id, mask_phone
from .pdf import Cancelled, RenderResult, render_document, render_pdf
from .spec import Column, DocumentSpec, ItemsTable, LedgerSpec
from .xlsx import render_xlsx

__all__ = [
    "Column", "LedgerSpec", "DocumentSpec", "ItemsTable", "render_pdf", "render_document",
    "render_xlsx", "RenderResult", "Cancelled", "FontNotFound", "FontInfo", "find_cjk_font",
    "register_fonts", "mask_id", "mask_phone",
]
