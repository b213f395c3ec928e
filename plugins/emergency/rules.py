"""Permission codes and configurable norms of the emergency plugin: plain data, no SQLAlchemy, so
the hooks the shell calls at start-up (permissions, roles, settings) do not import the models."""
from __future__ import annotations

from shell.contracts import SettingDefinition, TableAccess

PERMISSIONS = {
    "emergency.view": "查看应急管理",
    "emergency.catalog.manage": "维护应急仓库与物资目录",
    "emergency.stock.manage": "应急物资出入库、调拨与调整",
    "emergency.stocktake": "应急物资盘点",
    "emergency.plan.manage": "维护应急预案",
    "emergency.drill.manage": "组织与评估应急演练",
    "emergency.team.manage": "维护应急队伍",
    "emergency.shelter.manage": "维护避难场所",
    "emergency.import": "应急物资导入导出",
}

SETTINGS = (
    SettingDefinition("emergency.alert_days_1", "物资临期预警第一档（天）", 30, minimum=1, maximum=365,
                      description="有效期在此天数内的批次标为最紧急"),
    SettingDefinition("emergency.alert_days_2", "物资临期预警第二档（天）", 60, minimum=1, maximum=365),
    SettingDefinition("emergency.alert_days_3", "物资临期预警第三档（天）", 90, minimum=1, maximum=730),
    SettingDefinition("emergency.team_size_norm", "街道综合应急救援队伍最少人数", 50, minimum=1, maximum=1000,
                      description="地方规范：街道综合性应急救援队伍不少于 50 人"),
    SettingDefinition("emergency.drills_per_year", "每年综合演练最少次数", 1, minimum=0, maximum=12,
                      description="每个社区和街道每年至少开展的综合演练次数"),
    SettingDefinition("emergency.plan_review_notice_days", "预案评审提前提醒（天）", 30, minimum=0, maximum=365),
    SettingDefinition("emergency.plan_file_max_kb", "预案附件大小上限（KB）", 10240, minimum=64, maximum=102400),
)

# Who reaches each table on a secured server database (shell/db/security; rows by area: RLS). The
# stock ledger is append-only: nobody is granted UPDATE or DELETE on it.
_E_VIEW = ("emergency.view",)
_E_CATALOG = ("emergency.catalog.manage", "emergency.import")
_E_STOCK = ("emergency.stock.manage", "emergency.stocktake", "emergency.import")
TABLE_ACCESS = (
    TableAccess("emergency_warehouses", read=_E_VIEW, write=_E_CATALOG),
    TableAccess("emergency_items", read=_E_VIEW, write=_E_CATALOG),
    TableAccess("emergency_min_stock", read=_E_VIEW, write=_E_CATALOG),
    TableAccess("emergency_batches", read=_E_VIEW, write=_E_STOCK + ("emergency.catalog.manage",)),
    TableAccess("emergency_stock_moves", read=_E_VIEW, append=_E_STOCK),
    TableAccess("emergency_stocktakes", read=_E_VIEW, write=("emergency.stocktake",)),
    TableAccess("emergency_stocktake_lines", read=_E_VIEW, write=("emergency.stocktake",)),
    TableAccess("emergency_plans", read=_E_VIEW, write=("emergency.plan.manage",)),
    TableAccess("emergency_plan_steps", read=_E_VIEW, write=("emergency.plan.manage",)),
    TableAccess("emergency_drills", read=_E_VIEW, write=("emergency.drill.manage",)),
    TableAccess("emergency_drill_scores", read=_E_VIEW, write=("emergency.drill.manage",)),
    TableAccess("emergency_teams", read=_E_VIEW, write=("emergency.team.manage",)),
    TableAccess("emergency_team_members", read=_E_VIEW, write=("emergency.team.manage",)),
    TableAccess("emergency_shelters", read=_E_VIEW, write=("emergency.shelter.manage",)),
    TableAccess("emergency_duty_shifts", read=_E_VIEW, write=("emergency.team.manage", "emergency.drill.manage",
                                                                "emergency.shelter.manage", "emergency.plan.manage")),
)
