"""The grid plugin's configurable norms as plain data (no SQLAlchemy): the shell reads them at
start-up through register_settings without importing the models."""
from __future__ import annotations

from shell.contracts import SettingDefinition, TableAccess

HOUSEHOLDS_PER_WORKER = SettingDefinition(
    "grid.households_per_worker", "每名网格员服务户数上限", 150, minimum=10, maximum=2000,
    description="网格内户数超过“网格员人数 × 此值”即列为配比不达标（本地标准，常见为 150 户）")
RENTAL_REPORT_HOURS = SettingDefinition(
    "grid.rental_report_hours", "出租房屋租客报备时限（小时）", 48, minimum=1, maximum=720,
    description="房东须在此时限内报备新租客（多地为 2 天，部分城市 24 小时）")
ATTACHMENT_MAX_MB = SettingDefinition(
    "grid.attachment_max_mb", "事件附件单个文件大小上限（MB）", 10, minimum=1, maximum=100,
    description="照片和文件保存在数据库中，随备份一起保存；照片上传前自动缩小到长边 1600 像素")
# Pictures are shrunk by the desktop before upload to this long side (pixels), as JPEG.
IMAGE_MAX_SIDE = 1600
SETTINGS = (HOUSEHOLDS_PER_WORKER, RENTAL_REPORT_HOURS, ATTACHMENT_MAX_MB)

# Who reaches each table on a secured server database (shell/db/security; rows by area: RLS).
_VIEW = ("grid.view",)
_PEOPLE = ("grid.person.edit", "grid.import")
_EVENTS = ("grid.event.report", "grid.event.register", "grid.event.dispatch", "grid.event.handle",
           "grid.event.verify", "grid.event.close", "grid.event.escalate")
TABLE_ACCESS = (
    TableAccess("grid_households", read=_VIEW, write=_PEOPLE),
    TableAccess("grid_persons", read=_VIEW, write=_PEOPLE),
    TableAccess("grid_houses", read=_VIEW, write=_PEOPLE),
    TableAccess("grid_occupancies", read=_VIEW, write=_PEOPLE),
    TableAccess("grid_organisations", read=_VIEW, write=_PEOPLE),
    TableAccess("grid_event_categories", read=_VIEW, write=("grid.category.manage",)),
    TableAccess("grid_departments", read=_VIEW, write=("grid.department.manage",)),
    TableAccess("grid_events", read=_VIEW, write=_EVENTS),
    TableAccess("grid_event_steps", read=_VIEW, write=_EVENTS),
    TableAccess("grid_event_attachments", read=_VIEW, write=_EVENTS),
    TableAccess("grid_staff", read=_VIEW, write=("grid.staff.manage",)),
    TableAccess("grid_special_persons", read=_VIEW, write=("grid.special.edit",)),
    TableAccess("grid_visits", read=_VIEW, write=("grid.special.edit",)),
    TableAccess("grid_visit_logs", read=_VIEW, write=("grid.log.edit",)),
)
