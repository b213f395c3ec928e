"""Render the program's logo (shell/ui/icons/logo.svg) to the icons the packages need:
build/icons/<N>x<N>/jiedao.png for the Linux menu (hicolor theme) and build/icons/jiedao.ico for
Windows (the program's icon, the installer's and the shortcuts'). Run by packaging/build-linux.sh;
on Windows before PyInstaller (docs/install.md)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (16, 32, 48, 64, 128, 256)


def main(out: Path) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - QImage painting needs it
    renderer = QSvgRenderer(str(ROOT / "shell" / "ui" / "icons" / "logo.svg"))
    if not renderer.isValid():
        print("错误：无法读取 shell/ui/icons/logo.svg", file=sys.stderr)
        return 1
    largest = None
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        folder = out / f"{size}x{size}"
        folder.mkdir(parents=True, exist_ok=True)
        if not image.save(str(folder / "jiedao.png")):
            print(f"错误：无法写入 {folder / 'jiedao.png'}", file=sys.stderr)
            return 1
        largest = image
    # Qt's ico writer stores one size; 256 px is scaled down by Windows for the smaller places.
    if not largest.save(str(out / "jiedao.ico"), "ICO"):
        print(f"错误：无法写入 {out / 'jiedao.ico'}（Qt 的 ico 插件缺失？）", file=sys.stderr)
        return 1
    print(f"图标已生成：{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "icons"))
