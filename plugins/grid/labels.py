"""The grid's choices and their labels: plain data, no Qt, no database, so the views, the services,
the models and the importers read one list (views never import the models)."""
from __future__ import annotations

# 人口类别 and 人员状态 (grid_persons.kind / .status)
PERSON_KINDS = {"registered": "户籍人口", "floating": "流动人口", "overseas": "境外人员"}
PERSON_STATUS = {"active": "在册", "moved_out": "已迁出", "deceased": "已死亡"}

# 房屋用途 (grid_houses.house_use)
HOUSE_USES = ("自住", "出租", "空置", "经营", "其他")

# 组织类别 (grid_organisations.kind)
ORG_KINDS = ("非公有制经济组织", "社会组织")

# 网格力量的岗位 (grid_staff.role)
STAFF_ROLES = {"head": "网格长", "worker": "网格员"}

# 部门与单位的类别 (grid_departments.kind): who events are dispatched to
DEPARTMENT_KINDS = ("职能部门", "社区", "驻区单位", "企业", "社会组织", "其他")

# 事件来源 (grid_events.source): offered when reporting; free text is kept as typed
EVENT_SOURCES = ("网格员上报", "群众反映", "12345热线", "巡查发现", "部门移交", "其他")
