"""Running plugin importers and exporters the same way from the CLI and the desktop: one
transaction per file, all-or-nothing unless the user accepts the valid subset, permission checked,
and the result written to the audit log."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from shell.contracts import ImporterDefinition, ImportResult
from shell.core import audit, personal
from shell.core.context import Actor, ServiceContext
from shell.core.sheets import FormulaCellsError, formula_row_errors
from shell.db.engine import fault
from shell.errors import ValidationError

EXPORT_PERMISSION = "core.data.export"


def available_importers(pm, actor: Actor | None = None, disabled=()) -> list[tuple[str, ImporterDefinition]]:
    """(plugin, definition) of every kind of data plugins can import or export, the first of each
    kind, without those of ``disabled`` plugins and, given an actor, those it may not use."""
    from shell.plugins import call_each

    seen: set[str] = set()
    out = []
    for plugin, d in (call_each(pm, "register_importers") if pm is not None else []):
        if plugin in disabled or d.kind in seen:
            continue
        seen.add(d.kind)
        if actor is None or d.permission is None or actor.can(d.permission):
            out.append((plugin, d))
    return out


class ImportCancelled(Exception):
    """The user cancelled an import; its transaction was rolled back, nothing was written."""


def _takes(fn: Callable, name: str) -> bool:
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def run_import(session_factory: sessionmaker, actor: Actor, definition: ImporterDefinition, path: Path,
               valid_only: bool = False, cancel: Callable[[], bool] | None = None,
               progress: Callable[[int, int], object] | None = None) -> ImportResult:
    """Validate every row; write only if the file is clean or ``valid_only`` (then the valid rows).
    ``cancel()`` is asked once the rows are checked and written, before the commit: True rolls the
    whole file back and raises ``ImportCancelled``. Importers on the engine (``shell.core.importing``)
    take ``progress``/``cancel`` themselves and are asked while they check rows too."""
    if definition.import_fn is None:
        raise ValidationError(f"“{definition.title}”（{definition.kind}）不支持导入。")
    if definition.permission:
        actor.require(definition.permission)
    path = Path(path)
    with session_factory() as session:
        ctx = ServiceContext(session, actor)
        try:
            try:
                kwargs: dict = {}
                if cancel is not None and _takes(definition.import_fn, "cancel"):
                    kwargs["cancel"] = cancel
                if progress is not None and _takes(definition.import_fn, "progress"):
                    kwargs["progress"] = progress
                result = definition.import_fn(ctx, path, valid_only, **kwargs)
            except FormulaCellsError as exc:
                # formulas without a saved result: refused cell by cell, nothing read from the file
                session.rollback()
                return ImportResult(errors=formula_row_errors(exc))
            if cancel is not None and cancel():
                raise ImportCancelled()
            if result.ok or valid_only:
                if result.written:
                    skipped = f"（跳过 {len(result.errors)} 处错误）" if result.errors else ""
                    audit.record(session, "import", definition.kind, None,
                                 f"从 {path.name} 导入 {result.written} 行{skipped}")
                session.commit()
            else:
                session.rollback()  # the importer must not have written, but never keep half a file
        except BaseException:
            session.rollback()
            raise
    return result


def run_export(session_factory: sessionmaker, actor: Actor, definition: ImporterDefinition, path: Path) -> int:
    if definition.export_fn is None:
        raise ValidationError(f"“{definition.title}”（{definition.kind}）不支持导出。")
    if definition.permission:
        actor.require(definition.permission)
    actor.require(EXPORT_PERMISSION)  # data leaving the program needs its own right (and is audited)
    path = Path(path)
    with session_factory() as session:
        ctx = ServiceContext(session, actor)
        try:
            try:
                count = definition.export_fn(ctx, path)
            except OSError as exc:
                explained = fault(exc, written=path)
                if explained is None:
                    raise
                try:
                    path.unlink(missing_ok=True)  # a half-written workbook is not an export
                except OSError:  # Windows: the writer's unclosed archive still holds it open
                    pass
                raise explained from exc
            full = personal.took_full(session)  # an exporter put full numbers in (personal.reveal)
            audit.record(session, "export_full_ids" if full else "export", definition.kind, None,
                         f"导出 {count} 行到 {path.name}" + ("，含完整身份证号" if full else ""))
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return count
