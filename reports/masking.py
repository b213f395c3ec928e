"""Masking of personal data in ledgers meant for circulation (DOMAIN.md §5).

``mask_id("110105199001011234") -> "1101**********1234"`` (18 digits: first 4 and last 4 kept;
15-digit numbers likewise: ``"1101*******1234"``). ``mask_phone("13812345678") -> "138****5678"``.
Values that do not look like an ID or phone number are masked conservatively rather than printed in
full: the middle part is starred, so a malformed number never leaks.
"""
from __future__ import annotations

import re

__all__ = ["mask_id", "mask_phone", "mask_value"]

_ID_RE = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")
_MOBILE_RE = re.compile(r"^(\+?86[- ]?)?(1\d{10})$")


def _star_middle(text: str, keep_head: int, keep_tail: int) -> str:
    n = len(text)
    if n <= keep_head + keep_tail:
        # Too short to keep both ends: keep at most a third visible, star the rest.
        keep = n // 3
        return text[:keep] + "*" * (n - keep)
    return text[:keep_head] + "*" * (n - keep_head - keep_tail) + text[n - keep_tail:]


def mask_id(value: object) -> str:
    """Mask a resident ID number, keeping the first 4 and the last 4 characters."""
    if value is None:
        return ""
    text = str(value).strip().replace(" ", "")
    if not text:
        return ""
    if _ID_RE.match(text):
        return text[:4] + "*" * (len(text) - 8) + text[-4:]
    return _star_middle(text, 4, 4) if len(text) >= 8 else _star_middle(text, 1, 1)


def mask_phone(value: object) -> str:
    """Mask a phone number: mobile ``138****5678``; landlines keep area code and last 4 digits."""
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    compact = text.replace(" ", "").replace("-", "")
    m = _MOBILE_RE.match(compact)
    if m:
        num = m.group(2)
        return num[:3] + "****" + num[-4:]
    if "-" in text:  # landline like 010-62345678: keep the area code
        area, _, rest = text.partition("-")
        rest = rest.replace("-", "")
        return area + "-" + _star_middle(rest, 0, 4) if len(rest) > 4 else area + "-" + "*" * len(rest)
    return _star_middle(compact, 3, 4) if len(compact) >= 8 else _star_middle(compact, 1, 1)


def mask_value(kind: str | None, value: object) -> str:
    """Apply the masking rule ``kind`` ('id' | 'phone' | None) to a value already formatted as text."""
    if kind == "id":
        return mask_id(value)
    if kind == "phone":
        return mask_phone(value)
    return "" if value is None else str(value)
