"""Excel import/export of members (the 16-item form plus stage dates). Every row goes through the
same service as the form (``create_member``) inside one outer savepoint, each row in its own
savepoint; a file with any bad row writes nothing unless the user accepts the valid rows."""
from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from shell.contracts import ImporterDefinition, ImportResult, RowError
from shell.core import personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.matching import MatchError, Resolver, path_text
from shell.errors import JiedaoError, ValidationError
from shell.gcpause import without_gc

from . import services as svc
from .models import CATEGORY_LABELS, STAGE_LABELS, STATUS_LABELS, Member, PartyOrg

KIND = "partybuilding-members"
COLUMNS = ("姓名", "性别", "民族", "公民身份号码", "学历", "人员类别", "所在党组织", "发展阶段", "申请入党日期",
           "确定积极分子日期", "确定发展对象日期", "加入党组织日期", "转为正式党员日期", "工作岗位", "联系电话",
           "家庭住址", "月收入（元）", "党籍状态", "失联日期", "外出流向")
FIELD_COLUMN = {"name": "姓名", "sex": "性别", "ethnicity": "民族", "id_number": "公民身份号码", "education": "学历",
                "category": "人员类别", "org_id": "所在党组织", "stage": "发展阶段", "applied_on": "申请入党日期",
                "activist_on": "确定积极分子日期", "candidate_on": "确定发展对象日期", "admitted_on": "加入党组织日期",
                "full_on": "转为正式党员日期", "job": "工作岗位", "phone": "联系电话", "address": "家庭住址",
                "income_fen": "月收入（元）"}
_DATE_COLUMNS = {"申请入党日期": "applied_on", "确定积极分子日期": "activist_on", "确定发展对象日期": "candidate_on",
                 "加入党组织日期": "admitted_on", "转为正式党员日期": "full_on"}
_STAGE_BY_LABEL = {v: k for k, v in STAGE_LABELS.items()} | {"积极分子": "activist"}
_CATEGORY_BY_LABEL = {v: k for k, v in CATEGORY_LABELS.items()} | {"退休": "retired", "农民": "farmer"}
_DATE_RE = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$")


class CellError(Exception):
    def __init__(self, column: str, value: Any, reason: str):
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


