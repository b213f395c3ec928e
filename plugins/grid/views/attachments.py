"""The attachment panel of the event detail: thumbnails of the photos, icons for the files, and
添加附件 / 打开 / 另存为 / 删除. Photos are shrunk here (QImage, long side IMAGE_MAX_SIDE, JPEG) before
they reach the service, which keeps the bytes in the database and checks type, size and rights."""
from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QIcon, QImage, QImageReader, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from shell.clock import format_local
from shell.errors import JiedaoError

from .. import services as svc
from ..rules import IMAGE_MAX_SIDE

THUMB = 72
ID_ROLE = Qt.ItemDataRole.UserRole
# Pictures the desktop shrinks; GIFs stay as they are (they may be animated).
SHRINK_EXTS = {".jpg", ".jpeg", ".png", ".bmp"}
FILE_FILTER = ("照片和文件 (*.jpg *.jpeg *.png *.gif *.bmp *.pdf *.ofd *.doc *.docx *.wps *.xls *.xlsx *.et "
               "*.txt *.mp3 *.m4a *.amr *.mp4);;所有文件 (*)")


def _jpeg(image: QImage, quality: int = 85) -> bytes:
    if image.hasAlphaChannel():   # JPEG has no transparency: put the picture on white, not black
        flat = QImage(image.size(), QImage.Format.Format_RGB32)
        flat.fill(QColor("white"))
        painter = QPainter(flat)
        painter.drawImage(0, 0, image)
        painter.end()
        image = flat
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPG", quality)
    buffer.close()
    return bytes(data)


def prepare_upload(path: Path, max_side: int = IMAGE_MAX_SIDE) -> tuple[str, bytes]:
    """(name, bytes) to upload. A photo larger than ``max_side`` (or a BMP) becomes a JPEG whose long
    side is ``max_side``, turned upright from its EXIF orientation; anything else goes as it is."""
    path = Path(path)
    if path.suffix.lower() in SHRINK_EXTS:
        reader = QImageReader(str(path))
        reader.setAutoTransform(True)
        size = reader.size()
        if size.isValid() and (max(size.width(), size.height()) > max_side or path.suffix.lower() == ".bmp"):
            image = reader.read()
            if not image.isNull():
                if max(image.width(), image.height()) > max_side:
                    image = image.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation)
                return path.stem + ".jpg", _jpeg(image)
    return path.name, path.read_bytes()


def thumbnail(data: bytes, side: int = THUMB) -> QPixmap | None:
    image = QImage()
    if not image.loadFromData(data):
        return None
    return QPixmap.fromImage(image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))


