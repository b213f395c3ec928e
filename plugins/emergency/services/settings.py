"""The plugin's norms (settings) by key, and the expiry alert bands."""
from __future__ import annotations

from shell.core import personal as _personal
from shell.core import settings as core_settings
from shell.core.context import ServiceContext

from ..rules import SETTINGS

# ----------------------------------------------------------------------------- settings
_SETTING = {d.key: d for d in SETTINGS}


def setting(ctx: ServiceContext, key: str):
    return core_settings.get(ctx.session, _SETTING[key])


def alert_days(ctx: ServiceContext) -> tuple[int, int, int]:
    days = sorted(int(setting(ctx, f"emergency.alert_days_{i}")) for i in (1, 2, 3))
    return days[0], days[1], days[2]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
