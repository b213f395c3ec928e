"""Report definitions (no Qt): 志愿服务证明, 积分对账单, 志愿者花名册, 志愿服务时长统计表, 积分兑换台账,
爱心超市库存台账. Builders take a ServiceContext and return a spec; rows are streamed."""
from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, select

from reports import Column, DocumentSpec, ItemsTable, LedgerSpec
from reports.spec import as_of, cn_date, cn_period
from shell.contracts import ReportDefinition, ReportParameter
from shell.core import personal
from shell.core.areas import scope_filter, subtree_filter
from shell.core.models import Area, User
from shell.core.reporting import heading, unit_name
from shell.errors import ValidationError

from . import services as sv
from .models import (
    ACTIVITY_STATES,
    ORDER_STATES,
    POINT_KINDS,
    STAR_LABELS,
    STAR_THRESHOLDS_HOURS,
    Activity,
    Attendance,
    HoursEntry,
    PointsEntry,
    RedemptionLine,
    RedemptionOrder,
    RewardItem,
    StockMove,
    Team,
    Volunteer,
)
from .rules import P_CERTIFICATE, P_VIEW, load_rules


def _month_range(first: date, last: date | None = None) -> tuple[date, date]:
    last = last or first
    end = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    return first.replace(day=1), end


def _period_text(start: date, end_excl: date) -> str:
    from datetime import timedelta

    return cn_period(start, end_excl - timedelta(days=1))


def _volunteer(ctx, number: str) -> Volunteer:
    if not number:
        raise ValidationError("请填写志愿者编号。", "number")
    return sv.find_by_number(ctx, number)


# --------------------------------------------------------------------------- 志愿服务证明

def build_certificate(ctx, params) -> DocumentSpec:
    v = _volunteer(ctx, params.get("number"))
    cert, services = sv.issue_certificate(ctx, v.id, params.get("date_from"), params.get("date_to"))
    rules = load_rules(ctx.session)
    total = sv.hours_text(cert.minutes)
    period = ""
    if cert.period_from or cert.period_to:
        period = f"{cn_date(cert.period_from) or '登记之日'}至{cn_date(cert.period_to) or '今'}期间，"
    contents = "、".join(dict.fromkeys(s["activity"] for s in services))
    body = [f"兹证明 {v.name}（志愿者编号 {v.number}）{period}参加志愿服务活动"
            f" {len(services)} 次，经活动负责人审核，累计志愿服务时长 {total} 小时。主要服务内容：{contents}。",
            "以上志愿服务信息真实、准确、完整，由组织单位依据服务记录出具（谁组织谁记录、谁记录谁证明）；"
            "本证明编号唯一，可向出具单位核验。特此证明。"]
    items = ItemsTable(
        title="志愿服务记录",
        # Widths chosen so a usual line does not wrap: the issuer and seal then stay on page 1.
        columns=[Column("日期", 26, kind="date"), Column("活动名称", "3*"), Column("地点", "3*"), Column("服务内容", "4*"),
                 Column("小时", 16, align="right", kind="hours")],
        rows=[(s["date"], s["activity"], s["place"], s["content"], sv.hours_text(s["minutes"])) for s in services],
        totals=("合计", "", "", "", total))
    issuer = [rules.issuer_name or unit_name(ctx, v.area_id)]
    if rules.issuer_head:
        issuer.append(f"负责人：{rules.issuer_head}")
    issuer.append(f"经办人：{ctx.actor.display_name}")
    if rules.issuer_contact:
        issuer.append(f"联系电话：{rules.issuer_contact}")
    return DocumentSpec(
        title="志愿服务证明", number=cert.number, unit_name=issuer[0],
        fields=[("姓名", v.name), ("性别", v.gender), ("证件类型", "居民身份证"),
                ("证件号码", personal.reveal(ctx, v, "id_number")),
                ("志愿者编号", v.number), ("累计服务时长", f"{total} 小时")],
        # The uniqueness note is in the body (not a separate note) so a usual certificate, with
        # its issuer and seal, fits on one page.
        body=body, items=items, issuer=tuple(issuer), signature=(), date=ctx.today())


