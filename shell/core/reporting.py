"""Generating the reports plugins register: find them, check permission, parse parameters, run
the builder on a ServiceContext and render the spec to PDF or Excel. No Qt: the report centre and
``jiedao report`` both call this."""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from shell.contracts import ReportDefinition, ReportParameter
from shell.core import audit, personal
from shell.core.context import Actor, ServiceContext
from shell.db.engine import writing_file
from shell.errors import NotFound, ValidationError

FORMATS = {".pdf": "pdf", ".xlsx": "xlsx"}


# --------------------------------------------------------------------------- header: unit and scope

@dataclass(frozen=True)
class Heading:
    """What a ledger's header says about who issues it and what it covers.

    ``unit``: the 填报单位 / issuer — the street office (core.unit_name, 青石街道办事处) for a
    street-wide ledger, "青石街道 和平里社区" for a community or anything below it; with
    ``party=True`` the Party organisation instead (中共青石街道工作委员会 / 中共和平里社区委员会),
    never the government office and never a 党小组. ``scope``: the area the rows cover, printed
    under the title as 范围：… ("青石街道", "和平里社区", "和平里社区 第一网格", or for a user with
    two grids "和平里社区 第一网格、第二网格"). ``area``: the area the scope names (None for a user
    with no scope at all)."""

    unit: str
    scope: str
    area: Any = None

    @property
    def fields(self) -> dict[str, str]:
        """``LedgerSpec(title=…, **heading(ctx, area).fields, …)``."""
        return {"unit_name": self.unit, "scope": self.scope}


def _street_of(session, chain: list) -> Any:
    from shell.core.models import Area

    for a in chain:
        if a.level == "street":
            return a
    return session.scalars(select(Area).where(Area.level == "street", Area.closed_on.is_(None))
                           .order_by(Area.sort_order, Area.id).limit(1)).first()


def _chain(session, area) -> list:
    from shell.core.areas import ancestors

    return ancestors(session, area) + [area]


def heading(ctx: ServiceContext, area: Any = None, party: bool = False, party_org: str | None = None) -> Heading:
    """The unit and printed scope of a ledger built for ``ctx.actor``.

    ``area``: the area the ledger was asked for (an ``Area`` or its id; the report's 辖区 parameter);
    None means the actor's own scope — the whole street for a street user, the community for a
    community worker, the grids of a grid worker. ``party=True``: headed by the Party organisation
    of that area; a plugin that keeps the organisations (partybuilding) passes their real name as
    ``party_org`` (e.g. a 社区党总支), otherwise the standard name is used (中共<街道>工作委员会 for the
    street, 中共<社区>委员会 for a community and below)."""
    from shell.core import settings
    from shell.core.models import Area

    session = ctx.session
    actor = ctx.actor
    if isinstance(area, int):
        found = session.get(Area, area)
        if found is None:
            raise NotFound(f"辖区 {area} 不存在。")
        area = found
    extra: list[str] = []  # the actor's several areas under one common one
    if area is None and not actor.is_superuser and actor.scope_paths:
        paths = sorted(set(actor.scope_paths))
        mine = list(session.scalars(select(Area).where(Area.path.in_(paths))))
        if len(mine) == 1:
            area = mine[0]
        elif mine:
            parts = [p.strip("/").split("/") for p in paths]
            common = []
            for seg in zip(*parts, strict=False):  # the common leading segments
                if len(set(seg)) != 1:
                    break
                common.append(seg[0])
            area = session.get(Area, int(common[-1])) if common else None
            if area is not None and area.path not in paths:
                from shell.core.areas import tree_sorted

                extra = [a.name for a in tree_sorted(mine)]
    chain = _chain(session, area) if area is not None else []
    street = _street_of(session, chain)
    street_name = street.name if street is not None else ""
    community = next((a for a in chain if a.level == "community"), None)
    if area is None and not actor.is_superuser and not actor.scope_paths:
        scope = ""  # a user with no area sees no rows; say nothing rather than the street
    else:
        below = [a.name for a in chain if a.level not in ("street",)]
        if extra:
            below.append("、".join(extra))
        scope = " ".join(below) or street_name
    if party:
        if party_org:
            unit = party_org
        elif community is not None:
            unit = f"中共{community.name}委员会"
        else:
            unit = f"中共{street_name}工作委员会" if street_name else "街道党工委"
    elif community is not None:
        unit = f"{street_name} {community.name}".strip()
    else:
        unit = (settings.core(session, "core.unit_name") or (f"{street_name}办事处" if street_name else "街道办事处"))
    return Heading(unit=unit, scope=scope, area=area if area is not None else street)


def unit_name(ctx: ServiceContext, area: Any = None, party: bool = False, party_org: str | None = None) -> str:
    """Just the unit of :func:`heading` (documents, whose issuer is a unit and carries no scope)."""
    return heading(ctx, area, party, party_org).unit


def available_reports(pm, actor: Actor | None = None) -> list[tuple[str, ReportDefinition]]:
    """(plugin name, definition) of every report, filtered by the actor's permissions when given,
    in plugin order then by title."""
    from shell.core.audit_query import core_reports
    from shell.plugins import call_each

    found = [("core", d) for d in core_reports()]
    found += call_each(pm, "register_reports") if pm is not None else []
    found = [(plugin, d) for plugin, d in found if actor is None or d.permission is None or actor.can(d.permission)]
    order = {name: i for i, name in enumerate(dict.fromkeys(p for p, _ in found))}
    return sorted(found, key=lambda pd: (order[pd[0]], pd[1].category, pd[1].title))


