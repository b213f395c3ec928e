#!/usr/bin/env bash
# Build Jiedao for Linux from a clean checkout, in one command:
#   bash packaging/build-linux.sh
# 1. a build venv under build/venv (never the developer's .venv) with the project and PyInstaller,
# 2. the self-contained folder build/dist/jiedao/ (packaging/jiedao.spec),
# 3. the Debian package build/jiedao_<version>_<arch>.deb (dpkg-deb): /opt/jiedao, /usr/bin/jiedao,
#    the menu entry 街道工作台 (办公) and its icon. The version is pyproject.toml's, nowhere else.
# Needs python3 with venv, dpkg-deb and the package registry (pip) at build time; nothing at install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="$ROOT/build"
VENV="$BUILD/venv"
say() { echo "== build: $*"; }
die() { echo "== build: 错误：$*" >&2; exit 1; }

command -v dpkg-deb >/dev/null || die "找不到 dpkg-deb（Debian/统信/麒麟 系统自带；apt-get install dpkg）"
VERSION="$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
[ -n "$VERSION" ] || die "pyproject.toml 里没有 version"
ARCH="$(dpkg --print-architecture)"
DEB="$BUILD/jiedao_${VERSION}_${ARCH}.deb"
START=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
  say "creating the build venv $VENV"
  python3 -m venv "$VENV"
fi
say "installing the project and PyInstaller into the build venv"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[build]" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)

say "PyInstaller (packaging/jiedao.spec)"
"$VENV/bin/python" packaging/make_icons.py "$BUILD/icons" >/dev/null
rm -rf "$BUILD/dist/jiedao"
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath "$BUILD/dist" --workpath "$BUILD/pyi" \
  packaging/jiedao.spec
FOLDER="$BUILD/dist/jiedao"
[ -x "$FOLDER/jiedao" ] || die "PyInstaller 没有生成 $FOLDER/jiedao"
GOT="$("$FOLDER/jiedao" --version)"
[ "$GOT" = "街道工作台 $VERSION" ] || die "打包后的程序报告版本“$GOT”，应为 $VERSION"
# Qt's Chinese for standard buttons and menus (shell/ui/translations.py): PyInstaller's Qt hooks
# collect the translations of the modules used; make sure the one we load is there.
find "$FOLDER" -name 'qtbase_zh_CN.qm' | grep -q . || die "打包结果里没有 Qt 的中文翻译 qtbase_zh_CN.qm"

say "Debian package $DEB"
STAGE="$BUILD/deb"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/doc/jiedao"
cp -a "$FOLDER" "$STAGE/opt/jiedao"
mkdir -p "$STAGE/opt/jiedao/plugins"  # third-party plugins go here (docs/install.md)
# A wrapper, not a symlink: the program finds _internal/ beside its real path either way, and a
# wrapper keeps `jiedao` working when /usr/bin and /opt are on different file systems.
cat > "$STAGE/usr/bin/jiedao" <<'WRAP'
#!/bin/sh
exec /opt/jiedao/jiedao "$@"
WRAP
chmod 0755 "$STAGE/usr/bin/jiedao"
for size_dir in "$BUILD"/icons/*x*/; do
  size="$(basename "$size_dir")"
  mkdir -p "$STAGE/usr/share/icons/hicolor/$size/apps"
  cp "$size_dir/jiedao.png" "$STAGE/usr/share/icons/hicolor/$size/apps/jiedao.png"
done
mkdir -p "$STAGE/usr/share/icons/hicolor/scalable/apps"
cp shell/ui/icons/logo.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/jiedao.svg"
cp packaging/jiedao.desktop "$STAGE/usr/share/applications/jiedao.desktop"
cp CHANGELOG.md "$STAGE/usr/share/doc/jiedao/CHANGELOG.md"
printf 'Jiedao (街道工作台) %s\nLicense: Apache-2.0\n' "$VERSION" > "$STAGE/usr/share/doc/jiedao/copyright"

# Depends: what the bundled libraries load from the system (PyInstaller leaves out libc, libGL/EGL
# and libxcb on purpose: they must match the machine's driver), a Chinese font for Qt and the PDFs;
# Recommends the 宋体-style AR PL UMing the ledgers prefer (they fall back to the 黑体 without it).
GLIBC="$(find "$STAGE/opt/jiedao" -type f \( -name '*.so*' -o -name jiedao \) -exec objdump -T {} + 2>/dev/null \
  | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1 || true)"
DEPENDS="libc6${GLIBC:+ (>= $GLIBC)}, libgl1, libegl1, libxcb1, libdrm2, fonts-wqy-zenhei | fonts-wqy-microhei | fonts-noto-cjk"
SIZE_KB="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: jiedao
Version: $VERSION
Architecture: $ARCH
Maintainer: Jiedao <jiedao@localhost>
Installed-Size: $SIZE_KB
Depends: $DEPENDS
Recommends: fonts-arphic-uming, libwayland-client0, libwayland-cursor0, libwayland-egl1
Section: misc
Priority: optional
Homepage: https://localhost/jiedao
Description: 街道工作台 — desktop suite for street offices and townships
 Residents and grids, volunteers, Party building, emergency management,
 printed ledgers and reports, on SQLite or a PostgreSQL server.
 Self-contained (Python and Qt are inside /opt/jiedao); the data stays in
 each user's own folders and is not touched when the package is removed.
CONTROL
# No maintainer scripts: nothing to download, nothing to migrate at install time; the menu and icon
# caches are refreshed by the desktop-file-utils and hicolor triggers.
find "$STAGE" -type d -exec chmod 0755 {} +
dpkg-deb --root-owner-group -Zgzip --build "$STAGE" "$DEB" >/dev/null
END=$(date +%s)
say "done in $((END - START)) s: $DEB ($(du -h "$DEB" | cut -f1), installed $((SIZE_KB / 1024)) MB)"
