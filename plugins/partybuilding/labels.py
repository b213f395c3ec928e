"""The party-building choices and their Chinese labels: plain data (no database, no Qt), read by
the models, the services and the views alike."""
from __future__ import annotations

# Kinds of organisation and their level in the five-level tree (1 = top).
ORG_KINDS: dict[str, tuple[int, str]] = {
    "working_committee": (1, "街道党工委"),
    "community_committee": (2, "社区党委"),
    "general_branch": (2, "党总支"),
    "branch": (3, "党支部"),
    "group": (4, "党小组"),
    "household": (5, "党员中心户"),
}
LEVEL_LABELS = {1: "街道党工委", 2: "社区党委/党总支", 3: "小区（网格）党支部", 4: "楼栋党小组", 5: "党员中心户"}

STAGES: tuple[str, ...] = ("applicant", "activist", "candidate", "probationary", "full")
STAGE_LABELS = {"applicant": "入党申请人", "activist": "入党积极分子", "candidate": "发展对象",
                "probationary": "预备党员", "full": "正式党员"}
STATUS_LABELS = {"normal": "正常", "suspended": "停止党籍", "left": "已出党", "deceased": "已去世",
                 "transferred_out": "已转出"}
CATEGORY_LABELS = {"employed": "在职", "retired": "离退休", "farmer": "农牧渔民", "student": "学生",
                   "unemployed": "无业", "dibao": "低保"}

TRANSFER_STATUS = {"issued": "已开出", "received": "已回执", "cancelled": "已作废", "registered": "已接收"}

MEETING_KINDS: dict[str, str] = {
    "assembly": "党员大会", "committee": "支委会", "group": "党小组会", "lecture": "党课",
    "theme_day": "主题党日", "life_meeting": "组织生活会", "appraisal": "民主评议党员", "other": "其他会议",
}

PERIOD_LABELS = {"month": "每月", "quarter": "每季度", "year": "每年"}