def parse_date(value: Any, column: str) -> _dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    m = _DATE_RE.match(str(value).strip())
    if m:
        try:
            return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    raise CellError(column, value, "日期格式不对，请写成 2020-07-01")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _money_fen(value: Any, column: str) -> int | None:
    text = _text(value)
    if not text:
        return None
    m = re.fullmatch(r"(\d+)(?:\.(\d{1,2}))?", text)
    if not m:
        raise CellError(column, value, "金额应为数字，最多两位小数")
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(Excel row number, {column title: value}) for each non-empty data row; the header is row 1."""
    from shell.core.sheets import read_sheet

    data = read_sheet(Path(path))
    header = [_text(h) for h in (data[0] if data else ())]
    missing = [c for c in ("姓名", "公民身份号码", "所在党组织") if c not in header]
    if missing:
        raise ValidationError(f"表头缺少“{'、'.join(missing)}”列。请用导出的模板填写。", "header")
    out = []
    for rowno, values in enumerate(data[1:], start=2):
        if all(v is None or _text(v) == "" for v in values):
            continue
        out.append((rowno, {h: values[i] if i < len(values) else None for i, h in enumerate(header) if h}))
    return out


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


def _row_kwargs(row: dict[str, Any], orgs: Resolver) -> tuple[dict, dict]:
    org_name = _text(row.get("所在党组织"))
    if not org_name:
        raise CellError("所在党组织", org_name, "请填写所在党组织")
    try:
        org = orgs.find(org_name)
    except MatchError as e:
        raise CellError("所在党组织", org_name, e.message) from None
    stage_text = _text(row.get("发展阶段")) or "正式党员"
    if stage_text not in _STAGE_BY_LABEL:
        raise CellError("发展阶段", stage_text, "应为：" + "、".join(STAGE_LABELS.values()))
    cat_text = _text(row.get("人员类别")) or "在职"
    if cat_text not in _CATEGORY_BY_LABEL:
        raise CellError("人员类别", cat_text, "应为：" + "、".join(CATEGORY_LABELS.values()))
    kw = dict(name=_text(row.get("姓名")), id_number=_text(row.get("公民身份号码")), org_id=org.id,
              stage=_STAGE_BY_LABEL[stage_text], sex=_text(row.get("性别")) or None,
              ethnicity=_text(row.get("民族")) or "汉族", education=_text(row.get("学历")) or None,
              category=_CATEGORY_BY_LABEL[cat_text], job=_text(row.get("工作岗位")) or None,
              phone=_text(row.get("联系电话")) or None, address=_text(row.get("家庭住址")) or None,
              income_fen=_money_fen(row.get("月收入（元）"), "月收入（元）"))
    for col, key in _DATE_COLUMNS.items():
        kw[key] = parse_date(row.get(col), col)
    extra = {}
    status_text = _text(row.get("党籍状态")) or "正常"
    status_by_label = {v: k for k, v in STATUS_LABELS.items() if k in ("normal", "suspended")}
    if status_text not in status_by_label:
        raise CellError("党籍状态", status_text, "导入时只能是“正常”或“停止党籍”")
    extra["status"] = status_by_label[status_text]
    extra["lost_contact_on"] = parse_date(row.get("失联日期"), "失联日期")
    extra["mobile_destination"] = _text(row.get("外出流向")) or None
    return kw, extra


@without_gc
def import_members(ctx: ServiceContext, path, valid_only: bool = False) -> ImportResult:
    ctx.actor.require(svc.MEMBER_MANAGE)
    rows = read_rows(Path(path))
    orgs = _org_lookup(ctx)
    result = ImportResult(total_rows=len(rows))
    outer = ctx.session.begin_nested()
    written = 0
    for rowno, row in rows:
        try:
            kw, extra = _row_kwargs(row, orgs)
            sp = ctx.session.begin_nested()
            try:
                m = svc.create_member(ctx, **kw)
                if extra["status"] != "normal":
                    svc.set_status(ctx, m.id, extra["status"])
                if extra["lost_contact_on"]:
                    svc.set_lost_contact(ctx, m.id, extra["lost_contact_on"])
                if extra["mobile_destination"]:
                    svc.set_mobile(ctx, m.id, extra["mobile_destination"])
                sp.commit()
                written += 1
            except BaseException:
                sp.rollback()
                raise
        except CellError as e:
            result.errors.append(RowError(rowno, e.column, e.value, e.reason))
        except ValidationError as e:
            col = FIELD_COLUMN.get(e.field or "", "")
            value = row.get(col) if col else e.value
            result.errors.append(RowError(rowno, col or "（整行）", value, e.message))
        except JiedaoError as e:
            result.errors.append(RowError(rowno, "（整行）", "", e.message))
    result.valid_rows = written
    if result.errors and not valid_only:
        outer.rollback()
        result.written = 0
        return result
    outer.commit()
    result.written = written
    return result


def _cell(value):
    return value if value is not None else ""


def export_members(ctx: ServiceContext, path) -> int:
    """All current members in scope; full ID numbers only for a holder of 查看完整身份证号码 (the export
    is then audited as one with full numbers), masked for anyone else."""
    import openpyxl

    ctx.actor.require(svc.VIEW)
    names = {i: path_text(p) for i, p in org_paths(ctx.session).items()}   # full paths: the export imports again
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("党员")
    ws.append(list(COLUMNS))
    q = (select(Member).join(PartyOrg, PartyOrg.id == Member.org_id).where(scope_filter(PartyOrg.area_id, ctx.actor))
         .order_by(PartyOrg.path, Member.name, Member.id))
    n = 0
    for m in ctx.session.scalars(q.execution_options(yield_per=500)):
        ws.append([m.name, m.sex, m.ethnicity, personal.reveal(ctx, m.id_number), _cell(m.education),
                   CATEGORY_LABELS.get(m.category, ""),
                   names.get(m.org_id, ""), m.stage_label, _cell(m.applied_on), _cell(m.activist_on),
                   _cell(m.candidate_on), _cell(m.admitted_on), _cell(m.full_on), _cell(m.job), _cell(m.phone),
                   _cell(m.address), svc.fen_text(m.income_fen), STATUS_LABELS.get(m.status, m.status),
                   _cell(m.lost_contact_on), _cell(m.mobile_destination)])
        n += 1
    wb.save(path)
    return n


def write_template(path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "党员"
    ws.append(list(COLUMNS))
    for i, col in enumerate(COLUMNS, start=1):
        ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width = max(10, len(col) * 2 + 2)
    from openpyxl.comments import Comment

    letter = openpyxl.utils.get_column_letter(COLUMNS.index("所在党组织") + 1)
    ws[f"{letter}1"].comment = Comment(ORG_NOTE, "街道工作台")
    wb.save(path)


ORG_NOTE = ("填党组织的完整名称，从上往下用“/”分隔，如：和平里社区党委/第一网格党支部（街道党工委可写可不写）；"
            "名称在管辖范围内唯一时也可只写名称")


def importer_definitions() -> list[ImporterDefinition]:
    return [ImporterDefinition(kind=KIND, title="党员信息", import_fn=import_members, export_fn=export_members,
                               template_fn=write_template, permission=svc.MEMBER_MANAGE, columns=COLUMNS)]
