"""Permission codes and configurable norms of the emergency plugin: plain data, no SQLAlchemy, so
the hooks the shell calls at start-up (permissions, roles, settings) do not import the models."""
from __future__ import annotations

from shell.contracts import SettingDefinition

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
