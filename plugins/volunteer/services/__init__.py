"""Volunteer service operations (no Qt). Every function takes a ``ServiceContext`` and checks the
actor's permission and area scope itself.

Value rules (ARCHITECTURE "Data rules"):
- hours (whole minutes) and points are two separate append-only ledgers; every entry carries the
  balance after it; the stored balances in ``volunteer_accounts`` change only by a guarded statement
  in the same transaction as the entry (debits: ``… WHERE points_balance >= :n``, row count checked);
- stock likewise (``volunteer_stock_moves`` + guarded ``stock``);
- corrections are reversal entries, never edits of an entry.
Redeeming spends points only: hours never change.

One module per aggregate (``common``, ``volunteers``, ``teams``, ``points``, ``activities``,
``store``, ``certificates``, ``statistics``, ``consistency``); this package re-exports every public
name (and the few private helpers other modules use), so ``from plugins.volunteer import services``
keeps working.
"""
from __future__ import annotations

from shell.clock import format_local as format_local

# The busy-retry moved to shell.db.retry (kit); still importable from here.
from shell.db.retry import BusyError, run_with_retry
from shell.db.retry import guard_busy as _guard_busy  # noqa: F401 - kept for callers of the old names
from shell.db.retry import is_busy as _is_busy  # noqa: F401

from .activities import (
    ACTIVITY_FIELDS,
    ActivityRow,
    ApprovalResult,
    AttendanceRow,
    activity_attendances,
    activity_list_query,
    activity_rows,
    approval_query,
    approve,
    cancel_enrolment,
    check_times,
    close_activity,
    compute_minutes,
    correct_times,
    create_activity,
    enrol,
    get_activity,
    list_activities,
    pending_approvals,
    points_for,
    record_attendance,
    reject,
    reverse_attendance,
    sign_in,
    sign_out,
    time_problems,
    update_activity,
)
from .activities import _clock_text as _clock_text
from .certificates import issue_certificate, latest_certificate_number
from .common import (
    ACCOUNTS,
    COUNTERS,
    ITEMS,
    ORDERS,
    PHONE_RE,
    check_id_number,
    check_phone,
    hours_text,
    local_date,
    local_midnight,
    star_label,
    star_level,
)
from .common import _area as _area
from .common import _area_of as _area_of
from .consistency import check_consistency
from .points import _post_hours as _post_hours
from .points import adjust_points, expire_points, hours_history, points_history
from .statistics import hours_by_month, last_months, points_by_month, star_distribution
from .store import (
    ItemRow,
    OrderRow,
    cancel_redemption,
    check_window,
    create_item,
    current_stock,
    get_item,
    item_rows,
    list_items,
    list_orders,
    order_rows,
    redeem,
    set_item_active,
    stock_in,
    stock_out,
    stock_take,
)
from .teams import (
    TEAM_FIELDS,
    TeamRow,
    add_member,
    community_choices,
    create_team,
    list_teams,
    remove_member,
    team_members,
    team_rows,
    update_team,
)
from .volunteers import (
    EDITABLE,
    VolunteerCard,
    account,
    count_volunteers,
    find_by_number,
    get_volunteer,
    list_volunteers,
    register_volunteer,
    search_volunteers,
    set_active,
    update_volunteer,
    volunteer_card,
    volunteer_list_query,
)

__all__ = [
    "ACCOUNTS",
    "ACTIVITY_FIELDS",
    "ActivityRow",
    "ApprovalResult",
    "AttendanceRow",
    "BusyError",
    "COUNTERS",
    "EDITABLE",
    "ITEMS",
    "ItemRow",
    "ORDERS",
    "OrderRow",
    "PHONE_RE",
    "TEAM_FIELDS",
    "TeamRow",
    "VolunteerCard",
    "account",
    "activity_attendances",
    "activity_list_query",
    "activity_rows",
    "add_member",
    "adjust_points",
    "approval_query",
    "approve",
    "cancel_enrolment",
    "cancel_redemption",
    "check_consistency",
    "check_id_number",
    "check_phone",
    "check_times",
    "check_window",
    "close_activity",
    "community_choices",
    "compute_minutes",
    "correct_times",
    "count_volunteers",
    "create_activity",
    "create_item",
    "create_team",
    "current_stock",
    "enrol",
    "expire_points",
    "find_by_number",
    "get_activity",
    "get_item",
    "get_volunteer",
    "hours_by_month",
    "hours_history",
    "hours_text",
    "issue_certificate",
    "item_rows",
    "last_months",
    "latest_certificate_number",
    "list_activities",
    "list_items",
    "list_orders",
    "list_teams",
    "list_volunteers",
    "local_date",
    "local_midnight",
    "order_rows",
    "pending_approvals",
    "points_by_month",
    "points_for",
    "points_history",
    "record_attendance",
    "redeem",
    "register_volunteer",
    "reject",
    "remove_member",
    "reverse_attendance",
    "run_with_retry",
    "search_volunteers",
    "set_active",
    "set_item_active",
    "sign_in",
    "sign_out",
    "star_distribution",
    "star_label",
    "star_level",
    "stock_in",
    "stock_out",
    "stock_take",
    "team_members",
    "team_rows",
    "time_problems",
    "update_activity",
    "update_team",
    "update_volunteer",
    "volunteer_card",
    "volunteer_list_query",
]
