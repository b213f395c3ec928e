"""报表: the Chinese font printed ledgers use on this desktop. Empty means "find one" (SimSun /
SimHei / YaHei on Windows, AR PL UMing then WenQuanYi on Linux); the page says at once (and again
on 检测) which font a ledger is printed in."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout

from shell.ui.settings._common import ERROR_STYLE, NOTE_STYLE, OK_STYLE, Page, button_row, make_button, message_of, note
from shell.ui.tasks import run_in_pool

FONT_FILTER = "TrueType 字体 (*.ttf *.ttc);;所有文件 (*)"
SAMPLE = "街道办事处台账第页共填表人审核人负责人0123456789ABCabc"


def _probe(path: str | None) -> str:
    from reports import find_cjk_font

    info = find_cjk_font(path or None, required=SAMPLE)
    text = f"台账和证明将使用：{info.label}"
    if not info.is_song:
        text += "。这不是宋体：正式公文用纸宜用宋体，Linux 上可安装 fonts-arphic-uming（文鼎明体），Windows 自带宋体 simsun.ttc"
    return text


class ReportsPage(Page):
    def __init__(self, app_ctx, config, settings=None):
        super().__init__(app_ctx, config, settings)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("中文字体（本机）", self)
        inner = QVBoxLayout(box)
        inner.addWidget(note("打印台账和证明时嵌入 PDF 的中文字体。留空时自动查找：Windows 上的宋体（粗体用黑体），"
                             "Linux 上的文鼎明体（宋体风格，fonts-arphic-uming），没有时用文泉驿正黑。"
                             "只有自动查找不到、或想换用别的字体时才需要填写。", box))
        row = QHBoxLayout()
        row.addWidget(QLabel("字体文件：", box))
        self.path_edit = QLineEdit(config.font_path or "", box)
        self.path_edit.setObjectName("font-path")
        self.path_edit.setPlaceholderText("自动查找")
        row.addWidget(self.path_edit, 1)
        row.addWidget(make_button("浏览…", "font-browse", self.browse, box))
        inner.addLayout(row)
        self.test_button = make_button("检测", "font-test", self.test_font, box)
        self.save_button = make_button("保存", "font-save", self.save, box)
        inner.addLayout(button_row(self.test_button, self.save_button))
        self.result = note("", box)
        self.result.setObjectName("font-result")
        self.result.setWordWrap(True)
        inner.addWidget(self.result)
        layout.addWidget(box)
        layout.addStretch(1)
        self.test_font()  # say at once which font a ledger is printed in

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "选择中文字体文件", self.path_edit.text() or "", FONT_FILTER)
        if path:
            self.path_edit.setText(path)

    def test_font(self) -> None:
        self.test_button.setEnabled(False)
        self.result.setStyleSheet(NOTE_STYLE)
        self.result.setText("正在检测……")

        def done(ok: bool, result) -> None:
            self.test_button.setEnabled(True)
            self.result.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
            self.result.setText(result if ok else message_of(result))

        path = self.path_edit.text().strip()
        run_in_pool(lambda: _probe(path), done)

    def save(self) -> None:
        self.config.font_path = self.path_edit.text().strip() or None
        try:
            self.config.save()
        except OSError as exc:
            self.result.setStyleSheet(ERROR_STYLE)
            self.result.setText(f"无法保存本机配置：{exc}")
            return
        self.result.setStyleSheet(OK_STYLE)
        self.result.setText("已保存。下次生成报表时使用" + ("自动查找的字体。" if not self.config.font_path else "这个字体。"))
