"""The background task runner: progress reaches the dialog, 取消 stops the work, errors and results
come back to the GUI thread."""
from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QMessageBox, QPushButton

from shell.ui.tasks import Cancelled, run_task


@pytest.fixture(autouse=True)
def drain_pool():
    yield
    QThreadPool.globalInstance().waitForDone(5000)


def _cancel_button(dialog):
    return next(b for b in dialog.findChildren(QPushButton) if b.text() == "取消")


def test_progress_updates_reach_the_dialog(qtbot):
    step_shown = threading.Event()
    results = []

    def work(progress):
        progress(3, 10, "正在处理第 3 条，共 10 条")
        step_shown.wait(5)
        progress(10, 10, "完成")
        return 42

    handle = run_task(None, "导入居民", work, on_done=results.append, show_after_ms=0)
    dialog = handle.dialog
    qtbot.waitUntil(lambda: dialog.value() == 3 and dialog.maximum() == 10)
    assert dialog.labelText() == "正在处理第 3 条，共 10 条"
    assert dialog.isVisible()
    with qtbot.waitSignal(handle.finished, timeout=5000):
        step_shown.set()
    assert results == [42] and handle.result == 42
    assert handle.error is None and not handle.was_cancelled
    assert handle.dialog is None  # closed once the work ended


def test_cancel_stops_the_work(qtbot):
    steps = []
    done, cancelled = [], []

    def work(progress):
        for i in range(1000):
            if not progress(i, 1000, f"第 {i} 条"):
                return "stopped"
            steps.append(i)
            time.sleep(0.01)
        return "finished"

    handle = run_task(None, "生成台账", work, on_done=done.append, on_cancel=lambda: cancelled.append(True),
                      show_after_ms=0)
    qtbot.waitUntil(lambda: len(steps) >= 3)
    with qtbot.waitSignal(handle.finished, timeout=5000):
        qtbot.mouseClick(_cancel_button(handle.dialog), qtbot_button_left())
    assert handle.was_cancelled and cancelled == [True]
    assert done == []  # a cancelled task delivers no result
    assert len(steps) < 1000


def test_work_raising_cancelled_counts_as_cancelled(qtbot):
    def work(progress):
        while progress(0, 0, "请稍候"):
            time.sleep(0.01)
        raise Cancelled()

    errors = []
    handle = run_task(None, "备份", work, on_error=errors.append, show_after_ms=0)
    qtbot.waitUntil(lambda: handle.dialog is not None and handle.dialog.isVisible())
    with qtbot.waitSignal(handle.finished, timeout=5000):
        handle.cancel()
    assert handle.was_cancelled and errors == []


def test_exception_reaches_gui_thread_as_error(qtbot):
    seen = []

    def work(progress):
        raise ValueError("第 7 行身份证号码校验位不对")

    def on_error(exc):
        seen.append((exc, threading.current_thread() is threading.main_thread()))

    handle = run_task(None, "导入", work, on_error=on_error)
    qtbot.waitUntil(lambda: handle.is_finished, timeout=5000)
    exc, in_gui_thread = seen[0]
    assert isinstance(exc, ValueError) and "校验位" in str(exc)
    assert in_gui_thread
    assert handle.error is exc


def test_error_without_handler_is_shown_to_the_user(qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append((self.windowTitle(), self.text())) or 0)

    def work(progress):
        raise RuntimeError("磁盘已满")

    handle = run_task(None, "导出", work)
    qtbot.waitUntil(lambda: handle.is_finished, timeout=5000)
    assert shown and shown[0][0] == "程序出错" and "磁盘已满" in shown[0][1]


def test_result_arrives_in_gui_thread_with_args(qtbot):
    got = []

    def work(a, b, progress, scale=1):
        progress(1, 1, "")
        return (a + b) * scale

    handle = run_task(None, "计算", work, 2, 3, scale=10,
                      on_done=lambda r: got.append((r, threading.current_thread() is threading.main_thread())))
    qtbot.waitUntil(lambda: handle.is_finished, timeout=5000)
    assert got == [(50, True)]


def qtbot_button_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
