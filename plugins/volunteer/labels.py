"""Volunteer choices and labels (plain data: no SQLAlchemy, no Qt), for the models, services and views."""
from __future__ import annotations

GENDERS = ("男", "女")
ID_TYPES = {"111": "居民身份证"}

ATTENDANCE_STATES = {
    "enrolled": "已报名", "signed_in": "已签到", "signed_out": "已签退", "approved": "已审核",
    "rejected": "未通过", "cancelled": "已取消",
}
ACTIVITY_STATES = {"open": "未结束", "closed": "已结束", "cancelled": "已取消"}  # open: upcoming or under way
# A list filter beside the states: open activities whose end time has passed — waiting for their
# organiser to sign the last volunteers out and 结束活动 (services._activity_conditions).
ACTIVITY_ENDED_OPEN = "ended_open"
ACTIVITY_FILTER_LABELS = {ACTIVITY_ENDED_OPEN: "已过结束时间未结束"}
POINT_KINDS = {"earn": "服务积分", "redeem": "兑换", "refund": "兑换退回", "adjust": "调整", "expire": "过期",
               "reverse": "冲正"}
HOUR_KINDS = {"approve": "审核计入", "reverse": "冲正"}
STOCK_KINDS = {"in": "入库", "out": "出库", "adjust": "盘点调整", "redeem": "兑换出库", "cancel": "兑换退回"}
LIMIT_PERIODS = {"none": "不限", "month": "每月", "year": "每年", "total": "累计"}
ORDER_STATES = {"done": "已兑换", "cancelled": "已撤销"}

# Star levels by cumulative approved hours (DOMAIN §2).
STAR_THRESHOLDS_HOURS = (100, 300, 600, 1000, 1500)
STAR_LABELS = ("", "一星", "二星", "三星", "四星", "五星")
