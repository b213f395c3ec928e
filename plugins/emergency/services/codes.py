"""GB/T 38565 emergency-material codes."""
from __future__ import annotations

from shell.core import personal as _personal
from shell.errors import ValidationError

# ----------------------------------------------------------------------------- GB/T 38565 codes

GBT_TOP = {"1": "基本生活保障物资", "2": "应急装备及配套物资", "3": "工程材料与机械加工设备"}
_LEVELS = (("中类", 1, "第 2–3 位"), ("小类", 3, "第 4–5 位"), ("细类", 5, "第 6–7 位"))


def validate_item_code(code) -> str:
    """Check the structure of a GB/T 38565-2020 code: 7 digits, 大类 1/2/3, then 中类, 小类 and 细类
    of two digits each in 01–99. The message names the part that is wrong."""
    text = "" if code is None else str(code).strip()
    if not text:
        raise ValidationError("请填写物资编码（GB/T 38565，7 位数字）。", "code", code)
    if not text.isdigit() or not text.isascii():
        raise ValidationError(f"物资编码“{text}”只能由数字组成（GB/T 38565 为 7 位数字）。", "code", code)
    if len(text) != 7:
        raise ValidationError(f"物资编码“{text}”应为 7 位数字，现为 {len(text)} 位。", "code", code)
    if text[0] not in GBT_TOP:
        raise ValidationError(
            f"物资编码“{text}”的第 1 位（大类）应为 1（基本生活保障物资）、2（应急装备及配套物资）"
            f"或 3（工程材料与机械加工设备），现为“{text[0]}”。", "code", code)
    for label, start, where in _LEVELS:
        part = text[start:start + 2]
        if part == "00":
            raise ValidationError(f"物资编码“{text}”的{where}（{label}）应为 01–99，现为“{part}”。", "code", code)
    return text


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
