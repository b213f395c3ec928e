"""Reading the audit log (no Qt): a filtered select for a paging view, and readable change lists."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select

from shell.clock import LOCAL_TZ
from shell.core.context import ServiceContext
from shell.core.models import AuditLog
from shell.errors import NotFound

ENTITY_LABELS = {
    "core_areas": "辖区",
    "core_users": "用户",
    "core_roles": "角色",
    "core_role_permissions": "角色权限",
    "core_user_roles": "用户角色",
    "core_settings": "规则与参数",
    "core_holidays": "节假日安排",
}

ACTION_LABELS = {
    "insert": "新增",
    "update": "修改",
    "delete": "删除",
    "login": "登录",
    "login_failed": "登录失败",
    "locked": "锁定账号",
    "unlock": "解锁账号",
    "password_reset": "重置密码",
    "password_change": "修改密码",
    "guard_restored": "重建防篡改触发器",
}

FIELD_LABELS = {
    "name": "名称", "code": "编码", "level": "层级", "path": "路径", "parent_id": "上级编号",
    "sort_order": "排序", "opened_on": "设立日期", "closed_on": "撤销日期", "closed_reason": "撤销原因",
    "username": "用户名", "display_name": "姓名", "phone": "电话", "is_active": "启用",
    "is_superuser": "超级管理员", "area_id": "管辖辖区编号", "must_change_password": "须改密码",
    "title": "名称", "description": "说明", "builtin": "预置", "role_id": "角色编号", "user_id": "用户编号",
    "key": "参数", "value": "值", "updated_by": "修改人编号", "created_by": "创建人编号", "id": "编号",
}


def entity_label(entity: str) -> str:
    return ENTITY_LABELS.get(entity, entity)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def _utc_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Local calendar days (Asia/Shanghai) → UTC instants: [since 00:00, until+1 00:00)."""
    lo = datetime.combine(since, time.min, LOCAL_TZ) if since else None
    hi = datetime.combine(until + timedelta(days=1), time.min, LOCAL_TZ) if until else None
    return lo, hi


def audit_query(ctx: ServiceContext, entity: str | None = None, action: str | None = None,
                actor: str | None = None, since: date | None = None, until: date | None = None,
                record: str | None = None) -> Select:
    """A select over the audit log with the given filters; the view pages it by ``AuditLog.id``.
    ``record`` is a record's number (``entity_id``), usually together with ``entity``."""
    ctx.actor.require("core.audit.view")
    q = select(AuditLog)
    if entity:
        q = q.where(AuditLog.entity == entity)
    if record and str(record).strip():
        q = q.where(AuditLog.entity_id == str(record).strip())
    if action:
        q = q.where(AuditLog.action == action)
    if actor and actor.strip():
        q = q.where(AuditLog.actor_name.contains(actor.strip(), autoescape=True))
    lo, hi = _utc_bounds(since, until)
    if lo is not None:
        q = q.where(AuditLog.at >= lo)
    if hi is not None:
        q = q.where(AuditLog.at < hi)
    return q


def audit_entities(ctx: ServiceContext) -> list[str]:
    ctx.actor.require("core.audit.view")
    return sorted(ctx.session.scalars(select(AuditLog.entity).distinct()))


def audit_actions(ctx: ServiceContext) -> list[str]:
    ctx.actor.require("core.audit.view")
    return sorted(ctx.session.scalars(select(AuditLog.action).distinct()))


def audit_entry(ctx: ServiceContext, entry_id: int) -> AuditLog:
    ctx.actor.require("core.audit.view")
    entry = ctx.session.get(AuditLog, entry_id)
    if entry is None:
        raise NotFound(f"审计记录 {entry_id} 不存在。")
    return entry