def find_report(pm, report_id: str) -> tuple[str, ReportDefinition]:
    for plugin, d in available_reports(pm):
        if d.id == report_id:
            return plugin, d
    raise NotFound(f"没有编号为“{report_id}”的报表。可用 jiedao report list 查看全部报表。")


def _parse_one(p: ReportParameter, raw: Any) -> Any:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if p.default is not None:
            return p.default
        if p.required:
            raise ValidationError(f"请填写报表参数“{p.label}”（{p.name}）。", p.name, raw)
        return None
    if not isinstance(raw, str):
        return raw  # already typed (from the report centre's widgets)
    text = raw.strip()
    try:
        if p.kind in ("int", "year", "area"):
            value = int(text)
            if p.kind == "year" and not 1949 <= value <= 2100:
                raise ValueError
            return value
        if p.kind == "date":
            return _dt.date.fromisoformat(text)
        if p.kind == "month":
            year, month = text.split("-")
            return _dt.date(int(year), int(month), 1)
        if p.kind == "choice":
            codes = {c for c, _ in p.choices}
            if text not in codes:
                raise ValidationError(
                    f"报表参数“{p.label}”的值“{text}”无效，可选：" + "、".join(f"{c}（{t}）" for c, t in p.choices),
                    p.name, text)
            return text
    except ValidationError:
        raise
    except ValueError:
        example = {"int": "123", "year": "2026", "area": "辖区编号，如 12", "date": "2026-11-22",
                   "month": "2026-11"}[p.kind]
        raise ValidationError(f"报表参数“{p.label}”的值“{text}”格式不正确，应如：{example}。", p.name, text) from None
    return text


def parse_params(definition: ReportDefinition, raw: dict[str, Any]) -> dict[str, Any]:
    """Typed parameter values; unknown names and bad values raise ValidationError naming them."""
    known = {p.name for p in definition.parameters}
    unknown = set(raw) - known
    if unknown:
        names = "、".join(f"{p.name}（{p.label}）" for p in definition.parameters) or "（无参数）"
        raise ValidationError(f"报表“{definition.title}”没有参数 {'、'.join(sorted(unknown))}。可用参数：{names}", None)
    return {p.name: _parse_one(p, raw.get(p.name)) for p in definition.parameters}


@dataclass
class GeneratedReport:
    path: Path
    format: str
    pages: int | None
    rows: int
    missing_chars: str = ""
    font: str = ""  # the font a PDF was printed in (FontInfo.label); "" for Excel


def output_format(path: Path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValidationError(f"输出文件“{Path(path).name}”的类型不支持：请用 .pdf 或 .xlsx 结尾。", "out", str(path))
    return fmt


def generate(session_factory: sessionmaker, actor: Actor, definition: ReportDefinition, params: dict[str, Any],
             out: Path, progress: Callable[..., Any] | None = None, cancel: Callable[[], bool] | None = None,
             font_path: str | None = None) -> GeneratedReport:
    """Build the report's spec and render it to ``out`` (.pdf or .xlsx). Runs off the GUI thread."""
    from reports import DocumentSpec, LedgerSpec, render_document, render_pdf, render_xlsx

    if definition.permission:
        actor.require(definition.permission)
    out = Path(out)
    fmt = output_format(out)
    if fmt == "xlsx":
        from shell.core.transfer import EXPORT_PERMISSION

        actor.require(EXPORT_PERMISSION)  # an Excel file is the data itself, not a printed ledger
    with session_factory() as session:
        ctx = ServiceContext(session, actor)
        spec = definition.builder(ctx, params)
        if isinstance(spec, LedgerSpec) and not spec.mask_ids:
            # Full ID numbers leave the building only with the right, and never unrecorded.
            actor.require("core.personal.full_view")
        if isinstance(spec, DocumentSpec):
            if fmt != "pdf":
                raise ValidationError(f"“{definition.title}”是单页文书，只能生成 PDF。", "out", str(out))
            with writing_file(out):
                result = render_document(spec, out, font_path=font_path)
            generated = GeneratedReport(out, fmt, result.pages, result.rows, result.missing_chars, result.font)
        elif isinstance(spec, LedgerSpec):
            with writing_file(out):  # a full disk: the renderers remove their .part file themselves
                if fmt == "pdf":
                    result = render_pdf(spec, out, progress=progress, cancel=cancel, font_path=font_path)
                    generated = GeneratedReport(out, fmt, result.pages, result.rows, result.missing_chars, result.font)
                else:
                    rows = render_xlsx(spec, out, progress=progress, cancel=cancel)
                    generated = GeneratedReport(out, fmt, None, rows)
        else:
            raise TypeError(f"报表“{definition.id}”的生成函数返回了 {type(spec).__name__}，应为 LedgerSpec 或 DocumentSpec")
        # A ledger printed unmasked, or a document a builder put a full number into (personal.reveal,
        # only for a holder of core.personal.full_view): one audit row for the file, marked as such.
        full = (isinstance(spec, LedgerSpec) and not spec.mask_ids) | personal.took_full(session)
        audit.record(session, "report_full_ids" if full else "report", definition.id, None,
                     f"生成“{definition.title}”（{fmt.upper()}，{generated.rows} 行）"
                     + ("，含完整身份证号或电话号码" if full else ""),
                     after={k: v for k, v in params.items()})
        session.commit()
    return generated
