"""Find and register a Chinese TrueType font for ReportLab.

Order: the configured path (argument, or the ``JIEDAO_FONT`` environment variable / the
``reports.font_path`` setting passed in by the caller; ``path.ttc#1`` selects a face of a
collection), then Windows SimSun (宋体, with SimHei as its bold) / SimHei / Microsoft YaHei, then
Linux AR PL UMing (a free 宋体-style Ming face, Debian ``fonts-arphic-uming``; WenQuanYi Zen Hei as
its bold when installed) / WenQuanYi Zen Hei / Micro Hei (黑体, the fallback) / AR PL UKai.
``FontInfo.label`` names what a ledger used (设置 → 报表, ``jiedao report``).

The font is registered under fixed names ``JiedaoCJK`` (regular) and ``JiedaoCJK-Bold`` (a real bold
or heading face when one exists, e.g. SimHei next to SimSun; otherwise the renderers draw the regular
face with a stroked outline). ReportLab embeds TrueType fonts as subsets, so PDFs print the same on
any machine.

Known traps, handled here:
* Noto Sans/Serif CJK ``.ttc``/``.otf`` have PostScript (CFF) outlines; ReportLab raises
  ``TTFError`` — skipped.
* ``DroidSansFallbackFull.ttf`` has no Latin letters or digits (numbers would vanish) — rejected by
  checking the cmap coverage of digits, Latin and common ledger characters.
* The built-in CID font ``STSong-Light`` is never used: it is not embedded, and on a machine without
  a Chinese font every glyph prints blank.
"""
from __future__ import annotations

import os
import string
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from weakref import WeakKeyDictionary

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from reports.errors import JiedaoError

__all__ = [
    "FONT_NAME", "FONT_BOLD_NAME", "FontInfo", "FontNotFound", "find_cjk_font", "register_fonts",
    "missing_chars", "REQUIRED_SAMPLE",
]

FONT_NAME = "JiedaoCJK"
FONT_BOLD_NAME = "JiedaoCJK-Bold"
ENV_VAR = "JIEDAO_FONT"

#: Characters every ledger needs: digits, Latin, punctuation and the fixed Chinese texts.
REQUIRED_SAMPLE = (
    string.digits + string.ascii_letters + "-*/:.,()%"
    + "第页共填表人审核负责报日期年月无数据编号单位统计注合计小计条盖章经办证明姓名性别身份证号码住址电话网格备注街道社区"
)

INSTALL_HINT = (
    "请安装中文 TrueType 字体后重试：Debian/Ubuntu 执行 “sudo apt-get install fonts-wqy-zenhei fonts-arphic-uming”"
    "（文泉驿正黑、宋体风格的文鼎明体），Fedora/麒麟/统信执行 “sudo dnf install wqy-zenhei-fonts”；Windows 系统自带宋体"
    "（C:\\Windows\\Fonts\\simsun.ttc），若缺失请从控制面板恢复默认字体。也可以在“设置 → 报表 → 中文字体”"
    f"中填写字体文件路径，或设置环境变量 {ENV_VAR}=/path/to/font.ttf（.ttc 字体集可写作 path.ttc#0）。"
    "注意：Noto CJK（思源）字体为 PostScript 轮廓，ReportLab 无法使用；DroidSansFallbackFull.ttf 缺少数字和英文字母。"
)


class FontNotFound(JiedaoError):
    title = "缺少中文字体"


@dataclass(frozen=True)
class FontInfo:
    path: str
    subfont_index: int
    regular_name: str
    bold_name: str
    fake_bold: bool            # True when no bold face exists: draw the regular face stroked
    bold_path: str | None = None
    family: str = ""
    skipped: tuple[str, ...] = field(default=(), compare=False)  # candidates rejected, with reasons

    @property
    def label(self) -> str:
        """What a ledger is printed in, for people: 宋体 AR PL UMing（明体）（/usr/share/…/uming.ttc），
        粗体：wqy-zenhei — or 粗体由常规字体加粗模拟."""
        text = f"{self.family or self.regular_name}（{self.path}{f'#{self.subfont_index}' if self.subfont_index else ''}）"
        if self.fake_bold:
            return text + "，粗体由常规字体加粗模拟"
        return text + f"，粗体：{Path(self.bold_path).name if self.bold_path else self.bold_name}"

    @property
    def is_song(self) -> bool:
        """A Song/Ming (宋体/明体) face, the one official paper is set in."""
        return any(k in (self.family or "") for k in ("宋体", "明体", "SimSun", "Song", "Ming"))


def _windows_font_dir() -> Path:
    return Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"


