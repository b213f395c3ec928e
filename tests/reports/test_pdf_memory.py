"""Finished ledger pages do not stay in memory: each page's content stream is compressed as soon
as the page is closed and kept in a temporary file until the PDF is written."""
from __future__ import annotations

import zlib

from pypdf import PdfReader
from reportlab import rl_config
from reportlab.pdfgen import canvas as rl_canvas

import reports.pdf as pdf
from reports.pdf import render_pdf

from .conftest import make_spec, page_texts


def test_pages_are_spooled_before_save(tmp_path, monkeypatch):
    held = []
    real_save = rl_canvas.Canvas.save

    def save(self):
        for page in self._doc.Pages.pages:
            held.append((page.stream, type(page.Contents)))
        return real_save(self)

    monkeypatch.setattr(rl_canvas.Canvas, "save", save)
    out = tmp_path / "ledger.pdf"
    res = render_pdf(make_spec(300), out)
    assert len(held) == res.pages >= 5
    assert all(stream is None for stream, _ in held), "an uncompressed page stream was kept in memory"
    assert {kind for _, kind in held} == {pdf._SpooledStream}
    texts = page_texts(out)
    assert all(f"第 {i} 页 共 {res.pages} 页" in t for i, t in enumerate(texts, start=1))


def test_spooled_output_is_identical_to_reportlab_page_compression(tmp_path, monkeypatch):
    monkeypatch.setattr(rl_config, "invariant", 1)  # fixed dates and IDs: byte-comparable files
    spooled, plain = tmp_path / "spooled.pdf", tmp_path / "plain.pdf"
    render_pdf(make_spec(120), spooled)
    monkeypatch.setattr(pdf, "_spool_last_page", lambda doc, spool: None)
    render_pdf(make_spec(120), plain)
    assert spooled.read_bytes() == plain.read_bytes()


def test_page_streams_are_flate_compressed(tmp_path):
    out = tmp_path / "ledger.pdf"
    render_pdf(make_spec(60), out)
    page = PdfReader(str(out)).pages[0]
    contents = page["/Contents"].get_object()
    assert contents["/Filter"] in ("/FlateDecode", ["/FlateDecode"])
    raw = contents._data  # still encoded
    assert b"Tm" in zlib.decompress(raw) and b"Tm" not in raw
