"""首页: the core summary tile plus every plugin's ``register_dashboard_widgets`` tile, in a grid."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from shell.contracts import DashboardWidgetSpec
from shell.ui.errors import error_text

log = logging.getLogger(__name__)

COLUMNS = 3
PLACEHOLDER_HEIGHT = 240
CORE_TILE_ID = "core.summary"


class Tile(QFrame):
    """A titled frame around one dashboard widget."""

    def __init__(self, spec: DashboardWidgetSpec, body: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("tile")
        self.spec = spec
        self.body = body
        self.setProperty("tile_id", spec.id)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.setSpacing(8)
        title = QLabel(spec.title)
        title.setObjectName("tile-title")
        layout.addWidget(title)
        layout.addWidget(body, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def set_body(self, body: QWidget) -> None:
        self.layout().replaceWidget(self.body, body)
        self.body.deleteLater()
        self.body = body


def _stat(value: str, label: str) -> QWidget:
    box = QWidget()
    col = QVBoxLayout(box)
    col.setContentsMargins(0, 0, 12, 0)
    col.setSpacing(0)
    v = QLabel(value)
    v.setObjectName("stat-value")
    lab = QLabel(label)
    lab.setObjectName("stat-label")
    col.addWidget(v)
    col.addWidget(lab)
    return box


def _core_summary(app_ctx, parent: QWidget | None = None) -> QWidget:
    """Scope, community and grid counts and the previous login: useful with no plugin installed. For
    administrators, a warning when this year's or (from 1 November) next year's holiday calendar is
    missing, so deadlines are never silently counted by the weekend rule."""
    from shell.clock import format_local
    from shell.core import areas, auth, calendar

    actor = app_ctx.actor
    widget = QWidget(parent)
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(8)
    with app_ctx.service(commit=False) as sctx:
        if actor.can("core.area.view"):
            summary = areas.scope_summary(sctx)
            scope = summary.label
            if summary.counts:
                stats = QHBoxLayout()
                for n, label in summary.counts:
                    stats.addWidget(_stat(str(n), label))
                stats.addStretch(1)
                layout.addLayout(stats)
        else:
            scope = "（无权查看辖区）"
        last = auth.previous_login(sctx.session, actor.user_id)
        missing = calendar.upcoming_warning(sctx.session, sctx.today()) if actor.can(calendar.P_MANAGE) else ""
    if missing:
        warning = QLabel(f"{missing}（设置 → 节假日安排）。")
        warning.setObjectName("calendar-warning")
        warning.setWordWrap(True)
        warning.setStyleSheet("color: #b9770e; font-weight: bold;")
        layout.addWidget(warning)
    previous = format_local(last) if last is not None else "这是您第一次登录"
    for text in (f"管辖范围：{scope}", f"上次登录：{previous}"):
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)
    return widget


def core_tiles() -> list[DashboardWidgetSpec]:
    return [DashboardWidgetSpec(id=CORE_TILE_ID, title="辖区概况", factory=_core_summary, order=0, span=1)]


def collect_tiles(app_ctx) -> list[tuple[str, DashboardWidgetSpec]]:
    """(plugin, spec) for every tile the actor may see, core first, then by order and title."""
    from shell.plugins import call_each

    found: list[tuple[str, DashboardWidgetSpec]] = [("core", t) for t in core_tiles()]
    if app_ctx.plugin_manager is not None:
        for plugin, spec in call_each(app_ctx.plugin_manager, "register_dashboard_widgets", ctx=app_ctx):
            if not isinstance(spec, DashboardWidgetSpec):
                log.error("插件 %s 的首页磁贴类型不对：%r", plugin, spec)
                continue
            found.append((plugin, spec))
    visible = [(p, s) for p, s in found if s.permission is None or app_ctx.actor.can(s.permission)]
    return sorted(visible, key=lambda ps: (ps[1].order, ps[1].title))


class DashboardPage(QWidget):
    """The home page. Tiles are built once, when the page is first opened: their frames at once, their
    contents one per turn of the event loop (``ready`` when all are there, ``tiles_built`` emitted).
    A tile's factory imports its plugin's views and may query: built all in one go, a large street's
    tiles held the window frozen for their sum; one at a time, the window answers in between."""

    tiles_built = Signal()

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ready = False
        self._pending: list[tuple[str, Tile]] = []
        self.setObjectName("dashboard")
        self.app_ctx = app_ctx
        self.tiles: list[Tile] = []

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        body.setObjectName("dashboard-body")
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)

        heading = QLabel(f"您好，{app_ctx.actor.display_name or app_ctx.actor.username}")
        heading.setObjectName("page-heading")
        layout.addWidget(heading)
        from shell.ui.todo_panel import TodoPanel

        self.todo = TodoPanel(app_ctx)
        layout.addWidget(self.todo)

        self.grid = grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(14)
        for c in range(COLUMNS):
            grid.setColumnStretch(c, 1)
        self.empty_tiles: set[str] = set()   # tiles whose contents came with nothing to show: left out
        specs = collect_tiles(app_ctx)
        for plugin, spec in specs:
            placeholder = QLabel("正在载入…")
            placeholder.setObjectName("tile-loading")
            # About a tile's eventual height, so the grid does not re-lay out (and every chart already
            # drawn re-size itself) each time a tile's contents arrive.
            placeholder.setMinimumHeight(PLACEHOLDER_HEIGHT)
            placeholder.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            tile = Tile(spec, placeholder)
            self.tiles.append(tile)
            self._pending.append((plugin, tile))
        self._place_tiles()
        layout.addLayout(grid)

        self.empty_label: QLabel | None = None
        if not any(p != "core" for p, _ in specs):
            self.empty_label = QLabel("还没有业务插件在首页显示内容。\n启用网格管理、志愿服务、党建、应急等插件"
                                      "（设置 → 插件）后，各业务的统计和待办会出现在这里。")
            self.empty_label.setObjectName("empty-state")
            self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.empty_label.setWordWrap(True)
            layout.addWidget(self.empty_label)
        layout.addStretch(1)
        QTimer.singleShot(0, self._build_next)

    def _place_tiles(self) -> None:
        """Lay the tiles out in order, row by row, leaving out those with nothing to show (no gaps)."""
        for tile in self.tiles:
            self.grid.removeWidget(tile)
        row = col = 0
        for tile in self.tiles:
            left_out = tile.spec.id in self.empty_tiles
            tile.setVisible(not left_out)
            if left_out:
                continue
            span = max(1, min(int(tile.spec.span or 1), COLUMNS))
            if col + span > COLUMNS:
                row, col = row + 1, 0
            self.grid.addWidget(tile, row, col, 1, span, Qt.AlignmentFlag.AlignTop)
            col += span
            if col >= COLUMNS:
                row, col = row + 1, 0

    def _tile_has_data(self, tile: Tile, has_data: bool) -> None:
        try:
            self.objectName()
        except RuntimeError:  # the page was closed meanwhile
            return
        before = set(self.empty_tiles)
        (self.empty_tiles.discard if has_data else self.empty_tiles.add)(tile.spec.id)
        if self.empty_tiles != before:
            self._place_tiles()

    def shown_tiles(self) -> list[Tile]:
        """The tiles on the page, in order (not those left out for having nothing to show)."""
        return [t for t in self.tiles if t.spec.id not in self.empty_tiles]

    def _build_next(self) -> None:
        try:
            self.objectName()
        except RuntimeError:  # the page was closed (log-out) before all tiles were built
            return
        if self._pending:
            plugin, tile = self._pending.pop(0)
            body = self._build_body(plugin, tile.spec)
            tile.set_body(body)
            # A chart tells when its figures arrive whether there was anything to draw.
            signal = getattr(body, "has_data", None)
            if signal is not None and hasattr(signal, "connect"):
                signal.connect(lambda shown, t=tile: self._tile_has_data(t, shown))
        if self._pending:
            QTimer.singleShot(0, self._build_next)
        else:
            self.ready = True
            self.tiles_built.emit()

    def _build_body(self, plugin: str, spec: DashboardWidgetSpec) -> QWidget:
        try:
            widget = spec.factory(self.app_ctx, None)
            if not isinstance(widget, QWidget):
                raise TypeError(f"磁贴工厂应返回界面部件，实际为 {type(widget).__name__}")
            return widget
        except Exception as exc:  # one broken tile must not empty the home page
            log.exception("首页磁贴 %s（插件 %s）创建失败", spec.id, plugin)
            label = QLabel("这一栏暂时无法显示：" + error_text(exc)[1])
            label.setObjectName("inline-error")
            label.setWordWrap(True)
            return label

    def tile(self, tile_id: str) -> Tile | None:
        return next((t for t in self.tiles if t.spec.id == tile_id), None)


def build_dashboard(app_ctx, parent: QWidget | None = None) -> DashboardPage:
    return DashboardPage(app_ctx, parent)
