"""Font finder: coverage of digits/Latin/CJK, clear Chinese errors for bad configuration."""
from __future__ import annotations

import string

import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFontFile

from reports import fonts
from reports.fonts import FONT_NAME, FontNotFound, find_cjk_font, missing_chars
from shell.errors import JiedaoError

from .conftest import HEADERS, TITLE, UNIT


def test_chosen_font_covers_digits_latin_and_ledger_cjk():
    info = find_cjk_font()
    font = pdfmetrics.getFont(info.regular_name)
    assert info.regular_name == FONT_NAME
    assert missing_chars(font, string.digits + string.ascii_letters) == ""
    assert missing_chars(font, TITLE + UNIT + "".join(HEADERS) + "第页共填表人审核人负责人填报日期无数据合计") == ""
    assert pdfmetrics.getFont(info.bold_name) is not None
    assert "STSong" not in info.path


def test_a_song_face_is_preferred_with_a_hei_bold(monkeypatch):
    """Official paper is set in 宋体: AR PL UMing (fonts-arphic-uming, installed by .ci/run) before the
    黑体 WenQuanYi Zen Hei, which becomes its bold face; without UMing the Zen Hei is used alone."""
    fonts.clear_cache()
    try:
        info = find_cjk_font()
        assert info.path.endswith("uming.ttc") and info.is_song, info
        assert not info.fake_bold and info.bold_path.endswith("wqy-zenhei.ttc")
        assert "宋体" in info.label and "uming.ttc" in info.label and "粗体：wqy-zenhei.ttc" in info.label
        real = fonts._candidates
        monkeypatch.setattr(fonts, "_candidates", lambda: [c for c in real() if "uming" not in c[1]])
        fonts.clear_cache()
        hei = find_cjk_font()
        assert hei.path.endswith("wqy-zenhei.ttc") and not hei.is_song and hei.fake_bold
        assert "加粗模拟" in hei.label
    finally:
        monkeypatch.undo()
        fonts.clear_cache()


def test_configured_missing_file_gives_chinese_error(tmp_path):
    with pytest.raises(FontNotFound) as exc:
        find_cjk_font(tmp_path / "nope.ttf")
    assert isinstance(exc.value, JiedaoError)
    msg = exc.value.message
    assert "文件不存在" in msg and "nope.ttf" in msg and "JIEDAO_FONT" in msg and "设置" in msg


def test_env_var_is_the_configured_path(tmp_path, monkeypatch):
    monkeypatch.setenv("JIEDAO_FONT", str(tmp_path / "missing.ttc"))
    with pytest.raises(FontNotFound) as exc:
        find_cjk_font()
    assert "missing.ttc" in exc.value.message


def test_font_without_latin_or_digits_is_rejected(tmp_path):
    # A real TrueType subset holding only a few CJK glyphs (like DroidSansFallbackFull: no digits).
    info = find_cjk_font()
    ttf = TTFontFile(info.path, subfontIndex=info.subfont_index, validate=0)
    data = ttf.makeSubset([ord(c) for c in "街道台账"])
    bad = tmp_path / "no-latin.ttf"
    bad.write_bytes(data)
    with pytest.raises(FontNotFound) as exc:
        find_cjk_font(bad)
    assert "缺少数字或英文字母" in exc.value.message and "no-latin.ttf" in exc.value.message


def test_postscript_and_garbage_fonts_are_explained(tmp_path):
    otf = tmp_path / "NotoSansCJK-Regular.otf"
    otf.write_bytes(b"OTTO" + b"\0" * 100)
    with pytest.raises(FontNotFound) as exc:
        find_cjk_font(otf)
    assert "PostScript" in exc.value.message
    junk = tmp_path / "junk.ttc"
    junk.write_bytes(b"not a font")
    with pytest.raises(FontNotFound) as exc:
        find_cjk_font(junk)
    assert "junk.ttc" in exc.value.message


def test_no_font_anywhere_says_what_to_install(monkeypatch):
    monkeypatch.delenv("JIEDAO_FONT", raising=False)
    monkeypatch.setattr(fonts, "_candidates", lambda: [])
    fonts.clear_cache()
    try:
        with pytest.raises(FontNotFound) as exc:
            find_cjk_font()
        msg = exc.value.message
        assert "apt-get install fonts-wqy-zenhei" in msg and "JIEDAO_FONT" in msg and "simsun.ttc" in msg
    finally:
        fonts.clear_cache()


def test_required_characters_are_checked():
    with pytest.raises(FontNotFound) as exc:
        find_cjk_font(required="\U0002A6A5")  # a rare CJK Extension B character
    assert "缺少" in exc.value.message
