"""Helpers for the reports tests: a realistic resident ledger and PDF text extraction."""
from __future__ import annotations

import pytest

from reports.spec import Column, LedgerSpec

TITLE = "实有人口登记台账"
UNIT = "北京市朝阳区呼家楼街道办事处"
PERIOD = "2024年第二季度"
HEADERS = ["姓名", "性别", "身份证号", "出生日期", "民族", "现住址", "联系电话", "网格"]


def resident(i: int) -> tuple:
    return (f"居民{i:04d}", "男" if i % 2 else "女", f"1101051990{(i % 12) + 1:02d}15{i % 10000:04d}",
            f"1990-{(i % 12) + 1:02d}-15", "汉族",
            f"北京市朝阳区幸福里{i % 300 + 1}号院{i % 20 + 1}号楼{i % 6 + 1}单元{101 + i % 900}室",
            f"138{i % 10000:04d}{5678:04d}", f"第{i % 12 + 1}网格")


def columns():
    return [Column("姓名", 18), Column("性别", 10, "center"), Column("身份证号", 38, mask="id"),
            Column("出生日期", 22, "center"), Column("民族", 12, "center"), Column("现住址", "*"),
            Column("联系电话", 26, "center", mask="phone"), Column("网格", 18, "center")]


def make_spec(n: int = 100, rows=None, **kw) -> LedgerSpec:
    base = dict(title=TITLE, unit_name=UNIT, period=PERIOD, columns=columns(),
                rows=rows if rows is not None else (resident(i) for i in range(n)),
                orientation="landscape", totals=("合计", f"{n} 人"),
                notes=("身份证号码、联系电话已按规定脱敏。",))
    base.update(kw)
    return LedgerSpec(**base)


def page_texts(path) -> list[str]:
    from pypdf import PdfReader
    return [p.extract_text() or "" for p in PdfReader(str(path)).pages]


@pytest.fixture
def ledger_spec():
    return make_spec
