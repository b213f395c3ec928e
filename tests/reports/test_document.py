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