# --------------------------------------------------------------------------- 兑换单

def build_receipt(ctx, params) -> DocumentSpec:
    """爱心超市兑换单: the paper the volunteer signs for the goods (printed at the counter after each
    redemption, reprinted by 兑换单号 from the report centre; a cancelled order is marked as such)."""
    from shell.clock import format_local

    try:
        order_id = int(str(params.get("order") or "").strip().lstrip("#"))
    except ValueError:
        raise ValidationError(f"兑换单号“{params.get('order')}”不是数字。", "order", params.get("order")) from None
    r = sv.receipt(ctx, order_id)
    rows = [(name, f"{price} 分/{unit}", f"{qty} {unit}", price * qty) for name, unit, price, qty in r.lines]
    body = [f"{r.volunteer_name}（志愿者编号 {r.volunteer_number}）以志愿服务积分兑换上列物品，共使用积分 "
            f"{r.total_points} 分" + (f"，兑换后积分余额 {r.balance_after} 分。" if r.balance_after is not None else "。")]
    if r.status == "cancelled":
        body.append(f"本兑换单已撤销（{r.cancel_reason}），积分已退回、物品已返还库存。")
    return DocumentSpec(
        title="爱心超市兑换单", number=str(r.order_id), unit_name=unit_name(ctx, None),
        fields=[("志愿者", r.volunteer_name), ("志愿者编号", r.volunteer_number), ("所属社区", r.area_name),
                ("兑换时间", format_local(r.at)), ("经办人", r.handler or "—"), ("使用积分", f"{r.total_points} 分")],
        body=body,
        items=ItemsTable(title="兑换物品", columns=[Column("物品", "3*"), Column("所需积分", 30, align="right"),
                                                  Column("数量", 22, align="right"),
                                                  Column("小计（分）", 26, align="right", kind="int")],
                         rows=rows, totals=("合计", "", "", r.total_points)),
        signature=("领取人签字", "经办人签字"), date=r.at.date(), seal=False)


# --------------------------------------------------------------------------- 积分对账单

def build_statement(ctx, params) -> LedgerSpec:
    v = _volunteer(ctx, params.get("number"))
    start, end = _month_range(params["month_from"], params.get("month_to"))
    s_utc, e_utc = sv.local_midnight(start), sv.local_midnight(end)
    opening = ctx.session.scalar(select(PointsEntry.balance_after).where(PointsEntry.volunteer_id == v.id,
                                                                         PointsEntry.at < s_utc)
                                 .order_by(PointsEntry.id.desc()).limit(1)) or 0
    entries = sv.points_history(ctx, v.id, s_utc, e_utc)
    gained = sum(e.points for e in entries if e.points > 0)
    spent = -sum(e.points for e in entries if e.points < 0)
    closing = entries[-1].balance_after if entries else opening
    rows = ((sv.format_local(e.at), POINT_KINDS.get(e.kind, e.kind), e.points if e.points > 0 else "",
             -e.points if e.points < 0 else "", e.balance_after, e.reason) for e in entries)
    return LedgerSpec(
        title="积分对账单", **heading(ctx).fields, period=_period_text(start, end),
        columns=[Column("时间", 32, kind="datetime"), Column("类别", 18), Column("增加", 16, align="right", kind="number"),
                 Column("减少", 16, align="right", kind="number"), Column("结余", 18, align="right", kind="number"),
                 Column("摘要", "*")],
        rows=rows, totals=("合计", "", gained, spent, closing, ""),
        notes=(f"志愿者：{v.name}（编号 {v.number}）；期初积分 {opening}，本期增加 {gained}，本期减少 {spent}，"
               f"期末积分 {closing}。",
               "兑换积分不影响服务时长。"),
        signature=("经办人", "志愿者签字", "日期"))


# --------------------------------------------------------------------------- 志愿者花名册

