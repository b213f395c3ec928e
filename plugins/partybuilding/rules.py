"""Permission codes and configurable norms of the party-building plugin: plain data, no SQLAlchemy,
so the hooks the shell calls at start-up (permissions, roles, settings) do not import the models."""
from __future__ import annotations

from shell.contracts import SettingDefinition, TableAccess

VIEW = "partybuilding.view"
ORG_MANAGE = "partybuilding.org.manage"
MEMBER_MANAGE = "partybuilding.member.manage"
TRANSFER = "partybuilding.transfer"
MEETING = "partybuilding.meeting"
DUES = "partybuilding.dues"
RULES = "partybuilding.rules"

PERMISSIONS: dict[str, str] = {
    VIEW: "查看党建信息",
    ORG_MANAGE: "管理党组织（新建、更名、撤销、调整隶属）",
    MEMBER_MANAGE: "管理党员信息与发展党员",
    TRANSFER: "办理组织关系转接",
    MEETING: "记录三会一课等组织生活",
    DUES: "党费收缴登记",
    RULES: "设置组织生活频次规则",
}

SETTINGS: tuple[SettingDefinition, ...] = (
    SettingDefinition("partybuilding.branch.min_full", "党支部最少正式党员数", 3, minimum=1, maximum=20,
                      description="正式党员少于此数的党支部列为问题"),
    SettingDefinition("partybuilding.branch.max_members", "党支部党员数上限", 50, minimum=10, maximum=500,
                      description="党员超过此数的党支部提示拆分"),
    SettingDefinition("partybuilding.branch.committee_threshold", "设支委会的正式党员数", 7, minimum=3, maximum=50,
                      description="正式党员达到此数的党支部应设支部委员会"),
    SettingDefinition("partybuilding.committee.term_years", "党组织委员会任期（年）", 5, minimum=1, maximum=10),
    SettingDefinition("partybuilding.transfer.max_valid_days", "介绍信有效期上限（天）", 90, minimum=1, maximum=365),
    SettingDefinition("partybuilding.transfer.receipt_days", "回执应退回天数", 30, minimum=1, maximum=180,
                      description="开出介绍信后多少天内应收到回执"),
    SettingDefinition("partybuilding.transfer.prefix", "介绍信字号", "党组介字", kind="text",
                      description="印在介绍信编号前，如“党组介字〔2026〕第0001号”"),
    SettingDefinition("partybuilding.probation.due_days", "转正提前提醒天数", 30, minimum=0, maximum=180),
    SettingDefinition("partybuilding.lost_contact_months", "失联认定月数", 6, minimum=1, maximum=24),
    SettingDefinition("partybuilding.dues.bands_employed", "在职党员党费比例", "3000:0.5;5000:1;10000:1.5;*:2",
                      kind="text", description="税后月收入上限（元，含）:比例（%），分号分隔，最后一档写 *"),
    SettingDefinition("partybuilding.dues.bands_retired", "离退休党员党费比例", "5000:0.5;*:1", kind="text",
                      description="月退休费上限（元，含）:比例（%），分号分隔，最后一档写 *"),
    SettingDefinition("partybuilding.dues.flat_fen", "学生、无业、低保党员每月党费（分）", 20, minimum=0, maximum=1000),
    SettingDefinition("partybuilding.dues.farmer_fen", "农牧渔民党员每月党费默认（分）", 20, minimum=20, maximum=100),
    SettingDefinition("partybuilding.dues.since", "党费台账起始月份", "", kind="text",
                      description="如 2026-01：此前的月份不计欠缴（启用本系统前的党费在纸质台账上）；空 = 不限"),
    SettingDefinition("partybuilding.dues.flag_months", "连续未交党费提示月数", 6, minimum=1, maximum=24),
)

# Who reaches each table on a secured server database (shell/db/security; rows by area: RLS).
_PB_VIEW = (VIEW,)
_PB_EDIT = (ORG_MANAGE, MEMBER_MANAGE, TRANSFER)
TABLE_ACCESS = (
    TableAccess("partybuilding_orgs", read=_PB_VIEW, write=(ORG_MANAGE,)),
    TableAccess("partybuilding_org_events", read=_PB_VIEW, write=(ORG_MANAGE,)),
    TableAccess("partybuilding_members", read=_PB_VIEW, write=_PB_EDIT),
    TableAccess("partybuilding_memberships", read=_PB_VIEW, write=_PB_EDIT),
    TableAccess("partybuilding_counters", read=_PB_VIEW, write=_PB_EDIT + (MEETING, DUES)),
    TableAccess("partybuilding_transfers", read=_PB_VIEW, write=(TRANSFER,)),
    TableAccess("partybuilding_meeting_rules", read=_PB_VIEW, write=(RULES,)),
    TableAccess("partybuilding_meetings", read=_PB_VIEW, write=(MEETING,)),
    TableAccess("partybuilding_attendance", read=_PB_VIEW, write=(MEETING,)),
    TableAccess("partybuilding_dues_payments", read=_PB_VIEW, write=(DUES,)),
    TableAccess("partybuilding_community_reports", read=_PB_VIEW, write=_PB_EDIT + (MEETING,)),
    TableAccess("partybuilding_community_services", read=_PB_VIEW, write=_PB_EDIT + (MEETING,)),
    TableAccess("partybuilding_household_links", read=_PB_VIEW, write=_PB_EDIT),
)
