"""Dialogs that grow with their content instead of squeezing it.

Qt sizes a top-level widget from its layout's minimum size, which ignores height-for-width (a
word-wrapped label needs more height at a given width than its minimum says), and
``setMinimumWidth`` on a dialog switches that minimum off altogether. So when an error line
appeared, the line edits of the login dialog shrank to slivers (issue #17 §3). ``fit_to_content``
keeps the widget's minimum size at what its layout needs at the current width, and grows the
widget whenever the content needs more room."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLayout, QWidget


class _Fitter(QObject):
    # The widget is this object's parent, not an attribute: a Python reference from the child would
    # keep the dialog's wrapper alive after Qt deleted the dialog (a reference cycle).
    def __init__(self, widget: QWidget, min_width: int):
        super().__init__(widget)
        self.min_width = min_width
        self._busy = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Qt may call in while the Python side is being torn down (attributes already gone).
        if watched is self.parent() and event.type() in (
                QEvent.Type.LayoutRequest, QEvent.Type.Resize, QEvent.Type.Show):
            self.refit()
        return False

    @property
    def widget(self) -> QWidget:
        return self.parent()  # type: ignore[return-value]

    def refit(self) -> None:
        layout = self.widget.layout()
        if layout is None or getattr(self, "_busy", True):
            return
        self._busy = True
        try:
            least = layout.totalMinimumSize()
            width = max(self.min_width, least.width())
            at = max(width, self.widget.width())
            height = least.height()
            if layout.hasHeightForWidth():
                height = max(height, layout.totalHeightForWidth(at))
            self.widget.setMinimumSize(width, height)
            if self.widget.width() < width or self.widget.height() < height:
                self.widget.resize(max(self.widget.width(), width), max(self.widget.height(), height))
        finally:
            self._busy = False


def fit_to_content(widget: QWidget, min_width: int = 0) -> _Fitter:
    """Keep ``widget`` at least as large as its layout needs, growing it when content appears (an
    error line, a warning), and at least ``min_width`` wide. Call once the top-level layout is set;
    the rows added later count too."""
    layout = widget.layout()
    if layout is None:
        raise ValueError(f"{widget.objectName() or type(widget).__name__} has no layout yet")
    # We keep the minimum size ourselves; the layout's own constraint would overwrite it.
    layout.setSizeConstraint(QLayout.SizeConstraint.SetDefaultConstraint)
    fitter = _Fitter(widget, min_width)
    widget.installEventFilter(fitter)
    QWidget.setMinimumWidth(widget, min_width)  # not a subclass override that expects the fitter
    return fitter
