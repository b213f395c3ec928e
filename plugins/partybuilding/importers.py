"""Excel import/export of members (the 16-item form plus stage dates), on the shared import engine
(``shell.core.importing``). Every row is checked by ``validation.clean_member`` — the rules of the
member form and of ``create_member`` — with row, column and value in Chinese; a file with any bad row
writes nothing unless the user accepts the valid rows. Each row then goes through the same service as
the form (``create_member``, then status, lost contact and mobile) in its own savepoint, inside one
savepoint for the file."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shell.contracts import ImporterDefinition, ImportResult
from shell.core import fields, personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.importing import Column, ImportSpec, PerRow, Row, Sheet, cell_text, import_sheet, write_rows
from shell.core.importing import definition as _definition
from shell.core.importing import write_template as _write_template
from shell.core.matching import MatchError, Resolver, path_text
from shell.gcpause import without_gc

from . import services as svc
from .models import CATEGORY_LABELS, STAGE_LABELS, STATUS_LABELS, Member, PartyOrg
from .validation import STAGE_DATES, clean_member, registered

KIND = "partybuilding-members"
ORG_NOTE = ("填党组织的完整名称，从上往下用“/”分隔，如：和平里社区党委/第一网格党支部（街道党工委可写可不写）；"
            "名称在管辖范围内唯一时也可只写名称")


def _date(label: str, key: str):
    return lambda v: fields.parse_date(v, label, key, required=False)


def _money_fen(v: Any) -> int | None:
    """元 with at most two decimals → fen; empty → None."""
    if cell_text(v) == "":
        return None
    return int(fields.positive_decimal(v, "月收入（元）", "income_fen", allow_zero=True) * 100)


SHEET = Sheet("党员", (
    Column("name", "姓名", required=True),
    Column("sex", "性别"),
    Column("ethnicity", "民族"),
    Column("id_number", "公民身份号码", ("身份证号", "身份证号码"), required=True, as_text=True),
    Column("education", "学历"),
    Column("category", "人员类别", note="在职、离退休、农牧渔民、学生、无业、低保；留空为在职"),
    Column("org", "所在党组织", ("党组织",), required=True, note=ORG_NOTE),
    Column("stage", "发展阶段", note="入党申请人、入党积极分子、发展对象、预备党员、正式党员；留空为正式党员"),
    Column("applied_on", "申请入党日期", parse=_date("申请入党日期", "applied_on")),
    Column("activist_on", "确定积极分子日期", parse=_date("确定积极分子日期", "activist_on")),
    Column("candidate_on", "确定发展对象日期", parse=_date("确定发展对象日期", "candidate_on")),
    Column("admitted_on", "加入党组织日期", parse=_date("加入党组织日期", "admitted_on")),
    Column("full_on", "转为正式党员日期", parse=_date("转为正式党员日期", "full_on")),
    Column("job", "工作岗位"),
    Column("phone", "联系电话", as_text=True),
    Column("address", "家庭住址"),
    Column("income_fen", "月收入（元）", parse=_money_fen),
    Column("status", "党籍状态", note="正常或停止党籍，留空为正常"),
    Column("lost_contact_on", "失联日期", parse=_date("失联日期", "lost_contact_on")),
    Column("mobile_destination", "外出流向"),
))
COLUMNS = SHEET.labels
FIELD_KEYS = {"org_id": "org", "since": "lost_contact_on", "mobile_since": "mobile_destination"}
_STAGE_BY_LABEL = {v: k for k, v in STAGE_LABELS.items()} | {"积极分子": "activist"}
_CATEGORY_BY_LABEL = {v: k for k, v in CATEGORY_LABELS.items()} | {"退休": "retired", "农民": "farmer"}
_STATUS_BY_LABEL = {v: k for k, v in STATUS_LABELS.items() if k in ("normal", "suspended")}


def org_paths(session) -> dict[int, list[str]]:
    """Every organisation's names from the top (街道党工委 → 社区党委 → 网格党支部), by id."""
    rows = list(session.execute(select(PartyOrg.id, PartyOrg.name, PartyOrg.path)))
    names = {i: n for i, n, _p in rows}
    return {i: [names.get(int(x), "") for x in (p or "").strip("/").split("/") if x] or [n] for i, n, p in rows}


def _org_lookup(ctx: ServiceContext) -> Resolver:
    """The organisations in scope by full path (和平里社区党委/第一网格党支部; the street's 党工委 may be
    written or left out), or by a bare name only one of them has."""
    paths = org_paths(ctx.session)
    return Resolver("党组织", [(o, paths.get(o.id, [o.name]), None) for o in svc.visible_orgs(ctx)])


def _create(ctx: ServiceContext, rec: dict[str, Any]) -> None:
    kw = {k: v for k, v in rec.items() if k not in ("status", "lost_contact_on", "mobile_destination")}
    m = svc.create_member(ctx, **kw)
    if rec["status"] != "normal":
        svc.set_status(ctx, m.id, rec["status"])
    if rec["lost_contact_on"]:
        svc.set_lost_contact(ctx, m.id, rec["lost_contact_on"])
    if rec["mobile_destination"]:
        svc.set_mobile(ctx, m.id, rec["mobile_destination"])


