"""The grid plugin's configurable norms as plain data (no SQLAlchemy): the shell reads them at
start-up through register_settings without importing the models."""
from __future__ import annotations

from shell.contracts import SettingDefinition

HOUSEHOLDS_PER_WORKER = SettingDefinition(
    "grid.households_per_worker", "每名网格员服务户数上限", 150, minimum=10, maximum=2000,
    description="网格内户数超过“网格员人数 × 此值”即列为配比不达标（本地标准，常见为 150 户）")
RENTAL_REPORT_HOURS = SettingDefinition(
    "grid.rental_report_hours", "出租房屋租客报备时限（小时）", 48, minimum=1, maximum=720,
    description="房东须在此时限内报备新租客（多地为 2 天，部分城市 24 小时）")
SETTINGS = (HOUSEHOLDS_PER_WORKER, RENTAL_REPORT_HOURS)