def build_roster(ctx, params) -> LedgerSpec:
    ctx.actor.require(P_VIEW)
    q = (select(Volunteer.number, Volunteer.name, Volunteer.gender, Volunteer.birth_date, Volunteer.id_number,
                Volunteer.phone, Area.name, Volunteer.skills, sv.ACCOUNTS.c.approved_minutes, Volunteer.active)
         .join(Area, Area.id == Volunteer.area_id)
         .join(sv.ACCOUNTS, sv.ACCOUNTS.c.volunteer_id == Volunteer.id)
         .where(scope_filter(Volunteer.area_id, ctx.actor)).order_by(Area.sort_order, Area.id, Volunteer.number))
    area_id = params.get("area")
    area = None
    if area_id:
        area = sv._area(ctx, area_id, "辖区")
        q = q.where(subtree_filter(Volunteer.area_id, area))
    if params.get("status") == "active":
        q = q.where(Volunteer.active.is_(True))

    def rows():
        for n, name, g, b, idn, ph, area_name, skills, minutes, active in ctx.session.execute(q):
            yield (n, name, g, b, idn, ph, area_name, skills, sv.hours_text(minutes), sv.star_label(minutes),
                   "在册" if active else "停用")
    return LedgerSpec(
        title="志愿者花名册", **heading(ctx, area).fields, period=as_of(ctx.today()), orientation="landscape",
        columns=[Column("编号", 24), Column("姓名", 18), Column("性别", 10, align="center"), Column("出生日期", 22, kind="date"),
                 Column("身份证号", 38, mask="id"), Column("联系电话", 26, mask="phone"), Column("社区", 22),
                 Column("服务技能", "*"), Column("累计时长（小时）", 20, align="right", kind="hours"), Column("星级", 14),
                 Column("状态", 12)],
        rows=rows(), totals="auto", count_unit="人")


# --------------------------------------------------------------------------- 志愿服务时长统计表

GROUPS = (("community", "按社区"), ("team", "按队伍"), ("month", "按月份"))