def _candidates() -> list[tuple[str, str, int, tuple[tuple[str, int], ...]]]:
    """(family, path, subfont index, bold candidates)."""
    out: list[tuple[str, str, int, tuple[tuple[str, int], ...]]] = []
    if sys.platform.startswith("win") or os.environ.get("WINDIR"):
        d = _windows_font_dir()
        simhei = (str(d / "simhei.ttf"), 0)
        out += [
            ("宋体 SimSun", str(d / "simsun.ttc"), 0, (simhei,)),
            ("宋体 SimSun", str(d / "simsun.ttf"), 0, (simhei,)),
            ("黑体 SimHei", str(d / "simhei.ttf"), 0, ()),
            ("微软雅黑 Microsoft YaHei", str(d / "msyh.ttc"), 0, ((str(d / "msyhbd.ttc"), 0),)),
            ("微软雅黑 Microsoft YaHei", str(d / "msyh.ttf"), 0, ((str(d / "msyhbd.ttf"), 0),)),
        ]
    roots = ["/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".local/share/fonts"),
             str(Path.home() / ".fonts")]
    zenhei = ("truetype/wqy/wqy-zenhei.ttc", "wqy-zenhei/wqy-zenhei.ttc", "wqy-zenhei.ttc")
    microhei = ("truetype/wqy/wqy-microhei.ttc", "wqy-microhei/wqy-microhei.ttc", "wqy-microhei.ttc")
    # A Song/Ming face first (official paper is set in 宋体), with a 黑体 as its bold face where one is
    # installed (the pairing SimSun/SimHei has on Windows); the 黑体 faces alone only as a fallback.
    heis = tuple((str(Path(root) / rel), 0) for rel in zenhei + microhei for root in roots)
    linux = [
        ("宋体 AR PL UMing（明体）", ("truetype/arphic/uming.ttc", "cjkuni-uming/uming.ttc", "uming.ttc"), heis),
        ("文泉驿正黑 WenQuanYi Zen Hei", zenhei, ()),
        ("文泉驿微米黑 WenQuanYi Micro Hei", microhei, ()),
        ("楷体 AR PL UKai", ("truetype/arphic/ukai.ttc", "cjkuni-ukai/ukai.ttc", "ukai.ttc"), heis),
    ]
    for family, rels, bold in linux:
        for root in roots:
            for rel in rels:
                out.append((family, str(Path(root) / rel), 0, bold))
    # Known traps, listed so the error message can say why they were not used.
    for root in roots:
        for rel in ("opentype/noto/NotoSansCJK-Regular.ttc", "opentype/noto/NotoSerifCJK-Regular.ttc",
                    "truetype/droid/DroidSansFallbackFull.ttf"):
            out.append(("trap", str(Path(root) / rel), 0, ()))
    return out


def _split_path(configured: str) -> tuple[str, int]:
    p = configured.strip().strip('"')
    if "#" in p:
        base, _, idx = p.rpartition("#")
        if idx.isdigit():
            return base, int(idx)
    return p, 0


def _load(path: str, index: int, name: str) -> TTFont:
    """Load a TrueType face; raises ValueError with a Chinese reason."""
    if not os.path.isfile(path):
        raise ValueError(f"文件不存在：{path}")
    low = path.lower()
    if low.endswith((".otf", ".otc")):
        raise ValueError(f"{path} 是 OpenType/PostScript 轮廓字体，ReportLab 无法嵌入，请改用 TrueType（.ttf/.ttc）字体")
    try:
        return TTFont(name, path, subfontIndex=index)
    except TTFError as exc:
        hint = ("（Noto CJK/思源字体为 PostScript 轮廓，"
                "ReportLab 不支持）") if "postscript" in str(exc).lower() or "noto" in low else ""
        raise ValueError(f"{path} 无法作为 TrueType 字体载入{hint}：{exc}") from None
    except Exception as exc:  # noqa: BLE001 - corrupt file, not a font at all: ReportLab raises anything
        raise ValueError(f"{path} 不是可用的 TrueType 字体：{exc}") from None


def missing_chars(font: TTFont, text: str) -> str:
    """Characters of ``text`` (spaces ignored) that the font's cmap does not cover."""
    cmap = font.face.charToGlyph
    seen = []
    for ch in dict.fromkeys(text):
        if ch.isspace():
            continue
        if ord(ch) not in cmap:
            seen.append(ch)
    return "".join(seen)


def _check(font: TTFont, path: str, extra: str) -> None:
    need_latin = string.digits + string.ascii_letters
    miss = missing_chars(font, need_latin)
    if miss:
        raise ValueError(f"{path} 缺少数字或英文字母（如“{miss[:10]}”），打印出的号码和日期会消失"
                         "（DroidSansFallbackFull.ttf 就是这种字体）")
    miss = missing_chars(font, REQUIRED_SAMPLE + (extra or ""))
    if miss:
        raise ValueError(f"{path} 缺少所需的汉字或符号：“{miss[:20]}”")