def _show(value: Any) -> str:
    if value is None:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def describe_changes(entry: AuditLog) -> list[tuple[str, str, str]]:
    """(field label, before, after) for each field that differs (inserts and deletes: every field)."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    keys = list(dict.fromkeys(list(before) + list(after)))
    # The log keeps what was written; the viewer shows ID numbers masked, as every record does.
    from shell.core import personal

    hidden = personal.table_columns(entry.entity) if keys else {}
    out = []
    for k in keys:
        b, a = before.get(k), after.get(k)
        if entry.action == "update" and b == a:
            continue
        if k in hidden:
            b, a = personal.mask(b, hidden[k]), personal.mask(a, hidden[k])
        out.append((FIELD_LABELS.get(k, k), "" if entry.before is None else _show(b),
                    "" if entry.after is None else _show(a)))
    if not keys and (entry.before is not None or entry.after is not None):
        # Non-dict payloads of explicit entries (audit.record): show them whole.
        out.append(("内容", _show(entry.before) if entry.before is not None else "",
                    _show(entry.after) if entry.after is not None else ""))
    return out


def short_summary(entry: AuditLog) -> str:
    """A one-line gist for the table: the changed fields of an update, the name of a new record."""
    data = entry.after if isinstance(entry.after, dict) else entry.before if isinstance(entry.before, dict) else {}
    for key in ("name", "title", "username", "key"):
        if key in data and data[key]:
            if entry.action == "update" and isinstance(entry.before, dict) and key in entry.before:
                return f"{entry.before[key]} → {data[key]}"
            return str(data[key])
    if entry.action == "update" and isinstance(entry.after, dict):
        return "修改了：" + "、".join(FIELD_LABELS.get(k, str(k)) for k in entry.after)
    return ""



# --- the audit log as a ledger (report centre, jiedao report core.audit, the page's 导出) ---------------
def build_audit_ledger(ctx: ServiceContext, params: dict):
    from reports import Column, LedgerSpec
    from shell.clock import format_local
    from shell.core import chain

    since, until = params.get("since"), params.get("until")
    q = audit_query(ctx, entity=params.get("entity") or None, action=params.get("action") or None,
                    actor=params.get("user") or None, since=since, until=until,
                    record=params.get("record") or None).order_by(AuditLog.id)
    # The chain head at the end of the period (whatever the filters): on paper, a later rewrite of
    # the log shows against it (shell/core/chain.py). Rows stop at that entry, so they match it.
    _lo, hi = _utc_bounds(since, until)
    # The head is the last entry in chain order (chain_seq: on a server, commit order).
    head_q = (select(AuditLog.id, AuditLog.at, AuditLog.chain_hash, AuditLog.chain_seq)
              .where(AuditLog.chain_seq.isnot(None)).order_by(AuditLog.chain_seq.desc()).limit(1))
    if hi is not None:
        head_q = head_q.where(AuditLog.at < hi)
    head = ctx.session.execute(head_q).first()
    notes = []
    if head is not None:
        from sqlalchemy import and_, or_
        q = q.where(or_(AuditLog.chain_seq <= head.chain_seq,
                        and_(AuditLog.chain_seq.is_(None), AuditLog.id <= head.id)))
        notes.append(f"防篡改链头：截至第 {head.id} 条（{format_local(head.at, seconds=True)}），"
                     f"链哈希前 16 位 {chain.grouped(head.chain_hash or '')}。"
                     "日后可用 jiedao audit verify 核对数据库中的审计日志是否仍与此一致。")

    def rows():
        for e in ctx.session.scalars(q.execution_options(yield_per=2000)):
            yield (format_local(e.at, seconds=True), e.actor_name, action_label(e.action), entity_label(e.entity),
                   e.entity_id or "", e.summary or short_summary(e))

    from reports.spec import cn_period
    from shell.core.heading import heading

    period = cn_period(since, until) if since or until else "全部记录"
    return LedgerSpec(
        title="审计日志", **heading(ctx).fields, period=period,
        columns=(Column("时间", 38, kind="datetime"), Column("用户", 22), Column("操作", 16), Column("对象", 26),
                 Column("编号", 16),
                 Column("说明", "3*")),
        rows=rows(), orientation="landscape", notes=notes, signature=("导出人", "审核人"), totals="auto")


def core_reports():
    from shell.contracts import ReportDefinition, ReportParameter

    return [ReportDefinition(
        "core.audit", "审计日志", build_audit_ledger,
        (ReportParameter("since", "起始日期", kind="date", required=False),
         ReportParameter("until", "截止日期", kind="date", required=False),
         ReportParameter("user", "用户", required=False),
         ReportParameter("entity", "对象", required=False),
         ReportParameter("action", "操作", required=False),
         ReportParameter("record", "记录编号", required=False)),
        permission="core.audit.view", category="系统")]
