"""Points and redemption rules (local practice, configurable per street; DOMAIN §2) and permission codes.

Light on purpose: the plugin module imports this at hook-call time only."""
from __future__ import annotations

from dataclasses import dataclass

from shell.contracts import Permission, RoleTemplate, SettingDefinition, TableAccess

P_VIEW = "volunteer.view"
P_MANAGE = "volunteer.manage"
P_ACTIVITY = "volunteer.activity"
P_APPROVE = "volunteer.approve"
P_POINTS = "volunteer.points.adjust"
P_REDEEM = "volunteer.redeem"
P_STORE = "volunteer.store.manage"
P_CERTIFICATE = "volunteer.certificate"

PERMISSIONS = (
    Permission(P_VIEW, "查看志愿者、服务记录与积分"),
    Permission(P_MANAGE, "登记和维护志愿者、志愿队伍（含导入导出）"),
    Permission(P_ACTIVITY, "组织志愿活动、报名与签到签退"),
    Permission(P_APPROVE, "审核服务时长与冲正"),
    Permission(P_POINTS, "调整积分、执行积分过期"),
    Permission(P_REDEEM, "爱心超市积分兑换与撤销"),
    Permission(P_STORE, "管理爱心超市商品与库存"),
    Permission(P_CERTIFICATE, "出具志愿服务证明"),
)
ALL_CODES = tuple(p.code for p in PERMISSIONS)

ROLES = (
    RoleTemplate("volunteer_admin", "志愿服务管理员", ALL_CODES, "街道志愿服务中心：志愿者、活动、积分与爱心超市"),
    RoleTemplate("street_staff", "街道工作人员", (P_VIEW,)),
    RoleTemplate("community_staff", "社区工作人员",
                 (P_VIEW, P_MANAGE, P_ACTIVITY, P_APPROVE, P_REDEEM, P_STORE, P_CERTIFICATE)),
    RoleTemplate("grid_worker", "网格员", (P_VIEW, P_ACTIVITY)),
)

SETTINGS = (
    SettingDefinition("volunteer.points_per_hour", "每服务 1 小时计积分", 1, minimum=0, maximum=100,
                      description="新建活动的默认值；常见 1 小时 = 1 分，有的城市 1 小时 = 10 分。不足整分的部分舍去。"),
    SettingDefinition("volunteer.cap_minutes", "每次活动最多计入时长（分钟）", 120, minimum=0, maximum=1440,
                      description="新建活动的默认值，0 表示不封顶；每个活动可单独修改。"),
    SettingDefinition("volunteer.signout_margin_minutes", "签到签退可超出活动时间（分钟）", 60, minimum=0, maximum=1440,
                      description="签到早于活动开始、签退晚于活动结束超过这么多分钟的，不予登记（须由审核人更正时间）；"
                                  "签到签退时间也不能晚于当前时间。0 表示须在活动时间之内。"),
    SettingDefinition("volunteer.redeem_min_hours", "累计服务满多少小时方可兑换", 0, minimum=0, maximum=10000,
                      description="0 表示不设门槛；如 5 小时，或一星志愿者 100 小时。"),
    SettingDefinition("volunteer.redeem_months", "允许兑换的月份", "", kind="text",
                      description="用逗号分隔的月份，如“3,6,9,12”表示每季度末月；留空表示每月都可兑换。"),
    SettingDefinition("volunteer.redeem_day_from", "每月兑换开始日", 1, minimum=1, maximum=31),
    SettingDefinition("volunteer.redeem_day_to", "每月兑换截止日", 31, minimum=1, maximum=31),
    SettingDefinition("volunteer.balance_cap", "积分余额上限", 0, minimum=0, maximum=1_000_000,
                      description="0 表示不设上限；达到上限后服务积分不再累加（服务时长照常记录）。"),
    SettingDefinition("volunteer.expiry_months", "积分有效期（月）", 0, minimum=0, maximum=240,
                      description="0 表示积分永久有效；否则先获得的积分先使用，超过有效期未使用的积分作过期处理。"),
    SettingDefinition("volunteer.certificate_prefix", "志愿服务证明编号前缀", "ZYFW", kind="text"),
    SettingDefinition("volunteer.issuer_name", "证明出具单位", "", kind="text",
                      description="留空时使用单位名称（core.unit_name）。"),
    SettingDefinition("volunteer.issuer_head", "出具单位负责人", "", kind="text"),
    SettingDefinition("volunteer.issuer_contact", "出具单位联系电话", "", kind="text"),
)
SETTING_BY_KEY = {d.key: d for d in SETTINGS}