class AttachmentPanel(QWidget):
    """Attachments of one event. ``reload(status)`` after the event changed (a finished event keeps
    its attachments and offers no add or delete)."""

    def __init__(self, app_ctx, event_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.event_id = event_id
        self.setObjectName("grid-attachments")
        self.rows: dict[int, svc.AttachmentRow] = {}
        self.status = ""
        self.last_dir = str(Path.home())
        self.list = QListWidget(self)
        self.list.setObjectName("attachment-list")
        # One row per attachment: the thumbnail (or file icon), then name, size and who uploaded it.
        self.list.setIconSize(QSize(THUMB, THUMB * 3 // 4))
        self.list.setUniformItemSizes(True)
        self.list.setSpacing(2)
        self.list.setWordWrap(True)
        self.list.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.add_button = QPushButton("添加附件…", self)
        self.add_button.setObjectName("attachment-add")
        self.add_button.clicked.connect(self.choose_files)
        self.open_button = QPushButton("打开", self)
        self.open_button.setObjectName("attachment-open")
        self.open_button.clicked.connect(self.open_selected)
        self.save_button = QPushButton("另存为…", self)
        self.save_button.setObjectName("attachment-save")
        self.save_button.clicked.connect(self.save_selected)
        self.delete_button = QPushButton("删除", self)
        self.delete_button.setObjectName("attachment-delete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.title = QLabel("附件：", self)
        self.message = QLabel(self)
        self.message.setObjectName("attachment-message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.hide()
        buttons = QHBoxLayout()
        for b in (self.add_button, self.open_button, self.save_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

    # --- showing ---------------------------------------------------------------------------------
    def reload(self, status: str | None = None) -> None:
        if status is not None:
            self.status = status
        file_icon = self._file_icon()
        items = []
        with self.app_ctx.service(commit=False) as ctx:
            rows = svc.list_attachments(ctx, self.event_id)
            for r in rows:
                icon = file_icon
                if r.is_image:
                    try:
                        pixmap = thumbnail(svc.attachment_data(ctx, r.id)[1])
                    except JiedaoError:
                        pixmap = None
                    if pixmap is not None:
                        icon = QIcon(pixmap)
                items.append((r, icon))
        current = self.selected_id()
        self.rows = {r.id: r for r in rows}
        self.list.clear()
        for r, icon in items:
            item = QListWidgetItem(icon, f"{r.name}\n{svc.format_size(r.size)} · {r.uploaded_by_name} · "
                                         f"{format_local(r.uploaded_at)[:10]}")
            item.setData(ID_ROLE, r.id)
            item.setToolTip(f"{r.name}\n{svc.format_size(r.size)}，{r.uploaded_by_name} 于 "
                            f"{format_local(r.uploaded_at)} 上传\nSHA-256 {r.sha256[:16]}…")
            self.list.addItem(item)
            if r.id == current:
                self.list.setCurrentItem(item)
        self.title.setText(f"附件（{len(rows)}）：" if rows else "附件：暂无")
        self._update_buttons()

    def _file_icon(self) -> QIcon:
        """The system file icon centred on a thumbnail-sized canvas, so names line up under photos."""
        w, h = THUMB, THUMB * 3 // 4
        canvas = QPixmap(w, h)
        canvas.fill(Qt.GlobalColor.transparent)
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon).pixmap(h - 8, h - 8)
        painter = QPainter(canvas)
        painter.drawPixmap((w - icon.width()) // 2, (h - icon.height()) // 2, icon)
        painter.end()
        return QIcon(canvas)

    def finished(self) -> bool:
        return self.status in ("closed", "rejected")

    def _update_buttons(self) -> None:
        actor = self.app_ctx.actor
        chosen = self.selected_id() is not None
        self.add_button.setVisible(svc.can_attach(actor) and not self.finished())
        self.open_button.setEnabled(chosen)
        self.save_button.setEnabled(chosen)
        row = self.rows.get(self.selected_id()) if chosen else None
        may_delete = row is not None and not self.finished() and (
            actor.can(svc.P_CATEGORY) or (row.uploaded_by is not None and row.uploaded_by == actor.user_id))
        self.delete_button.setVisible(not self.finished() and svc.can_attach(actor))
        self.delete_button.setEnabled(may_delete)

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(ID_ROLE) if item is not None else None

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # --- actions ---------------------------------------------------------------------------------
    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "添加附件", self.last_dir, FILE_FILTER)
        if paths:
            self.last_dir = str(Path(paths[0]).parent)
            self.add_files([Path(p) for p in paths])

    def add_files(self, paths: list[Path]) -> int:
        """Upload each file; the ones refused are listed with the reason, the others are kept."""
        errors, added = [], 0
        for path in paths:
            try:
                with self.app_ctx.service() as ctx:
                    if path.suffix.lower() not in SHRINK_EXTS:
                        svc.check_attachment_size(ctx, path.name, path.stat().st_size)
                    name, data = prepare_upload(path)
                    svc.add_attachment(ctx, self.event_id, name, data)
                added += 1
            except JiedaoError as exc:
                errors.append(exc.message)
            except OSError as exc:
                errors.append(f"无法读取“{path.name}”：{exc.strerror or exc}")
        self.reload()
        self.show_message("\n".join(errors))
        return added

    def _data(self) -> tuple[svc.AttachmentRow, bytes] | None:
        attachment_id = self.selected_id()
        if attachment_id is None:
            return None
        try:
            with self.app_ctx.service(commit=False) as ctx:
                return svc.attachment_data(ctx, attachment_id)
        except JiedaoError as exc:
            self.show_message(exc.message)
            return None

    def open_selected(self) -> Path | None:
        """Write the file to a private temporary folder and open it with the system's viewer."""
        got = self._data()
        if got is None:
            return None
        row, data = got
        path = Path(tempfile.mkdtemp(prefix="jiedao-attachment-")) / row.name
        path.write_bytes(data)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        self.show_message("")
        return path

    def save_selected(self) -> Path | None:
        got = self._data()
        if got is None:
            return None
        row, data = got
        target, _ = QFileDialog.getSaveFileName(self, "附件另存为", str(Path(self.last_dir) / row.name))
        if not target:
            return None
        try:
            Path(target).write_bytes(data)
        except OSError as exc:
            self.show_message(f"无法保存到“{target}”：{exc.strerror or exc}")
            return None
        self.last_dir = str(Path(target).parent)
        self.show_message("")
        return Path(target)

    def delete_selected(self) -> bool:
        attachment_id = self.selected_id()
        if attachment_id is None:
            return False
        name = self.rows[attachment_id].name
        answer = QMessageBox.question(self, "删除附件", f"删除附件“{name}”？删除后无法恢复（审计日志保留记录）。",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        try:
            with self.app_ctx.service() as ctx:
                svc.delete_attachment(ctx, attachment_id)
        except JiedaoError as exc:
            self.show_message(exc.message)
            return False
        self.show_message("")
        self.reload()
        return True
