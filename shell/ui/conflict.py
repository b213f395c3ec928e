"""The dialog shown when someone else saved a record first: who and when, a side-by-side comparison
of what this user typed and what is saved now, and the choice to reload or to keep editing."""
from __future__ import annotations

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.errors import ConflictError

DIFF_BRUSH = QBrush(QColor("#fff3cd"))


class ConflictDialog(QDialog):
    RELOAD = 2  # exec() result: take the saved values; Rejected (0): back to editing

    def __init__(self, exc: ConflictError, rows: list[tuple[str, str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("conflict-dialog")
        self.setWindowTitle(exc.title)
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        message = QLabel(exc.message, self)
        message.setObjectName("conflict-message")
        message.setWordWrap(True)
        layout.addWidget(message)

        self.table = QTableWidget(len(rows), 3, self)
        self.table.setObjectName("conflict-table")
        self.table.setHorizontalHeaderLabels(["项目", "您填写的", "已保存的（对方）"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.differences = 0
        for r, (label, mine, theirs) in enumerate(rows):
            for c, text in enumerate((label, mine, theirs)):
                item = QTableWidgetItem(text)
                if mine != theirs:
                    item.setBackground(DIFF_BRUSH)
                self.table.setItem(r, c, item)
            self.differences += mine != theirs
        self.table.hide()
        layout.addWidget(self.table)

        buttons = QHBoxLayout()
        self.compare_button = QPushButton("对比双方内容", self)
        self.compare_button.setObjectName("conflict-compare")
        self.compare_button.setEnabled(bool(rows))
        self.compare_button.clicked.connect(self.show_comparison)
        self.reload_button = QPushButton("重新载入（放弃我的修改）", self)
        self.reload_button.setObjectName("conflict-reload")
        self.reload_button.clicked.connect(lambda: self.done(self.RELOAD))
        self.keep_button = QPushButton("返回继续编辑", self)
        self.keep_button.setObjectName("conflict-keep")
        self.keep_button.clicked.connect(self.reject)
        buttons.addWidget(self.compare_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reload_button)
        buttons.addWidget(self.keep_button)
        layout.addLayout(buttons)

    def show_comparison(self) -> None:
        rows_height = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(min(360, self.table.horizontalHeader().height() + rows_height + 6))
        self.table.show()
        self.compare_button.setText(f"有 {self.differences} 处不同" if self.differences else "内容相同")
        self.compare_button.setEnabled(False)
        self.adjustSize()
