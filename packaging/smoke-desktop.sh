#!/usr/bin/env bash
# Start the desktop program on a database under an X server (run it inside xvfb-run), let it log in
# (JIEDAO_SMOKE_USER / JIEDAO_PASSWORD) and check its main window appears; print the seconds from
# launch to the window. With a screenshot path, also check the window is on the X screen and save
# the screen as PNG (Qt's grab of the root window, with the given python that has PySide6).
#   smoke-desktop.sh PROGRAM DATABASE LOGDIR NAME [SCREENSHOT.png PYTHON]
set -euo pipefail
PROGRAM="$1" DATABASE="$2" LOGDIR="$3" NAME="$4" SHOT="${5:-}" PYTHON="${6:-}"
OUT="$LOGDIR/$NAME.out" ERR="$LOGDIR/$NAME.err"
TIMEOUT=90

: >"$OUT"; : >"$ERR"
start=$(date +%s%N)
SECONDS_UP="${JIEDAO_SMOKE_SECONDS:-$([ -n "$SHOT" ] && echo 5 || echo 1)}"  # room for the screenshot
JIEDAO_SMOKE_SECONDS="$SECONDS_UP" "$PROGRAM" --db "$DATABASE" >"$OUT" 2>"$ERR" &
pid=$!
shown=""
while kill -0 "$pid" 2>/dev/null; do
  if grep -q "主窗口已显示" "$OUT"; then shown=$(date +%s%N); break; fi
  if [ $(( $(date +%s%N) - start )) -gt $(( TIMEOUT * 1000000000 )) ]; then break; fi
  sleep 0.02
done
if [ -z "$shown" ]; then
  kill "$pid" 2>/dev/null || true
  echo "桌面程序 $PROGRAM 在 $TIMEOUT 秒内没有显示主窗口；输出：" >&2
  cat "$OUT" "$ERR" >&2
  exit 1
fi
if [ -n "$SHOT" ]; then
  sleep "${SMOKE_SHOT_DELAY:-2}"  # the 首页 tiles fill in after the window shows
  if command -v xwininfo >/dev/null 2>&1; then
    xwininfo -root -tree | grep -q "街道工作台" || { echo "X 屏幕上找不到标题含“街道工作台”的窗口" >&2; xwininfo -root -tree >&2; exit 1; }
  fi
  QT_QPA_PLATFORM=xcb "$PYTHON" -c '
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)' "$SHOT" \
    || { echo "无法截取屏幕到 $SHOT" >&2; exit 1; }
fi
if ! timeout 60 tail --pid="$pid" -f /dev/null; then
  kill "$pid" 2>/dev/null || true
  echo "桌面程序在窗口关闭后 60 秒内没有退出" >&2
  exit 1
fi
wait "$pid" || { echo "桌面程序以错误退出；输出：" >&2; cat "$ERR" >&2; exit 1; }
if grep -E -q "Traceback|ERROR" "$ERR"; then
  echo "桌面程序报告了错误：" >&2
  cat "$ERR" >&2
  exit 1
fi
ms=$(( (shown - start) / 1000000 ))
printf "%d.%03d\n" $((ms / 1000)) $((ms % 1000))
