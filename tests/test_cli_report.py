"""``jiedao report list`` and ``jiedao report NAME --out FILE`` (in-process through ``main``)."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from shell import cli
from shell.plugins import make_plugin_manager

TEST_PLUGINS = ["tests.testplugin", "tests.testplugin.broken"]
REPORT = "testplug.notes"


def _test_pm(disabled=()):
    return make_plugin_manager(disabled=disabled, builtins=TEST_PLUGINS, entry_points=False)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No real user data, config, database URL, password or font setting; the CLI sees the test plugins."""
    monkeypatch.setenv("JIEDAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JIEDAO_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("JIEDAO_DATABASE_URL", "JIEDAO_PASSWORD", "JIEDAO_DEBUG", "JIEDAO_FONT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli, "make_pm", _test_pm)
    monkeypatch.setattr(cli, "run_app", lambda database=None: 0)


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("错误：")]


@pytest.fixture(scope="session")
def demo_template(sqlite_templates):
    """One demo database with the test plugin for the run (argon2 hashing makes creating it slow);
    copied per test."""
    from shell.testing import PluginSet

    return sqlite_templates.path(PluginSet(builtins=tuple(TEST_PLUGINS)), demo=True)


@pytest.fixture
def demo_file(demo_template, tmp_path):
    import shutil

    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    return path


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv("JIEDAO_PASSWORD", "demo1234")


def _gen(capsys, demo_file, out, *extra, user="admin"):
    return run(capsys, "report", REPORT, "--out", out, "--db", demo_file, "--user", user, *extra)


# --- list ---------------------------------------------------------------------------------------
def test_list_shows_the_test_plugins_report_with_parameters(capsys):
    code, out, err = run(capsys, "report", "list")
    assert code == 0, err
    header = out.splitlines()[0].split()
    assert header == ["编号", "名称", "插件", "参数"]
    row = next(line for line in out.splitlines() if line.startswith(REPORT))
    assert "测试便签台账" in row and "testplug" in row
    assert "year=年度" in row and "年份" in row and "默认 2026" in row


def test_bare_report_command_lists_too(capsys):
    code, out, _ = run(capsys, "report")
    assert code == 0 and REPORT in out


def test_list_with_user_shows_only_permitted_reports(demo_file, capsys, password):
    code, out, err = run(capsys, "report", "list", "--db", demo_file, "--user", "grid_worker")
    assert code == 0, err
    assert REPORT in out
    code, out, err = run(capsys, "report", "list", "--db", demo_file, "--user", "street_staff")
    assert code == 0, err
    assert REPORT not in out and "没有可生成的报表" in out


def test_list_with_user_needs_the_password(demo_file, capsys):
    code, _, err = run(capsys, "report", "list", "--db", demo_file, "--user", "admin")
    assert code == 2 and "JIEDAO_PASSWORD" in error_lines(err)[0]


# --- generate -----------------------------------------------------------------------------------
def test_generate_pdf(demo_file, tmp_path, capsys, password):
    out_file = tmp_path / "便签台账.pdf"
    code, out, err = _gen(capsys, demo_file, out_file, "--param", "year=2025")
    assert code == 0, err
    assert f"已生成 {out_file}：共 1 页，12 行" in out
    assert "字体：宋体 AR PL UMing" in out and "uming.ttc" in out  # which font the ledger used (CI installs it)
    assert not error_lines(err) and "\r" not in err  # no progress line when stderr is not a terminal
    text = "".join(p.extract_text() for p in PdfReader(str(out_file)).pages)
    assert "测试便签台账" in text and "第 1 页 共 1 页" in text and "2025年" in text
    assert "测试街道办事处" in text


def test_generate_xlsx(demo_file, tmp_path, capsys, password):
    import openpyxl

    out_file = tmp_path / "notes.xlsx"
    code, out, err = _gen(capsys, demo_file, out_file)
    assert code == 0, err
    assert f"已生成 {out_file}：共 12 行" in out and "字体：" not in out  # Excel embeds no font
    ws = openpyxl.load_workbook(out_file).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "测试便签台账" in " ".join(map(str, values)) and "标题" in values


def test_grid_worker_sees_only_their_grid(demo_file, tmp_path, capsys, password):
    code, out, err = _gen(capsys, demo_file, tmp_path / "g.pdf", user="grid_worker")
    assert code == 0, err
    assert "共 1 页，1 行" in out


def test_bad_parameter_value_is_a_chinese_error(demo_file, tmp_path, capsys, password):
    out_file = tmp_path / "x.pdf"
    code, _, err = _gen(capsys, demo_file, out_file, "--param", "year=二〇二五")
    assert code == 2
    assert "报表参数“年度”的值“二〇二五”格式不正确" in error_lines(err)[0]
    code, _, err = _gen(capsys, demo_file, out_file, "--param", "year=1800")
    assert code == 2 and "“年度”" in error_lines(err)[0]
    code, _, err = _gen(capsys, demo_file, out_file, "--param", "year")
    assert code == 2 and "--param 名称=值" in error_lines(err)[0]
    assert not out_file.exists()


