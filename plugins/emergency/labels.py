"""Emergency choices and labels (plain data: no SQLAlchemy, no Qt), for the models, services and views."""
from __future__ import annotations

# ----------------------------------------------------------------------------- choices

WAREHOUSE_LEVELS = {"street": "街道级", "community": "社区级"}

MOVE_KINDS = {
    "in": "入库",
    "out": "出库",
    "transfer_out": "调拨出库",
    "transfer_in": "调拨入库",
    "adjust": "调整",
    "stocktake": "盘点差异",
}

ADJUST_REASONS = ("丢失", "找回", "损坏", "过期报废", "登记错误更正", "其他")

STOCKTAKE_STATUS = {"open": "盘点中", "posted": "已过账", "cancelled": "已作废"}

PLAN_CATEGORIES = ("自然灾害", "事故灾难", "公共卫生", "社会安全")
PLAN_LEVELS = ("总体预案", "专项预案", "部门预案", "现场处置方案")

DRILL_FORMS = {"tabletop": "桌面演练", "live": "实战演练"}
DRILL_CONTENTS = {"single": "单项演练", "comprehensive": "综合演练"}
DRILL_PURPOSES = {"inspection": "检验性演练", "demonstration": "示范性演练", "research": "研究性演练"}
DRILL_STATUS = {"planned": "计划", "held": "已实施", "evaluated": "已评估", "cancelled": "已取消"}

TEAM_KINDS = {"comprehensive": "综合应急救援队伍", "professional": "专业救援队伍", "volunteer": "志愿者队伍"}

SHELTER_STATUS = {"available": "可用", "in_use": "启用中", "maintenance": "维护中", "closed": "停用"}

DUTY_SHIFTS = {"full": "全天", "day": "白班", "night": "夜班"}