_lock = threading.Lock()
_cache: dict[tuple, FontInfo] = {}


def find_cjk_font(path: str | os.PathLike | None = None, required: str = "") -> FontInfo:
    """Find, check and register a CJK TrueType font; return what was chosen.

    ``path``: a configured font file (falls back to ``$JIEDAO_FONT``). A configured path that does
    not work raises ``FontNotFound`` (it is never silently replaced by another font).
    ``required``: extra characters that must be covered (e.g. the ledger's title and headers).
    """
    configured = str(path) if path else os.environ.get(ENV_VAR, "").strip() or None
    with _lock:
        info = _cache.get(configured)
        if info is not None and getattr(_registered_face(info.regular_name), "filename", None) != info.path:
            info = None  # another configuration re-registered the fixed names meanwhile
        if info is None:
            info = _cache[configured] = _find(configured, "")
    if required:
        miss = missing_chars(pdfmetrics.getFont(info.regular_name), required)
        if miss:
            raise FontNotFound(f"中文字体 {info.path} 缺少报表所需的字符：“{miss[:20]}”。请在“设置 → 报表 → 中文字体”"
                               f"或环境变量 {ENV_VAR} 中改用字符更全的字体（如宋体 simsun.ttc 或文泉驿正黑 wqy-zenhei.ttc）。")
    return info


def register_fonts(path: str | os.PathLike | None = None, required: str = "") -> FontInfo:
    """Alias of :func:`find_cjk_font` (registration happens there)."""
    return find_cjk_font(path, required)


def _register(font: TTFont, family: str, path: str, index: int, bold_cands, skipped) -> FontInfo:
    pdfmetrics.registerFont(font)
    bold_name, fake, bold_path = FONT_NAME, True, None
    for bpath, bidx in bold_cands:
        try:
            bfont = _load(bpath, bidx, FONT_BOLD_NAME)
            _check(bfont, bpath, "")
        except ValueError:
            continue
        pdfmetrics.registerFont(bfont)
        bold_name, fake, bold_path = FONT_BOLD_NAME, False, bpath
        break
    if fake:
        # The same face under the bold name (sharing the parsed face, no second load) so callers may
        # always use FONT_BOLD_NAME; the ledger renderer strokes it to look bold.
        alias = TTFont.__new__(TTFont)
        alias.__dict__.update(font.__dict__)
        alias.fontName = FONT_BOLD_NAME
        alias.state = WeakKeyDictionary()
        pdfmetrics.registerFont(alias)
        bold_name = FONT_BOLD_NAME
    return FontInfo(path=path, subfont_index=index, regular_name=FONT_NAME, bold_name=bold_name,
                    fake_bold=fake, bold_path=bold_path, family=family, skipped=tuple(skipped))


def _find(configured: str | None, required: str) -> FontInfo:
    if configured:
        fpath, idx = _split_path(configured)
        try:
            font = _load(fpath, idx, FONT_NAME)
            _check(font, fpath, required)
        except ValueError as exc:
            raise FontNotFound(f"配置的中文字体不可用：{exc}。请在“设置 → 报表 → 中文字体”或环境变量 {ENV_VAR} "
                               f"中改为可用的 TrueType 字体（如 C:\\Windows\\Fonts\\simsun.ttc 或 "
                               f"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc），或清空该设置以自动查找。") from None
        return _register(font, Path(fpath).stem, fpath, idx, (), [])
    skipped: list[str] = []
    seen = set()
    for family, fpath, idx, bold in _candidates():
        if fpath in seen or not os.path.isfile(fpath):
            continue
        seen.add(fpath)
        if family == "trap":
            skipped.append(f"{fpath}：已知不可用（PostScript 轮廓或缺少数字/字母）")
            continue
        try:
            font = _load(fpath, idx, FONT_NAME)
            _check(font, fpath, required)
        except ValueError as exc:
            skipped.append(str(exc))
            continue
        return _register(font, family, fpath, idx, bold, skipped)
    why = ("已跳过：" + "；".join(skipped) + "。") if skipped else ""
    raise FontNotFound(f"找不到可嵌入 PDF 的中文 TrueType 字体，无法生成报表（否则汉字会打印成空白或方框）。{why}{INSTALL_HINT}")


def _registered_face(name: str):
    try:
        return pdfmetrics.getFont(name).face
    except Exception:  # noqa: BLE001 - not registered: ReportLab raises a bare Exception or KeyError
        return None


def clear_cache() -> None:
    """Forget the chosen font (tests, or after the user changes the font setting)."""
    with _lock:
        _cache.clear()