@dataclass(frozen=True)
class Rules:
    points_per_hour: int = 1
    cap_minutes: int = 120
    redeem_min_hours: int = 0
    redeem_months: tuple[int, ...] = ()
    redeem_day_from: int = 1
    redeem_day_to: int = 31
    balance_cap: int = 0
    expiry_months: int = 0
    certificate_prefix: str = "ZYFW"
    issuer_name: str = ""
    issuer_head: str = ""
    issuer_contact: str = ""
    signout_margin_minutes: int = 60


def parse_months(text: str) -> tuple[int, ...]:
    out = []
    for part in str(text or "").replace("，", ",").replace("、", ",").split(","):
        part = part.strip().rstrip("月")
        if part.isdigit() and 1 <= int(part) <= 12:
            out.append(int(part))
    return tuple(sorted(set(out)))


def load_rules(session) -> Rules:
    from shell.core import settings

    values = settings.all_values(session, SETTINGS)
    unit = settings.core(session, "core.unit_name")
    return Rules(
        points_per_hour=int(values["volunteer.points_per_hour"]),
        cap_minutes=int(values["volunteer.cap_minutes"]),
        redeem_min_hours=int(values["volunteer.redeem_min_hours"]),
        redeem_months=parse_months(values["volunteer.redeem_months"]),
        redeem_day_from=int(values["volunteer.redeem_day_from"]),
        redeem_day_to=int(values["volunteer.redeem_day_to"]),
        balance_cap=int(values["volunteer.balance_cap"]),
        expiry_months=int(values["volunteer.expiry_months"]),
        certificate_prefix=str(values["volunteer.certificate_prefix"] or ""),
        issuer_name=str(values["volunteer.issuer_name"] or unit or ""),
        issuer_head=str(values["volunteer.issuer_head"] or ""),
        issuer_contact=str(values["volunteer.issuer_contact"] or ""),
        signout_margin_minutes=int(values["volunteer.signout_margin_minutes"]),
    )

# Who reaches each table on a secured server database (shell/db/security; rows by area: RLS). The
# ledgers are append-only: nobody is granted UPDATE or DELETE on them.
TABLE_ACCESS = (
    TableAccess("volunteer_volunteers", read=(P_VIEW,), write=(P_MANAGE,)),
    TableAccess("volunteer_accounts", read=(P_VIEW,), write=(P_MANAGE, P_APPROVE, P_POINTS, P_REDEEM)),
    TableAccess("volunteer_teams", read=(P_VIEW,), write=(P_MANAGE,)),
    TableAccess("volunteer_team_members", read=(P_VIEW,), write=(P_MANAGE,)),
    TableAccess("volunteer_activities", read=(P_VIEW,), write=(P_ACTIVITY, P_APPROVE)),
    TableAccess("volunteer_attendances", read=(P_VIEW,), write=(P_ACTIVITY, P_APPROVE)),
    TableAccess("volunteer_hours_ledger", read=(P_VIEW,), append=(P_APPROVE,)),
    TableAccess("volunteer_points_ledger", read=(P_VIEW,), append=(P_APPROVE, P_POINTS, P_REDEEM)),
    TableAccess("volunteer_reward_items", read=(P_VIEW,), write=(P_STORE, P_REDEEM)),
    TableAccess("volunteer_stock_moves", read=(P_VIEW,), append=(P_STORE, P_REDEEM)),
    TableAccess("volunteer_redemptions", read=(P_VIEW,), write=(P_REDEEM,)),
    TableAccess("volunteer_redemption_lines", read=(P_VIEW,), write=(P_REDEEM,)),
    TableAccess("volunteer_counters", read=(P_VIEW,), write=(P_MANAGE, P_CERTIFICATE)),
    TableAccess("volunteer_certificates", read=(P_VIEW,), write=(P_CERTIFICATE,)),
)
