"""Print one of this plugin's reports straight from a page, through the shell's report preview
(``shell.ui.report_preview``); the definition comes from this plugin's own list, so a page works
whatever plugin manager its context carries."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget

from shell.errors import NotFound
from shell.ui.report_preview import ReportPreviewDialog
from shell.ui.report_preview import print_report as _print_report


def report_definition(report_id: str):
    from ..ledgers import definitions

    for d in definitions():
        if d.id == report_id:
            return d
    raise NotFound(f"没有编号为“{report_id}”的报表。")


def print_report(app_ctx, report_id: str, params: dict, parent: QWidget | None = None,
                 file_name: str | None = None) -> ReportPreviewDialog:
    return _print_report(app_ctx, report_id, params, parent, file_name, definition=report_definition(report_id))
