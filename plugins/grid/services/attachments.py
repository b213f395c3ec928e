"""Event attachments: the photos and files an event carries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from shell.core import personal as _personal
from shell.core import settings
from shell.core.context import ServiceContext
from shell.errors import ValidationError

from ..models import Event, EventAttachment
from ..rules import ATTACHMENT_MAX_MB
from .common import P_CATEGORY, P_HANDLE, P_REPORT, P_VIEW, _get, _text
from .events import STATUS_LABELS

# --- attachments ---------------------------------------------------------------------------------
# What an event may carry: photos, office documents, scans, voice notes and short videos. Anything
# else (programs, archives) is refused, so a township server never hands out an executable.
ATTACHMENT_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".bmp": "image/bmp",
    ".pdf": "application/pdf", ".ofd": "application/ofd", ".txt": "text/plain",
    ".doc": "application/msword", ".wps": "application/vnd.ms-works",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel", ".et": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".amr": "audio/amr", ".mp4": "video/mp4",
}
# The first bytes each picture or PDF must start with: a renamed file is refused, not stored.
_MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/gif": (b"GIF87a", b"GIF89a"),
          "image/bmp": (b"BM",), "application/pdf": (b"%PDF",)}
ATTACH_PERMISSIONS = (P_REPORT, P_HANDLE)


@dataclass(frozen=True)
class AttachmentRow:
    id: int
    event_id: int
    name: str
    mime: str
    size: int
    sha256: str
    uploaded_by: int | None
    uploaded_by_name: str
    uploaded_at: datetime

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")


def _attachment_row(a: EventAttachment) -> AttachmentRow:
    return AttachmentRow(a.id, a.event_id, a.name, a.mime, a.size, a.sha256, a.uploaded_by, a.uploaded_by_name,
                         a.uploaded_at)


def attachment_limit_bytes(ctx: ServiceContext) -> int:
    return int(settings.get(ctx.session, ATTACHMENT_MAX_MB)) * 1024 * 1024


def format_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def check_attachment_size(ctx: ServiceContext, name: str, size: int) -> None:
    """Refuse a file over the limit; the desktop asks before reading a large file into memory."""
    limit = attachment_limit_bytes(ctx)
    if size > limit:
        raise ValidationError(f"“{name}”有 {format_size(size)}，超过单个附件 {format_size(limit)} 的上限"
                              f"（可在 设置 → 规则与参数 中调整）。", "attachment", name)


def can_attach(actor) -> bool:
    return any(actor.can(p) for p in ATTACH_PERMISSIONS)


def add_attachment(ctx: ServiceContext, event_id: int, name: str, data: bytes) -> AttachmentRow:
    """Keep a photo or file with the event (in the database). Refused: a type not in
    ATTACHMENT_TYPES, a picture or PDF whose bytes are not what its name says, an empty file, a file
    over the limit (setting grid.attachment_max_mb), and any change to a finished event."""
    import hashlib
    import os

    if not can_attach(ctx.actor):
        ctx.actor.require(P_REPORT)
    ev = _get(ctx, Event, event_id, "事件")
    if ev.status in ("closed", "rejected"):
        raise ValidationError(f"事件 {ev.number} 已{STATUS_LABELS[ev.status]}，不能再添加附件。", "attachment", name)
    base = _text(os.path.basename(str(name or "").replace("\\", "/")))
    if not base:
        raise ValidationError("附件没有文件名。", "attachment", name)
    stem, ext = os.path.splitext(base)
    ext = ext.lower()
    mime = ATTACHMENT_TYPES.get(ext)
    if mime is None:
        kinds = "照片（jpg、png）、PDF、Word、Excel、WPS、文本、录音和 mp4 视频"
        raise ValidationError(f"“{base}”的类型（{ext or '无扩展名'}）不能作为附件：只能上传{kinds}。", "attachment", base)
    if len(base) > 200:
        base = stem[:200 - len(ext)] + ext
    data = bytes(data or b"")
    if not data:
        raise ValidationError(f"“{base}”是空文件。", "attachment", base)
    check_attachment_size(ctx, base, len(data))
    magic = _MAGIC.get(mime)
    if magic and not data.startswith(magic):
        raise ValidationError(f"“{base}”的内容不是{ext[1:].upper()}文件（可能是改了扩展名的其他文件）。",
                              "attachment", base)
    now = ctx.now()
    a = EventAttachment(area_id=ev.area_id, event_id=ev.id, name=base, mime=mime, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by=ctx.actor.user_id,
                        uploaded_by_name=ctx.actor.display_name or ctx.actor.username, uploaded_at=now,
                        created_by=ctx.actor.user_id)
    ctx.session.add(a)
    ctx.session.flush()
    return _attachment_row(a)


def list_attachments(ctx: ServiceContext, event_id: int) -> list[AttachmentRow]:
    """The event's attachments without their bytes (the bytes load one at a time)."""
    ctx.actor.require(P_VIEW)
    _get(ctx, Event, event_id, "事件")
    q = select(EventAttachment).where(EventAttachment.event_id == event_id).order_by(EventAttachment.id)
    return [_attachment_row(a) for a in ctx.session.scalars(q)]


def attachment_data(ctx: ServiceContext, attachment_id: int) -> tuple[AttachmentRow, bytes]:
    """One attachment with its bytes, checked against its sha256 (a damaged row is reported, never
    handed out as if it were the original)."""
    import hashlib

    ctx.actor.require(P_VIEW)
    a = _get(ctx, EventAttachment, attachment_id, "附件")
    data = bytes(a.data)
    if hashlib.sha256(data).hexdigest() != a.sha256:
        raise ValidationError(f"附件“{a.name}”的内容与登记的校验值不符，可能已损坏。请联系管理员从备份恢复。",
                              "attachment", a.name)
    return _attachment_row(a), data


def delete_attachment(ctx: ServiceContext, attachment_id: int) -> None:
    """Only the uploader (or a user who manages categories) removes an attachment, and only while the
    event is still open: a finished event keeps its evidence."""
    if not (ctx.actor.can(P_CATEGORY) or can_attach(ctx.actor)):
        ctx.actor.require(P_CATEGORY)  # refused before anything is looked up
    a = _get(ctx, EventAttachment, attachment_id, "附件")
    ev = _get(ctx, Event, a.event_id, "事件")  # the event's area decides the scope
    if not (ctx.actor.can(P_CATEGORY) or (a.uploaded_by is not None and a.uploaded_by == ctx.actor.user_id
                                         and can_attach(ctx.actor))):
        raise ValidationError(f"附件“{a.name}”由{a.uploaded_by_name}上传，只有上传人或街道管理人员可以删除。",
                              "attachment", a.name)
    if ev.status in ("closed", "rejected"):
        raise ValidationError(f"事件 {ev.number} 已{STATUS_LABELS[ev.status]}，附件作为办理依据保留，不能删除。",
                              "attachment", a.name)
    ctx.session.delete(a)
    ctx.session.flush()


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