def build_hours_stats(ctx, params) -> LedgerSpec:
    ctx.actor.require(P_VIEW)
    year = int(params["year"])
    by = params.get("group") or "community"
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    base = (select(HoursEntry.volunteer_id, HoursEntry.minutes, HoursEntry.kind, HoursEntry.service_date,
                   HoursEntry.attendance_id)
            .where(HoursEntry.service_date >= start, HoursEntry.service_date < end))
    if not ctx.actor.is_superuser:   # a whole-street user needs no join for the scope
        base = base.join(Volunteer, Volunteer.id == HoursEntry.volunteer_id).where(
            scope_filter(Volunteer.area_id, ctx.actor))
    h = base.subquery()
    visits = func.sum(case((h.c.kind == "approve", 1), else_=-1))
    people = func.count(func.distinct(h.c.volunteer_id))
    minutes = func.sum(h.c.minutes)
    if by == "community":
        label = Area.name
        q = (select(label, visits, people, minutes).select_from(h)
             .join(Volunteer, Volunteer.id == h.c.volunteer_id).join(Area, Area.id == Volunteer.area_id)
             .group_by(Area.id, Area.name, Area.sort_order).order_by(Area.sort_order, Area.id))
        title = "社区"
    elif by == "team":
        label = func.coalesce(Team.name, "（未编队活动）")
        q = (select(label, visits, people, minutes).select_from(h)
             .join(Attendance, Attendance.id == h.c.attendance_id).join(Activity, Activity.id == Attendance.activity_id)
             .outerjoin(Team, Team.id == Activity.team_id).group_by(Team.id, Team.name).order_by(Team.id))
        title = "志愿队伍"
    elif by == "month":
        month = func.extract("month", h.c.service_date)
        q = select(month, visits, people, minutes).select_from(h).group_by(month).order_by(month)
        title = "月份"
    else:
        raise ValidationError(f"统计方式“{by}”无效。", "group", by)
    data = [(f"{int(g)}月" if by == "month" else g, int(n), int(p), int(m or 0))
            for g, n, p, m in ctx.session.execute(q)]
    rows = [(g, n, p, sv.hours_text(m), sv.hours_text(m // p) if p else "0") for g, n, p, m in data]
    total_people = ctx.session.scalar(select(func.count(func.distinct(h.c.volunteer_id))))
    return LedgerSpec(
        title="志愿服务时长统计表", **heading(ctx).fields, period=f"{year}年（{dict(GROUPS)[by]}）",
        columns=[Column(title, "*"), Column("服务人次", 22, align="right", kind="int"),
                 Column("服务人数", 22, align="right", kind="int"),
                 Column("服务时长（小时）", 30, align="right", kind="hours"),
                 Column("人均时长（小时）", 30, align="right", kind="hours")],
        # the total is the sum of the hours as printed (each row rounded to the hundredth), so the
        # column adds up on paper: 1070.81, not 1070.82 from the minutes
        rows=rows, totals=("合计", sum(d[1] for d in data), total_people, _hours_cell(sum(_hours(d[3]) for d in data)), ""),
        notes=("时长为活动负责人审核计入的实际服务时长（不含路途），已扣除冲正。",))


# --------------------------------------------------------------------------- 积分兑换台账

def build_redemptions(ctx, params) -> LedgerSpec:
    ctx.actor.require(P_VIEW)
    start, end = _month_range(params["month_from"], params.get("month_to"))
    orders = RedemptionOrder.__table__
    period = (orders.c.at >= sv.local_midnight(start), orders.c.at < sv.local_midnight(end),
              scope_filter(orders.c.area_id, ctx.actor))
    # Plain rows, no ORM objects: a month of a large street is ten thousand orders, and objects by
    # the ten thousand keep Python's garbage collector (and with it the GUI thread) busy.
    q = (select(orders.c.id, orders.c.at, Volunteer.name, Volunteer.number, orders.c.total_points, orders.c.status,
                orders.c.cancel_reason, User.display_name)
         .join(Volunteer, Volunteer.id == orders.c.volunteer_id)
         .outerjoin(User, User.id == orders.c.handled_by)
         .where(*period).order_by(orders.c.id))
    lines = (select(RedemptionLine.order_id, RewardItem.name, RedemptionLine.quantity)
             .join(orders, orders.c.id == RedemptionLine.order_id)
             .join(RewardItem, RewardItem.id == RedemptionLine.item_id)
             .where(*period).order_by(RedemptionLine.order_id, RedemptionLine.id))
    items: dict[int, str] = {}
    for order_id, name, qty in ctx.session.execute(lines):
        text = f"{name}×{qty}"
        items[order_id] = f"{items[order_id]}；{text}" if order_id in items else text

    n_orders, points, n_cancelled, refunded = ctx.session.execute(
        select(func.count(), func.coalesce(func.sum(orders.c.total_points), 0),
               func.coalesce(func.sum(case((orders.c.status == "cancelled", 1), else_=0)), 0),
               func.coalesce(func.sum(case((orders.c.status == "cancelled", orders.c.total_points), else_=0)), 0))
        .where(*period)).one()

    def rows():
        for oid, at, vname, vnum, total, status, reason, handler in ctx.session.execute(q):
            yield (oid, sv.format_local(at), vname, vnum, items.get(oid, ""), total,
                   ORDER_STATES.get(status, status) + (f"（{reason}）" if status == "cancelled" else ""),
                   handler or "（未记录）")
    return LedgerSpec(
        title="积分兑换台账", **heading(ctx).fields, period=_period_text(start, end), orientation="landscape",
        columns=[Column("单号", 16, align="right"), Column("兑换时间", 32, kind="datetime"), Column("志愿者", 20),
                 Column("编号", 24),
                 Column("兑换物品", "*"), Column("积分", 16, align="right", kind="int"), Column("状态", 30),
                 Column("经办人", 20)],
        rows=rows(), totals=("合计", f"{n_orders} 单", "", "", "", int(points), "", ""), count_unit="单",
        notes=(f"本期兑换 {n_orders} 单、{int(points)} 积分；其中撤销 {int(n_cancelled)} 单，退回 {int(refunded)} 积分，"
               f"实际兑换 {int(points) - int(refunded)} 积分。已撤销的兑换单积分已退回、库存已返还。",),
        signature=("经办人", "审核人", "负责人", "填报日期"))


# --------------------------------------------------------------------------- 爱心超市库存台账

def build_stock(ctx, params) -> LedgerSpec:
    ctx.actor.require(P_VIEW)
    start, end = _month_range(params["month_from"], params.get("month_to"))
    s_utc, e_utc = sv.local_midnight(start), sv.local_midnight(end)
    s = ctx.session
    items = list(s.execute(select(RewardItem.id, RewardItem.name, RewardItem.unit, RewardItem.points_price, Area.name)
                           .join(Area, Area.id == RewardItem.area_id)
                           .where(scope_filter(RewardItem.area_id, ctx.actor))
                           .order_by(Area.sort_order, Area.id, RewardItem.id)))
    sums = {}
    for item_id, kind, qty in s.execute(select(StockMove.item_id, StockMove.kind, func.sum(StockMove.quantity))
                                        .where(StockMove.at >= s_utc, StockMove.at < e_utc)
                                        .group_by(StockMove.item_id, StockMove.kind)):
        sums.setdefault(item_id, {})[kind] = int(qty)
    before = dict(s.execute(select(StockMove.item_id, func.sum(StockMove.quantity)).where(StockMove.at < s_utc)
                            .group_by(StockMove.item_id)).all())

    def rows():
        for item_id, name, unit, price, area_name in items:
            k = sums.get(item_id, {})
            opening = int(before.get(item_id) or 0)
            redeemed = -(k.get("redeem", 0) + k.get("cancel", 0))
            other = k.get("out", 0) + k.get("adjust", 0)
            closing = opening + sum(k.values())
            yield (area_name, name, unit, price, opening, k.get("in", 0), redeemed, other, closing)
    return LedgerSpec(
        title="爱心超市库存台账", **heading(ctx).fields, period=_period_text(start, end), orientation="landscape",
        columns=[Column("社区", 24), Column("物品", "*"), Column("单位", 12), Column("积分单价", 18, align="right", kind="int"),
                 Column("期初", 16, align="right", kind="number"), Column("入库", 16, align="right", kind="number"),
                 Column("兑换出库（净）", 24, align="right", kind="number"),
                 Column("其他出库/盘点", 24, align="right", kind="number"),
                 Column("期末", 16, align="right", kind="number")],
        rows=rows(), notes=("出入库记录只增不改；更正以新的出入库或盘点调整记录体现。",))


# --------------------------------------------------------------------------- 志愿服务活动记录台账

def _hours(minutes: int) -> float:
    """Hours as printed, to the hundredth: sums and totals add these, so a total equals its rows."""
    return round(minutes / 60, 2)


def _hours_cell(v) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return "" if v is None else str(v)


def build_activities(ctx, params) -> LedgerSpec:
    """志愿服务活动记录台账: every activity begun in the period — date and time, name, organiser,
    place, 服务对象, 服务内容, the volunteers whose service was approved and their hours, 负责人
    and 记录人 (谁组织谁记录) — by community, with people and hours summed per community."""
    ctx.actor.require(P_VIEW)
    start, end = _month_range(params["month_from"], params.get("month_to"))
    area = sv._area(ctx, params["area"], "辖区") if params.get("area") else None
    approved = (select(Attendance.activity_id, func.count().label("n"), func.sum(Attendance.minutes).label("m"))
                .where(Attendance.status == "approved").group_by(Attendance.activity_id).subquery())
    q = (select(Activity.starts_at, Activity.ends_at, Activity.name, Activity.organiser, Team.name, Activity.place,
                Activity.target, Activity.content, approved.c.n, approved.c.m, Activity.leader_name,
                Activity.recorder_name, Activity.status, Area.name)
         .join(Area, Area.id == Activity.area_id).outerjoin(Team, Team.id == Activity.team_id)
         .outerjoin(approved, approved.c.activity_id == Activity.id)
         .where(scope_filter(Activity.area_id, ctx.actor), Activity.starts_at >= sv.local_midnight(start),
                Activity.starts_at < sv.local_midnight(end))
         .order_by(Area.sort_order, Area.id, Activity.starts_at, Activity.id))
    if area is not None:
        q = q.where(subtree_filter(Activity.area_id, area))
    rows, people, hours = [], 0, 0.0
    for st, en, name, organiser, team, place, target, content, n, m, leader, recorder, status, area_name in \
            ctx.session.execute(q):
        day = sv.local_date(st)
        n, m = int(n or 0), int(m or 0)
        people += n
        hours += _hours(m)
        rows.append((day, f"{sv.format_local(st)[11:16]}—{sv._clock_text(en, day)}", name,
                     organiser or team or "", place, target, content, n, _hours(m), leader, recorder,
                     ACTIVITY_STATES.get(status, status), area_name))
    last = date.fromordinal(end.toordinal() - 1)
    return LedgerSpec(
        title="志愿服务活动记录台账", **heading(ctx, area).fields, period=cn_period(start, last), orientation="landscape",
        font_size=8,
        columns=[Column("日期", 22, kind="date"), Column("时间", 22),
                 Column("活动名称", "1.5*"), Column("组织单位", "1.2*"), Column("地点", "1.2*"), Column("服务对象", "1*"),
                 Column("服务内容", "2*"), Column("参加人数", 13, align="right", kind="int"),
                 Column("服务时长（小时）", 18, align="right", kind="hours", formatter=_hours_cell),
                 Column("负责人", 15), Column("记录人", 15), Column("状态", 13)],
        rows=rows, group_by=lambda r: r[-1], subtotals=[7, 8], count_unit="次",
        totals=(f"合计：{len(rows)} 次", "", "", "", "", "", "", people, round(hours, 2), "", "", ""),
        notes=("参加人数、服务时长为审核计入的人次与时长（不含未审核、已驳回的签到）；谁组织谁记录、谁记录谁证明。",))


# --------------------------------------------------------------------------- 星级评定台账

def build_stars(ctx, params) -> LedgerSpec:
    """星级评定台账: volunteers by star level (一星 100 h … 五星 1500 h of approved service), the
    date each reached the level (from the hours ledger's running balance), and the hours still
    needed for the next one; counted per level."""
    ctx.actor.require(P_VIEW)
    area = sv._area(ctx, params["area"], "辖区") if params.get("area") else None
    q = (select(Volunteer.id, Volunteer.number, Volunteer.name, Volunteer.gender, Area.name,
                sv.ACCOUNTS.c.approved_minutes)
         .join(Area, Area.id == Volunteer.area_id).join(sv.ACCOUNTS, sv.ACCOUNTS.c.volunteer_id == Volunteer.id)
         .where(scope_filter(Volunteer.area_id, ctx.actor), Volunteer.active.is_(True),
                sv.ACCOUNTS.c.approved_minutes > 0))
    if area is not None:
        q = q.where(subtree_filter(Volunteer.area_id, area))
    found = [(vid, num, name, g, an, int(mins), sv.star_level(mins)) for vid, num, name, g, an, mins in ctx.session.execute(q)]
    # the day each starred volunteer's running balance first reached their level
    reached: dict[int, date] = {}
    starred = [f for f in found if f[6] > 0]
    for vid, *_x, level in starred:
        need = STAR_THRESHOLDS_HOURS[level - 1] * 60
        reached[vid] = ctx.session.scalar(select(func.min(HoursEntry.service_date)).where(
            HoursEntry.volunteer_id == vid, HoursEntry.balance_after >= need))
    found.sort(key=lambda f: (-f[6], -f[5], f[1]))
    rows = []
    for vid, num, name, g, area_name, mins, level in found:
        nxt = STAR_THRESHOLDS_HOURS[level] * 60 if level < len(STAR_THRESHOLDS_HOURS) else None
        rows.append((num, name, g, area_name, _hours(mins), reached.get(vid),
                     STAR_LABELS[level + 1] if nxt else "（最高星级）", _hours(nxt - mins) if nxt else None,
                     STAR_LABELS[level] or "未评星"))
    counts = {}
    for r in rows:
        counts[r[-1]] = counts.get(r[-1], 0) + 1
    summary = "；".join(f"{label} {counts[label]} 人" for label in (*STAR_LABELS[5:0:-1], "未评星") if label in counts)
    return LedgerSpec(
        title="志愿者星级评定台账", **heading(ctx, area).fields, period=as_of(ctx.today()),
        columns=[Column("志愿者编号", 28), Column("姓名", 18),
                 Column("性别", 10, align="center"), Column("社区", "1*"),
                 Column("累计时长（小时）", 22, align="right", kind="hours", formatter=_hours_cell),
                 Column("达到本星级日期", 24, kind="date"), Column("下一星级", 20),
                 Column("尚差时长（小时）", 22, align="right", kind="hours", formatter=_hours_cell)],
        rows=rows, group_by=lambda r: r[-1], subtotals=True, count_unit="人",
        totals=(f"合计：{len(rows)} 人", "", "", "", round(sum(r[4] for r in rows), 2), "", "", None),
        notes=("星级按审核计入的累计服务时长评定：一星 100 小时、二星 300 小时、三星 600 小时、四星 1000 小时、五星 1500 小时。"
               f"按星级统计：{summary or '无'}。", "兑换积分不减少服务时长。"))


REPORTS = (
    ReportDefinition("volunteer.certificate", "志愿服务证明", build_certificate,
                     (ReportParameter("number", "志愿者编号"),
                      ReportParameter("date_from", "服务起始日期", kind="date", required=False),
                      ReportParameter("date_to", "服务截止日期", kind="date", required=False)),
                     permission=P_CERTIFICATE, category="志愿服务"),
    ReportDefinition("volunteer.statement", "积分对账单", build_statement,
                     (ReportParameter("number", "志愿者编号"), ReportParameter("month_from", "起始月份", kind="month"),
                      ReportParameter("month_to", "截止月份", kind="month", required=False)),
                     permission=P_VIEW, category="志愿服务"),
    ReportDefinition("volunteer.roster", "志愿者花名册", build_roster,
                     (ReportParameter("area", "辖区", kind="area", required=False),
                      ReportParameter("status", "范围", kind="choice", default="active",
                                      choices=(("active", "在册志愿者"), ("all", "全部（含停用）")))),
                     permission=P_VIEW, category="志愿服务"),
    ReportDefinition("volunteer.hours", "志愿服务时长统计表", build_hours_stats,
                     (ReportParameter("year", "年度", kind="year", default=date.today().year),
                      ReportParameter("group", "统计方式", kind="choice", default="community", choices=GROUPS)),
                     permission=P_VIEW, category="志愿服务"),
    ReportDefinition("volunteer.redemptions", "积分兑换台账", build_redemptions,
                     (ReportParameter("month_from", "起始月份", kind="month"),
                      ReportParameter("month_to", "截止月份", kind="month", required=False)),
                     permission=P_VIEW, category="志愿服务"),
    ReportDefinition("volunteer.activities", "志愿服务活动记录台账", build_activities,
                     (ReportParameter("month_from", "起始月份", kind="month"),
                      ReportParameter("month_to", "截止月份", kind="month", required=False),
                      ReportParameter("area", "辖区", kind="area", required=False)),
                     permission=P_VIEW, category="志愿服务"),
    ReportDefinition("volunteer.stars", "志愿者星级评定台账", build_stars,
                     (ReportParameter("area", "辖区", kind="area", required=False),),
                     permission=P_VIEW, category="志愿服务"),
    ReportDefinition("volunteer.receipt", "爱心超市兑换单", build_receipt,
                     (ReportParameter("order", "兑换单号", kind="int"),), permission=P_VIEW, category="志愿服务"),
    ReportDefinition("volunteer.stock", "爱心超市库存台账", build_stock,
                     (ReportParameter("month_from", "起始月份", kind="month"),
                      ReportParameter("month_to", "截止月份", kind="month", required=False)),
                     permission=P_VIEW, category="志愿服务"),
)