def test_unknown_parameter_is_named(demo_file, tmp_path, capsys, password):
    code, _, err = _gen(capsys, demo_file, tmp_path / "x.pdf", "--param", "colour=red")
    assert code == 2
    msg = error_lines(err)[0]
    assert "没有参数 colour" in msg and "year（年度）" in msg


def test_unknown_report(demo_file, tmp_path, capsys, password):
    code, _, err = run(capsys, "report", "nosuch.report", "--out", tmp_path / "x.pdf", "--db", demo_file,
                       "--user", "admin")
    assert code == 2
    assert "没有编号为“nosuch.report”的报表" in error_lines(err)[0] and "jiedao report list" in err


def test_user_without_permission(demo_file, tmp_path, capsys, password):
    out_file = tmp_path / "x.pdf"
    code, _, err = _gen(capsys, demo_file, out_file, user="street_staff")
    assert code == 2
    assert "您没有“查看测试便签”权限（testplug.view）" in error_lines(err)[0]
    assert not out_file.exists()


def test_wrong_password(demo_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JIEDAO_PASSWORD", "wrong-password")
    code, _, err = _gen(capsys, demo_file, tmp_path / "x.pdf")
    assert code == 2 and "用户名或密码不正确" in error_lines(err)[0]


def test_only_pdf_or_xlsx(demo_file, tmp_path, capsys, password):
    out_file = tmp_path / "x.docx"
    code, _, err = _gen(capsys, demo_file, out_file)
    assert code == 2 and ".pdf 或 .xlsx" in error_lines(err)[0]
    assert not out_file.exists()


def test_out_is_required(demo_file, capsys, password):
    code, _, err = run(capsys, "report", REPORT, "--db", demo_file, "--user", "admin")
    assert code == 2 and "--out" in error_lines(err)[0]


def test_existing_file_needs_force(demo_file, tmp_path, capsys, password):
    out_file = tmp_path / "x.pdf"
    out_file.write_bytes(b"keep me")
    code, _, err = _gen(capsys, demo_file, out_file)
    assert code == 2 and "已存在" in error_lines(err)[0] and "--force" in err
    assert out_file.read_bytes() == b"keep me"
    code, out, err = _gen(capsys, demo_file, out_file, "--force")
    assert code == 0, err
    assert out_file.read_bytes().startswith(b"%PDF")


def test_missing_output_folder(demo_file, tmp_path, capsys, password):
    code, _, err = _gen(capsys, demo_file, tmp_path / "no" / "such" / "x.pdf")
    assert code == 2 and "文件夹不存在" in error_lines(err)[0]


def test_font_option_env_and_local_setting(demo_file, tmp_path, capsys, password, monkeypatch):
    from reports.fonts import find_cjk_font
    from shell.config import LocalConfig

    font = find_cjk_font().path
    seen = []
    real = cli.__dict__.get("_font_path")

    def spy(args):
        value = real(args)
        seen.append(value)
        return value

    monkeypatch.setattr(cli, "_font_path", spy)
    # --font that does not exist: refused before anything else
    code, _, err = _gen(capsys, demo_file, tmp_path / "a.pdf", "--font", tmp_path / "nofont.ttf")
    assert code == 2 and "字体文件不存在" in error_lines(err)[0]
    # local setting, then JIEDAO_FONT over it, then --font over both
    cfg = LocalConfig.load()
    cfg.font_path = str(tmp_path / "setting-font.ttf")
    cfg.save()
    code, _, err = _gen(capsys, demo_file, tmp_path / "b.pdf")
    assert code == 2 and "配置的中文字体不可用" in error_lines(err)[0]  # the setting was used
    monkeypatch.setenv("JIEDAO_FONT", font)
    code, _, err = _gen(capsys, demo_file, tmp_path / "c.pdf")
    assert code == 0, err
    monkeypatch.setenv("JIEDAO_FONT", str(tmp_path / "env-font.ttf"))
    code, _, err = _gen(capsys, demo_file, tmp_path / "d.pdf", "--font", font)
    assert code == 0, err
    assert seen == [str(tmp_path / "setting-font.ttf"), font, font]


def test_progress_line_on_a_terminal(demo_file, tmp_path, capsys, password, monkeypatch):
    calls = []

    class _Tty(io.StringIO):
        def isatty(self):
            return True

    tty = _Tty()
    monkeypatch.setattr(cli, "PROGRESS_EVERY_PAGES", 1)
    monkeypatch.setattr("sys.stderr", tty)
    code = cli.main(["report", REPORT, "--out", str(tmp_path / "p.pdf"), "--db", str(demo_file),
                     "--user", "admin"])
    calls.append(code)
    assert code == 0
    err = tty.getvalue()
    assert "正在生成第 1/1 页" in err and "正在排版" in err
    assert err.endswith("\r\x1b[K")  # the progress line is cleared before the result is printed
    assert "已生成" in capsys.readouterr().out
