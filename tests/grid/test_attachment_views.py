"""The attachment panel of the event detail, through the real buttons: a large photo is shrunk to
1600 px JPEG before upload and shows as a thumbnail, a refused file names the reason, 另存为 writes
the same bytes back, 打开 hands a temporary copy to the system viewer, 删除 asks first, and a
finished event offers no add or delete."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QImageReader
from PySide6.QtWidgets import QFileDialog, QMessageBox

from plugins.grid import services as svc
from plugins.grid.views import attachments as attachments_view
from plugins.grid.views.events import EventDialog
from shell.core.context import AppContext

from .conftest import actor, make_pm


@pytest.fixture
def app(stree, grid_sqlite):
    return AppContext(grid_sqlite.session_factory, actor(stree.street, name="王街道"), make_pm())


@pytest.fixture
def event_id(app, stree):
    with app.service() as ctx:
        cat = svc.list_categories(ctx)[1]
        return svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title="消防通道被占",
                                description="5号楼消防通道停放电动车").id


def _photo(path: Path, w=4000, h=3000, color="#3c9a5f") -> Path:
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    assert image.save(str(path), "JPG", 95)
    return path


def test_add_photo_shrinks_and_shows_thumbnail(qtbot, app, event_id, tmp_path, monkeypatch):
    photo = _photo(tmp_path / "现场.jpg")
    notes = tmp_path / "说明.txt"
    notes.write_text("楼道内堆放杂物，已拍照。", encoding="utf-8")
    bad = tmp_path / "病毒.exe"
    bad.write_bytes(b"MZ")
    dialog = EventDialog(app, event_id)
    qtbot.addWidget(dialog)
    panel = dialog.attachments
    assert panel.title.text() == "附件：暂无" and not panel.add_button.isHidden()
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *a, **k: ([str(photo), str(notes), str(bad)], ""))
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert panel.list.count() == 2 and panel.title.text() == "附件（2）："
    assert "“病毒.exe”的类型（.exe）不能作为附件" in panel.message.text()
    texts = [panel.list.item(i).text() for i in range(2)]
    assert texts[0].startswith("现场.jpg\n") and texts[1].startswith("说明.txt\n")
    # the photo is a thumbnail (its own picture), the text file the file icon
    icon = panel.list.item(0).icon().pixmap(96, 96).toImage()
    assert icon.pixelColor(icon.width() // 2, icon.height() // 2).green() > 120
    with app.service(commit=False) as ctx:
        row, data = svc.attachment_data(ctx, svc.list_attachments(ctx, event_id)[0].id)
    stored = tmp_path / "stored.jpg"
    stored.write_bytes(data)
    size = QImageReader(str(stored)).size()
    assert (size.width(), size.height()) == (1600, 1200) and row.mime == "image/jpeg"
    assert row.size < photo.stat().st_size
    # 另存为 writes the same bytes; 打开 hands a temporary copy to the system viewer
    panel.list.setCurrentRow(1)
    target = tmp_path / "导出" / "说明-副本.txt"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert target.read_text(encoding="utf-8") == "楼道内堆放杂物，已拍照。"
    opened = []
    monkeypatch.setattr(attachments_view.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))   # the copy for the viewer goes under the test's folder
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    assert len(opened) == 1 and Path(opened[0]).name == "说明.txt" and Path(opened[0]).is_relative_to(tmp_path)
    assert Path(opened[0]).read_text(encoding="utf-8") == "楼道内堆放杂物，已拍照。"
    # 删除 asks; "No" keeps it, "Yes" removes it (王街道 manages categories, so may delete)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert panel.list.count() == 2
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert panel.list.count() == 1 and panel.title.text() == "附件（1）："


def test_small_png_kept_and_transparent_large_png_on_white(qtbot, tmp_path):
    small = tmp_path / "小图.png"
    img = QImage(300, 200, QImage.Format.Format_ARGB32)
    img.fill(QColor(0, 0, 0, 0))
    img.save(str(small), "PNG")
    name, data = attachments_view.prepare_upload(small)
    assert name == "小图.png" and data == small.read_bytes()
    big = tmp_path / "大图.png"
    img = QImage(3200, 800, QImage.Format.Format_ARGB32)
    img.fill(QColor(0, 0, 0, 0))
    img.save(str(big), "PNG")
    name, data = attachments_view.prepare_upload(big)
    out = QImage()
    assert name == "大图.jpg" and out.loadFromData(data)
    assert (out.width(), out.height()) == (1600, 400)
    assert out.pixelColor(10, 10).lightness() > 240     # white, not black


def test_finished_event_keeps_attachments_read_only(qtbot, app, event_id, tmp_path, monkeypatch):
    with app.service() as ctx:
        svc.add_attachment(ctx, event_id, "证据.pdf", b"%PDF-1.4 test")
        svc.transition(ctx, event_id, "reject", "重复上报")
    dialog = EventDialog(app, event_id)
    qtbot.addWidget(dialog)
    panel = dialog.attachments
    assert panel.list.count() == 1
    assert panel.add_button.isHidden() and panel.delete_button.isHidden()
    panel.list.setCurrentRow(0)
    assert panel.save_button.isEnabled() and panel.open_button.isEnabled()


def test_worker_cannot_delete_someone_elses_attachment(qtbot, app, event_id, stree, grid_sqlite):
    with app.service() as ctx:
        svc.add_attachment(ctx, event_id, "证据.pdf", b"%PDF-1.4 test")
    worker = AppContext(grid_sqlite.session_factory,
                        actor(stree.g11, codes={"grid.view", "grid.event.report", "grid.event.handle"}, user_id=None),
                        make_pm())
    dialog = EventDialog(worker, event_id)
    qtbot.addWidget(dialog)
    panel = dialog.attachments
    panel.list.setCurrentRow(0)
    assert not panel.add_button.isHidden() and not panel.delete_button.isEnabled()
