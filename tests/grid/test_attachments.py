"""Event attachments kept in the database: round trip with the sha256 on both engines, the type and
size checks (the limit is a setting), renamed files, permission and scope, finished events keep
their evidence, only the uploader removes, and the audit log records the upload without the bytes."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text

from plugins.grid import services as svc
from plugins.grid.models import EventAttachment
from plugins.grid.rules import ATTACHMENT_MAX_MB
from shell.core import settings
from shell.core.auth import create_user
from shell.core.context import Actor, ServiceContext
from shell.core.models import AuditLog
from shell.errors import OutOfScope, PermissionDenied, ValidationError

from .conftest import actor

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
PDF = b"%PDF-1.4\n" + b"x" * 5000


def _event(ctx, area, title="路灯不亮"):
    cat = svc.list_categories(ctx)[1]
    return svc.report_event(ctx, area_id=area.id, category_id=cat.id, title=title)


def test_attachment_round_trip_both_engines(gdb, tree, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street, name="王街道"))
    ev = _event(ctx, tree.g11)
    photo = svc.add_attachment(ctx, ev.id, "C:\\Users\\wang\\现场照片.JPG", JPEG)
    doc = svc.add_attachment(ctx, ev.id, "整改通知书.pdf", PDF)
    ctx.session.commit()
    assert (photo.name, photo.mime, photo.size) == ("现场照片.JPG", "image/jpeg", len(JPEG))
    assert photo.sha256 == hashlib.sha256(JPEG).hexdigest() and photo.is_image and not doc.is_image
    assert photo.uploaded_by_name == "王街道"
    other = ctx_for(gdb, actor(tree.street))   # a fresh session, as another desktop would read it
    rows = svc.list_attachments(other, ev.id)
    assert [(r.name, r.size) for r in rows] == [("现场照片.JPG", len(JPEG)), ("整改通知书.pdf", len(PDF))]
    row, data = svc.attachment_data(other, photo.id)
    assert data == JPEG and row.sha256 == hashlib.sha256(data).hexdigest()
    assert svc.attachment_data(other, doc.id)[1] == PDF


def test_types_size_and_renamed_files_refused(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    ev = _event(ctx, stree.g11)
    with pytest.raises(ValidationError) as e:
        svc.add_attachment(ctx, ev.id, "工具.exe", b"MZ\x90\x00")
    assert "不能作为附件" in e.value.message and ".exe" in e.value.message
    with pytest.raises(ValidationError) as e:
        svc.add_attachment(ctx, ev.id, "照片.jpg", b"MZ\x90\x00 not a picture")
    assert "不是JPG文件" in e.value.message
    with pytest.raises(ValidationError) as e:
        svc.add_attachment(ctx, ev.id, "空.txt", b"")
    assert "空文件" in e.value.message
    # the default limit is 10 MB; lowered to 1 MB the same file is refused with both sizes named
    big = b"%PDF" + b"0" * (1024 * 1024 + 10)
    svc.add_attachment(ctx, ev.id, "卷宗.pdf", big)
    settings.set_value(ServiceContext(ctx.session, Actor.system()), ATTACHMENT_MAX_MB, 1)
    with pytest.raises(ValidationError) as e:
        svc.add_attachment(ctx, ev.id, "卷宗2.pdf", big)
    assert e.value.message.startswith("“卷宗2.pdf”有 1.0 MB，超过单个附件 1.0 MB 的上限")
    assert len(svc.list_attachments(ctx, ev.id)) == 1


def test_permission_scope_and_finished_events(stree, grid_sqlite, ctx_for):
    boss = ctx_for(grid_sqlite, actor(stree.street))
    ev = _event(boss, stree.g11)
    boss.session.commit()
    worker_other_grid = ctx_for(grid_sqlite, actor(stree.g21, codes={"grid.view", "grid.event.report"}))
    with pytest.raises(OutOfScope):
        svc.add_attachment(worker_other_grid, ev.id, "a.jpg", JPEG)
    with pytest.raises(OutOfScope):
        svc.list_attachments(worker_other_grid, ev.id)
    viewer = ctx_for(grid_sqlite, actor(stree.g11, codes={"grid.view"}))
    with pytest.raises(PermissionDenied):
        svc.add_attachment(viewer, ev.id, "a.jpg", JPEG)
    a = svc.add_attachment(boss, ev.id, "a.jpg", JPEG)
    svc.transition(boss, ev.id, "reject", "不属于网格事项")
    with pytest.raises(ValidationError) as e:
        svc.add_attachment(boss, ev.id, "b.jpg", JPEG)
    assert "已不予立案，不能再添加附件" in e.value.message
    with pytest.raises(ValidationError) as e:
        svc.delete_attachment(boss, a.id)
    assert "作为办理依据保留" in e.value.message


def test_only_uploader_deletes_and_audit_without_bytes(stree, grid_sqlite, ctx_for):
    with grid_sqlite.session_factory() as s:
        sys_ctx = ServiceContext(s, Actor.system())
        u1 = create_user(sys_ctx, "wgy1", "网格员甲", "Secret#2025x", stree.g11.id).id
        u2 = create_user(sys_ctx, "wgy2", "网格员乙", "Secret#2025x", stree.g11.id).id
        s.commit()
    codes = {"grid.view", "grid.event.report", "grid.event.handle"}
    one = ctx_for(grid_sqlite, actor(stree.g11, codes=codes, name="网格员甲", user_id=u1))
    two = ctx_for(grid_sqlite, actor(stree.g11, codes=codes, name="网格员乙", user_id=u2))
    ev = _event(one, stree.g11)
    a = svc.add_attachment(one, ev.id, "现场.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    one.session.commit()
    with pytest.raises(ValidationError) as e:
        svc.delete_attachment(two, a.id)
    assert e.value.message == "附件“现场.png”由网格员甲上传，只有上传人或街道管理人员可以删除。"
    entry = one.session.scalar(select(AuditLog).where(AuditLog.entity == "grid_event_attachments",
                                                      AuditLog.action == "insert"))
    assert entry is not None and entry.after["name"] == "现场.png" and "data" not in entry.after
    assert entry.after["sha256"] == a.sha256
    svc.delete_attachment(one, a.id)
    one.session.commit()
    assert svc.list_attachments(one, ev.id) == []
    assert one.session.scalar(select(AuditLog).where(AuditLog.entity == "grid_event_attachments",
                                                     AuditLog.action == "delete")) is not None


def test_damaged_bytes_are_reported(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    ev = _event(ctx, stree.g11)
    a = svc.add_attachment(ctx, ev.id, "记录.txt", "居民反映情况".encode())
    ctx.session.commit()
    ctx.session.execute(text("UPDATE grid_event_attachments SET data = :d WHERE id = :i"), {"d": b"changed", "i": a.id})
    ctx.session.commit()
    ctx.session.expire_all()
    with pytest.raises(ValidationError) as e:
        svc.attachment_data(ctx, a.id)
    assert "可能已损坏" in e.value.message
    assert ctx.session.get(EventAttachment, a.id).size == len("居民反映情况".encode())
