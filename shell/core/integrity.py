"""Checking a database's integrity when it is opened: re-create missing append-only (and, on a
secured server, audit) triggers — audited — and verify the entries appended to the hash chains
since the last verified head. Above the chains (shell.core.chain), the audit log and the server's
audit triggers (shell.db.security.server_audit), which it combines; they do not import it."""
from __future__ import annotations

from shell.core import audit
from shell.core.chain import HEADS, OPEN_LIMIT, _guard_state, chained_tables, guard_names, restore_guards, verify
from shell.db.security.server_audit import missing_triggers, restore_triggers, server_audit

GUARD_WARNING = ("安全警告：数据表 {table} 的防篡改触发器（拒绝修改和删除）被删除或停用过，已重新建立。"
                 "有人曾用数据库账号直接操作数据库：请管理员运行 jiedao audit verify 检查审计日志和台账是否被改动，"
                 "并查明是谁、何时操作的。")
AUDIT_TRIGGER_WARNING = ("安全警告：数据表 {table} 的审计触发器被删除或停用过，已重新建立；其间服务器没有记录它的修改。"
                         "有人曾以数据库所有者身份直接操作数据库：请管理员查明是谁、何时操作的。")
BROKEN_WARNING = ("安全警告：防篡改校验未通过——{what}。审计日志或台账在本程序之外被改动过："
                  "请管理员运行 jiedao audit verify 查看，并与打印的审计日志末尾的链头核对。")


def _check_as_user(session) -> list[str]:
    """A user's session on a secured server: the triggers belong to the owner, who alone can repair
    them, and only the owner moves the verified heads; the user's program still looks (the chains it
    may read, from the remembered heads) and warns."""
    from shell.db.guards import sealing_available
    conn = session.connection()
    state = _guard_state(conn)
    sealing = sealing_available(conn)
    warnings = []
    for table in missing_triggers(conn):
        warnings.append(f"安全警告：数据表 {table} 的审计触发器被删除或停用，服务器不再记录它的修改：请管理员以数据库所有者"
                        "身份运行 jiedao db upgrade 重新建立，并查明是谁、何时操作的。")
    for table in chained_tables(conn):
        if not guard_names(conn.dialect.name, table, sealing) <= state.get(table, set()):
            warnings.append(f"安全警告：数据表 {table} 的防篡改触发器被删除或停用：请管理员以数据库所有者身份运行 "
                            "jiedao db upgrade 重新建立，并运行 jiedao audit verify 检查。")
    readable = [t for t in chained_tables(conn)
                if conn.exec_driver_sql(f"SELECT has_table_privilege('{t}', 'SELECT')").scalar()]
    report = verify(conn, since="verified", tables=readable, limit=OPEN_LIMIT, save=False)
    for c in report.chains:
        if c.broken:
            warnings.append(BROKEN_WARNING.format(what=c.broken.message()))
    session.commit()
    return warnings


def check_on_open(session) -> list[str]:
    """Re-create missing append-only triggers (audited), then verify the entries appended since the
    last verified head (at most OPEN_LIMIT per chain). Chinese warnings for administrators."""
    conn = session.connection()
    if not conn.dialect.has_table(conn, HEADS):
        return []  # a database opened without upgrading (jiedao db status on an old file)
    secured, owner = server_audit(conn)
    if secured and not owner:
        return _check_as_user(session)
    warnings, audit_repaired = [], []
    try:
        with session.begin_nested():
            repaired = restore_guards(session.connection())
            if secured:
                audit_repaired = restore_triggers(session.connection())
    except Exception as exc:  # noqa: BLE001 - not the owner role: cannot create triggers — still warn
        repaired = []
        warnings.append(f"安全警告：无法检查或重建防篡改触发器（{exc.__class__.__name__}）：请管理员以数据库所有者身份打开一次。")
    for table in repaired:
        audit.record(session, "guard_restored", table,
                     summary=f"{table} 的防篡改触发器缺失或被停用，打开数据库时已重新建立")
        warnings.append(GUARD_WARNING.format(table=table))
    for table in audit_repaired:
        audit.record(session, "guard_restored", table,
                     summary=f"{table} 的审计触发器缺失或被停用，打开数据库时已重新建立")
        warnings.append(AUDIT_TRIGGER_WARNING.format(table=table))
    report = verify(session.connection(), since="verified", limit=OPEN_LIMIT)
    for c in report.chains:
        if c.broken:
            warnings.append(BROKEN_WARNING.format(what=c.broken.message()))
    session.commit()
    return warnings
