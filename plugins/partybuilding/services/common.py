"""Helpers every party-building aggregate shares: the plugin's settings, months, dates, text and ID numbers."""
from __future__ import annotations

import calendar
import re
from datetime import date

from sqlalchemy.orm import Session

from shell.core import fields
from shell.core import personal as _personal
from shell.core import settings as core_settings
from shell.core.context import ServiceContext
from shell.core.listing import Listing  # noqa: F401 - re-exported as svc.Listing
from shell.errors import ValidationError
from shell.idnumber import parse_id_number

from ..rules import SETTINGS, VIEW

_SETTING_BY_KEY = {d.key: d for d in SETTINGS}


def setting(session: Session, key: str):
    return core_settings.get(session, _SETTING_BY_KEY[key])


def add_months(d: date, months: int) -> date:
    """Same day ``months`` later; the 31st becomes the month's last day."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(text: str, field_name: str = "month", label: str = "月份") -> str:
    m = _MONTH.match((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValidationError(f"{label}“{text}”格式不对，请写成 2026-03 这样的年-月。", field_name, text)
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def month_range(start: str, end: str) -> list[str]:
    y, m = int(start[:4]), int(start[5:])
    ey, em = int(end[:4]), int(end[5:])
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def _require_text(value: str | None, label: str, field_name: str, max_len: int = 100) -> str:
    """A required free-text item, by the shared rule (``shell.core.fields.text``: full-width spaces
    folded, "请填写…" when empty, "…太长（N 字，最多 M 字）。")."""
    return fields.text(value, label, field_name, max_len=max_len)


def _not_future(ctx: ServiceContext, d: date, label: str, field_name: str) -> None:
    if d > ctx.today():
        raise ValidationError(f"{label}（{d}）不能晚于今天。", field_name, d)


def normalize_id_number(value: str) -> tuple[str, date, str]:
    """(18-digit number, birth date, sex) through the shared validator (15-digit numbers converted)."""
    info = parse_id_number(value)
    return info.number, info.birth_date, info.sex


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_text(birth: date, on: date) -> str:
    return f"{age_on(birth, on)}岁"


def _initials(name: str) -> str:
    from shell.text import pinyin_initials

    return pinyin_initials(name)[:64]


def setting_value(ctx: ServiceContext, key: str):
    """One of the plugin's norms (``partybuilding.*``) for a page that shows or applies it."""
    ctx.actor.require(VIEW)
    return setting(ctx.session, key)


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
