"""A refusal of a secured PostgreSQL server as the program's own Chinese error (issue 15 item 3).

SQLSTATE 42501 (insufficient_privilege) arrives for a missing table privilege ("permission denied
for table …"), for an administrator function refused by its own check (its message is Chinese
already) and for a row-level-security WITH CHECK violation ("new row violates row-level security
policy for table …"). ``server_refusal`` turns the first two into ``ServerPermissionDenied`` and the
third into ``ServerOutOfScope`` (subclasses of ``PermissionDenied`` / ``OutOfScope``, so every caller
that handles those handles these), naming the table and the operation in words. Called from the
engine's ``handle_error`` (``shell/db/engine.py``), the one place for faults.
"""
from __future__ import annotations

import re

from shell.errors import ServerOutOfScope, ServerPermissionDenied

INSUFFICIENT_PRIVILEGE = "42501"

# The tables in words, for the messages (a table not listed is named as it is).
TABLE_WORDS = {
    "core_areas": "辖区", "core_users": "用户", "core_roles": "角色", "core_role_permissions": "角色权限",
    "core_user_roles": "用户角色", "core_settings": "规则与参数", "core_holidays": "节假日安排",
    "core_audit_log": "审计日志", "core_chain_heads": "防篡改校验链", "core_security": "数据库安全设置",
    "core_table_access": "数据表权限声明",
    "grid_persons": "居民（实有人口）", "grid_households": "户籍/家庭户", "grid_houses": "房屋",
    "grid_occupancies": "人房关联", "grid_organisations": "单位（实有单位）", "grid_event_categories": "事件类别",
    "grid_events": "事件", "grid_event_steps": "事件办理记录", "grid_event_attachments": "事件附件",
    "grid_staff": "网格员", "grid_special_persons": "特殊人群", "grid_visits": "特殊人群走访",
    "grid_visit_logs": "入户走访记录",
    "volunteer_volunteers": "志愿者", "volunteer_accounts": "志愿者积分账户", "volunteer_teams": "志愿服务队",
    "volunteer_team_members": "服务队成员", "volunteer_activities": "志愿活动", "volunteer_attendances": "活动签到",
    "volunteer_hours_ledger": "服务时长台账", "volunteer_points_ledger": "积分台账", "volunteer_reward_items": "积分兑换物品",
    "volunteer_stock_moves": "兑换物品出入库", "volunteer_redemptions": "积分兑换单", "volunteer_redemption_lines": "兑换单明细",
    "volunteer_counters": "志愿者编号", "volunteer_certificates": "志愿服务证明",
    "partybuilding_orgs": "党组织", "partybuilding_org_events": "党组织换届与变更", "partybuilding_members": "党员",
    "partybuilding_memberships": "党员组织关系", "partybuilding_counters": "党建编号", "partybuilding_transfers": "组织关系转接",
    "partybuilding_meeting_rules": "三会一课规则", "partybuilding_meetings": "三会一课", "partybuilding_attendance": "会议出席",
    "partybuilding_dues_payments": "党费缴纳", "partybuilding_community_reports": "在职党员双报到",
    "partybuilding_community_services": "双报到服务记录", "partybuilding_household_links": "党员中心户联系户",
    "emergency_warehouses": "应急物资仓库", "emergency_items": "应急物资目录", "emergency_min_stock": "最低库存",
    "emergency_batches": "物资批次", "emergency_stock_moves": "物资出入库", "emergency_stocktakes": "物资盘点",
    "emergency_stocktake_lines": "盘点明细", "emergency_plans": "应急预案", "emergency_plan_steps": "预案步骤",
    "emergency_drills": "应急演练", "emergency_drill_scores": "演练评分", "emergency_teams": "应急队伍",
    "emergency_team_members": "应急队伍成员", "emergency_shelters": "避难场所", "emergency_duty_shifts": "应急值班",
}

OPERATION_WORDS = {"SELECT": "查看", "INSERT": "新增", "UPDATE": "修改", "DELETE": "删除", "TRUNCATE": "清空",
                   "ALTER": "更改结构", "DROP": "删除结构", "CREATE": "创建", "GRANT": "授权", "COPY": "导入导出"}