@without_gc
def import_members(ctx: ServiceContext, path, valid_only: bool = False, progress=None, cancel=None) -> ImportResult:
    ctx.actor.require(svc.MEMBER_MANAGE)
    orgs = _org_lookup(ctx)

    def check(row: Row) -> dict | None:
        c = row.cells
        org = None
        org_name = cell_text(c["org"])
        if not org_name:
            row.error("org", "请填写所在党组织。", org_name)
        else:
            try:
                org = orgs.find(org_name)
            except MatchError as e:
                row.error("org", e.message, org_name)
        stage_text = cell_text(c["stage"]) or "正式党员"
        stage = _STAGE_BY_LABEL.get(stage_text)
        if stage is None:
            row.error("stage", "发展阶段应为：" + "、".join(STAGE_LABELS.values()), stage_text)
        cat_text = cell_text(c["category"]) or "在职"
        category = _CATEGORY_BY_LABEL.get(cat_text)
        if category is None:
            row.error("category", "人员类别应为：" + "、".join(CATEGORY_LABELS.values()), cat_text)
        status_text = cell_text(c["status"]) or "正常"
        status = _STATUS_BY_LABEL.get(status_text)
        if status is None:
            row.error("status", "党籍状态导入时只能是“正常”或“停止党籍”", status_text)
        kw = dict(name=cell_text(c["name"]), id_number=cell_text(c["id_number"]), stage=stage or stage_text,
                  sex=cell_text(c["sex"]) or None, ethnicity=cell_text(c["ethnicity"]) or "汉族",
                  education=cell_text(c["education"]) or None, category=category or cat_text,
                  job=cell_text(c["job"]) or None, phone=cell_text(c["phone"]) or None,
                  address=cell_text(c["address"]) or None, income_fen=c["income_fen"],
                  **{k: c[k] for k in STAGE_DATES})
        values, errors = clean_member(dict(kw, org_id=org.id if org is not None else None, org=org), ctx, unique=False)
        # a cell refused above is not refused again (an unreadable date is not also "missing")
        failed = {e.column for e in row.errors}
        row.field_errors([e for e in errors if SHEET.label(FIELD_KEYS.get(e.field, e.field)) not in failed],
                         FIELD_KEYS)
        if org is None or not row.ok:
            return None
        kw["id_number"] = values["id_number"]    # 18 digits: what the file's uniqueness is checked on
        return dict(kw, org_id=org.id, status=status, lost_contact_on=c["lost_contact_on"],
                    mobile_destination=cell_text(c["mobile_destination"]) or None)

    def existing(pairs) -> None:
        """The validator's "already registered" rule, for the whole file in a few queries."""
        rows = {rec["id_number"]: row for row, rec in pairs}
        for e in registered(ctx, list(rows)):
            rows[e.value].field_errors([e])

    spec = ImportSpec(SHEET, check, PerRow(_create, FIELD_KEYS), unique=("id_number",), existing=existing)
    return import_sheet(ctx, path, spec, valid_only=valid_only, progress=progress, cancel=cancel)


def _cell(value):
    return value if value is not None else ""


def export_members(ctx: ServiceContext, path) -> int:
    """All current members in scope; full ID numbers only for a holder of 查看完整身份证号码 (the export
    is then audited as one with full numbers), masked for anyone else."""
    ctx.actor.require(svc.VIEW)
    names = {i: path_text(p) for i, p in org_paths(ctx.session).items()}   # full paths: the export imports again
    q = (select(Member).join(PartyOrg, PartyOrg.id == Member.org_id).where(scope_filter(PartyOrg.area_id, ctx.actor))
         .order_by(PartyOrg.path, Member.name, Member.id))
    return write_rows(path, SHEET, (
        [m.name, m.sex, m.ethnicity, personal.reveal(ctx, m.id_number), _cell(m.education),
         CATEGORY_LABELS.get(m.category, ""), names.get(m.org_id or 0, ""), m.stage_label, _cell(m.applied_on),
         _cell(m.activist_on), _cell(m.candidate_on), _cell(m.admitted_on), _cell(m.full_on), _cell(m.job),
         _cell(m.phone), _cell(m.address), svc.fen_text(m.income_fen), STATUS_LABELS.get(m.status, m.status),
         _cell(m.lost_contact_on), _cell(m.mobile_destination)]
        for m in ctx.session.scalars(q.execution_options(yield_per=500))))


def write_template(path) -> None:
    _write_template(path, SHEET)


def importer_definitions() -> list[ImporterDefinition]:
    return [_definition(KIND, "党员信息", SHEET, import_fn=import_members, export_fn=export_members,
                        template_fn=write_template, permission=svc.MEMBER_MANAGE)]
