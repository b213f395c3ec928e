"""One-record documents: a volunteer service certificate (志愿服务证明)."""
from __future__ import annotations

import datetime

from pypdf import PdfReader

from reports.pdf import render_document
from reports.spec import Column, DocumentSpec, ItemsTable


def certificate(**kw):
    base = dict(
        title="志愿服务证明", number="ZYFW-2024-000123", unit_name="北京市朝阳区呼家楼街道",
        fields=[("姓名", "张晓梅"), ("性别", "女"), ("身份证号", "1101**********1234"),
                ("志愿者编号", "BJ2019-0456"), ("服务组织", "新时代文明实践所"), ("累计时长", "126.5 小时")],
        body=["兹证明张晓梅同志自2019年3月起在我街道参加志愿服务活动，累计服务时长126.5小时，特此证明。"],
        items=ItemsTable(columns=[Column("日期", 28, "center"), Column("活动名称", "*"), Column("时长", 24, "right")],
                         rows=[("2024-03-05", "学雷锋日社区环境整治", 3.5), ("2024-04-12", "独居老人入户探访", 2)],
                         title="近期服务记录"),
        issuer=("北京市朝阳区呼家楼街道办事处",), signature=("经办人",), date=datetime.date(2024, 6, 18))
    base.update(kw)
    return DocumentSpec(**base)


def test_certificate_renders_number_fields_and_signature_block(tmp_path):
    out = tmp_path / "cert.pdf"
    res = render_document(certificate(), out)
    reader = PdfReader(str(out))
    assert res.pages == len(reader.pages) == 1
    text = reader.pages[0].extract_text().replace("\n", "")
    compact = text.replace(" ", "")
    assert "志愿服务证明" in compact
    assert "ZYFW-2024-000123" in text
    for label, value in certificate().fields:
        assert label in compact and str(value).replace(" ", "") in compact
    for s in ("经办人", "北京市朝阳区呼家楼街道办事处", "盖章", "2024年6月18日", "学雷锋日社区环境整治", "兹证明张晓梅同志"):
        assert s in compact, s
    page = reader.pages[0]
    assert float(page.mediabox.width) < float(page.mediabox.height)
    fonts = page["/Resources"]["/Font"]
    assert any("/FontFile2" in f.get_object()["/FontDescriptor"].get_object()
               for f in fonts.values() if "/FontDescriptor" in f.get_object())


def test_minimal_document_without_items_or_date(tmp_path):
    out = tmp_path / "letter.pdf"
    render_document(DocumentSpec(title="党员组织关系介绍信", number="(2024)第015号",
                                 body=["兹介绍李明同志（中共正式党员）的组织关系由我处转去你处，请接洽。"],
                                 issuer="中共某某街道工作委员会"), out)
    text = PdfReader(str(out)).pages[0].extract_text().replace(" ", "").replace("\n", "")
    assert "党员组织关系介绍信" in text and "第015号" in text and "年月日" in text.replace("\u3000", "")


def _records(n):
    return [(f"2024-{1 + k % 12:02d}-{1 + k % 28:02d}", f"社区志愿服务活动第{k + 1}场", 2) for k in range(n)]


def test_a_certificate_that_fits_one_sheet_is_printed_on_one_sheet(tmp_path):
    """Issue 18: issuer, seal and date went alone to page 2 with room left on page 1 (the closing
    block was wider than the frame, so KeepTogether never fitted it); and a long record list is
    brought onto the sheet by tighter spacing before the font shrinks."""
    for n in (2, 14, 24):
        out = tmp_path / f"cert{n}.pdf"
        res = render_document(certificate(items=ItemsTable(columns=certificate().items.columns,
                                                            rows=_records(n), title="服务记录")), out)
        reader = PdfReader(str(out))
        assert res.pages == len(reader.pages) == 1, n
        text = reader.pages[0].extract_text().replace(" ", "")
        assert "盖章" in text and "2024年6月18日" in text and f"第{n}场" in text
        assert "第1页" not in text  # a one-page document carries no page numbers


def test_a_document_that_cannot_fit_is_numbered_and_keeps_the_seal_with_the_last_paragraph(tmp_path):
    out = tmp_path / "long.pdf"
    res = render_document(certificate(items=ItemsTable(columns=certificate().items.columns,
                                                        rows=_records(90), title="服务记录"),
                                      notes=("本证明仅用于升学、评优。",)), out)
    reader = PdfReader(str(out))
    assert res.pages == len(reader.pages) > 1
    texts = [p.extract_text().replace(" ", "") for p in reader.pages]
    for k, t in enumerate(texts, 1):
        assert f"第{k}页共{res.pages}页" in t
    assert "盖章" in texts[-1] and "2024年6月18日" in texts[-1]
    assert "本证明仅用于升学" in texts[-1]  # the paragraph before the seal stays with it
    assert all("盖章" not in t for t in texts[:-1])