_TABLE = re.compile(r'(?:for table|of relation|for relation|of table|policy for table)\s+"?([\w.]+)"?', re.I)
_OBJECT = re.compile(r"permission denied for (schema|sequence|function|database|view)\s+\"?([\w.]+)\"?", re.I)
_OWNER = re.compile(r'must be owner of (?:table|relation|function|sequence)\s+"?([\w.]+)"?', re.I)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_VERB = re.compile(r"^\s*(?:WITH\b.*?\)\s*)?(SELECT|INSERT|UPDATE|DELETE|TRUNCATE|ALTER|DROP|CREATE|GRANT|COPY)\b",
                   re.I | re.S)


def table_words(table: str) -> str:
    name = table.split(".")[-1]
    return TABLE_WORDS.get(name, name)


def _operation(statement: str | None, what: str | None = None) -> str | None:
    if not statement:
        return None
    m = _VERB.match(statement)
    if not m:
        return None
    verb = m.group(1).upper()
    if verb == "SELECT" and what and re.search(r"\bFOR\s+(UPDATE|NO KEY UPDATE|SHARE)\b", statement, re.I):
        return "锁定后修改"
    return OPERATION_WORDS.get(verb)


def _primary(orig) -> str:
    diag = getattr(orig, "diag", None)
    found = getattr(diag, "message_primary", None) if diag is not None else None
    if found:
        return found
    text_ = str(orig)
    return text_.splitlines()[0] if text_ else ""


def server_refusal(exc: BaseException, statement: str | None = None):
    """``ServerPermissionDenied`` / ``ServerOutOfScope`` for a 42501 refusal of the server, else None.
    ``exc`` is the driver's error or SQLAlchemy's wrapper of it; ``statement`` the SQL that ran."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
        return None
    statement = statement if statement is not None else getattr(exc, "statement", None)
    message = _primary(orig)
    table_match = _TABLE.search(message)
    table = table_match.group(1) if table_match else None
    if "row-level security" in message:
        what = table_words(table) if table else "这条记录"
        return ServerOutOfScope(
            f"服务器拒绝保存：这条“{what}”记录会落到您的管辖范围之外（按您账号的辖区，服务器只允许在范围内新增或修改），"
            "刚才的操作没有完成，数据未被修改。请选择您管辖范围内的辖区；需要更大的范围请联系管理员。",
            table=table, operation=_operation(statement))
    if _CJK.search(message):  # the administrator functions explain themselves
        return ServerPermissionDenied(f"服务器拒绝了这项操作：{message}", table=table, operation=_operation(statement))
    op = _operation(statement, table)
    if table:
        doing = f"{op}“{table_words(table)}”" if op else f"使用“{table_words(table)}”"
        return ServerPermissionDenied(
            f"服务器拒绝了{doing}：您的账号在数据库服务器上没有这项权限，刚才的操作没有完成。"
            "请联系管理员在“设置 → 用户与角色”中为您分配相应的角色。", table=table, operation=op)
    owner = _OWNER.search(message)
    if owner:
        return ServerPermissionDenied(
            f"服务器拒绝了更改“{table_words(owner.group(1))}”：只有数据库的所有者（管理员运行 jiedao db upgrade 时）"
            "才能更改数据表、触发器和函数，刚才的操作没有完成。", table=owner.group(1), operation="更改结构")
    obj = _OBJECT.search(message)
    if obj:
        kinds = {"schema": "模式", "sequence": "编号序列", "function": "函数", "database": "数据库", "view": "视图"}
        return ServerPermissionDenied(
            f"服务器拒绝了使用{kinds[obj.group(1).lower()]}“{table_words(obj.group(2))}”：您的账号没有这项权限，"
            "刚才的操作没有完成。请联系管理员。", table=None, operation=op)
    return ServerPermissionDenied(
        f"服务器拒绝了{op or '这项操作'}：您的账号在数据库服务器上没有这项权限，刚才的操作没有完成。"
        f"（服务器的说明：{message}）请联系管理员。", table=None, operation=op)
