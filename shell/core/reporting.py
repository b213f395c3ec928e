"""Generating the reports plugins register: find them, check permission, parse parameters, run
the builder on a ServiceContext and render the spec to PDF or Excel. No Qt: the report centre and
``jiedao report`` both call this."""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from shell.contracts import ReportDefinition, ReportParameter
from shell.core import audit, personal
from shell.core.context import Actor, ServiceContext
from shell.core.heading import Heading as Heading  # the header of printed documents (kept importable here)
from shell.core.heading import heading as heading
from shell.core.heading import unit_name as unit_name
from shell.db.engine import writing_file
from shell.errors import NotFound, ValidationError

FORMATS = {".pdf": "pdf", ".xlsx": "xlsx"}


def available_reports(pm, actor: Actor | None = None) -> list[tuple[str, ReportDefinition]]:
    """(plugin name, definition) of every report, filtered by the actor's permissions when given,
    in plugin order then by title."""
    if pm is None:   # no manager: the core's own reports
        from shell.core.audit_query import core_reports

        found = [("core", d) for d in core_reports()]
    else:
        from shell.hooks import call_each

        found = call_each(pm, "register_reports")   # the core plugin's first
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
