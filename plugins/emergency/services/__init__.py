"""Emergency business operations (no Qt). Every function takes a ``ServiceContext`` and checks
permission and data scope itself; errors are Chinese ``JiedaoError``s.

Stock rules (ARCHITECTURE.md "Data rules", DOMAIN.md §4):
- a move is written once and never changed (services offer no edit/delete, triggers refuse both);
  corrections are new moves with a reason;
- each batch's ``qty`` changes only through ``_change_balance``: one guarded
  ``UPDATE … SET qty = qty + :d WHERE id = :id AND qty + :d >= 0 RETURNING qty`` in the same
  transaction as the move, so two desktops issuing the same batch can never take it below zero;
- an expired batch (``expiry_date`` before today) is never issued; issuing suggests
  first-expiry-first-out (batches without an expiry date last).

One module per aggregate (``common``, ``settings``, ``catalog``, ``stock``, ``ledger``,
``stocktake``, ``plans``, ``drills``, ``teams``, ``duty``, ``shelters``, ``search``); this package
re-exports every public name (and the few private helpers other modules use), so ``from
plugins.emergency import services`` keeps working.
"""
from __future__ import annotations

from ..models import Batch as Batch
from ..validation import GBT_TOP, validate_item_code
from .catalog import (
    ItemChoice,
    create_item,
    create_warehouse,
    find_items,
    item_by_code,
    item_choices,
    item_locations,
    list_warehouses,
    set_min_stock,
    update_warehouse,
)
from .catalog import _warehouse as _warehouse
from .common import _area as _area
from .drills import (
    AreaChoice,
    DrillCompliance,
    DrillRow,
    cancel_drill,
    drill_compliance,
    drill_rows,
    drill_scores,
    drills_behind,
    drills_by_unit,
    evaluate_drill,
    evaluation_template,
    get_drill,
    list_drills,
    plan_drill,
    record_drill_held,
    unit_areas,
)
from .drills import _drill as _drill
from .duty import duty_gaps, duty_roster, remove_duty, set_duty
from .ledger import (
    Allocation,
    ExpiredReceipt,
    StockError,
    adjust,
    check_ledger,
    is_expired,
    issue,
    issue_fefo,
    moves_of_batch,
    receive,
    suggest_fefo,
    transfer,
)
from .plans import (
    PlanRow,
    create_plan,
    list_plans,
    plan_file,
    plan_rows,
    plan_steps,
    plan_steps_used,
    plans_review_due,
    set_plan_steps,
    update_plan,
)
from .search import search
from .settings import _SETTING as _SETTING
from .settings import alert_days, setting
from .shelters import create_shelter, list_shelters, set_shelter_status, shelter_capacity, update_shelter
from .stock import (
    BatchStockRow,
    ExpiryAlert,
    MoveSummaryRow,
    StockAlertSummary,
    StockRow,
    WarehouseAlerts,
    alerts_by_warehouse,
    batches,
    below_minimum,
    expiry_alerts,
    expiry_band,
    move_summary,
    stock_alert_summary,
    stock_overview,
    stock_view,
    warehouse_stock,
)
from .stocktake import (
    STOCKTAKE_LABEL,
    SheetLine,
    cancel_stocktake,
    current_stocktake,
    open_stocktake,
    post_stocktake,
    record_count,
    record_counts,
    stocktake_lines,
    stocktake_sheet,
)
from .teams import (
    TeamRow,
    TeamSizeCheck,
    add_member,
    create_team,
    list_teams,
    remove_member,
    team_members,
    team_rows,
    team_size_check,
)

__all__ = [
    "ExpiredReceipt",
    "Allocation",
    "AreaChoice",
    "BatchStockRow",
    "DrillCompliance",
    "DrillRow",
    "ExpiryAlert",
    "GBT_TOP",
    "ItemChoice",
    "MoveSummaryRow",
    "PlanRow",
    "STOCKTAKE_LABEL",
    "SheetLine",
    "StockAlertSummary",
    "StockError",
    "StockRow",
    "TeamRow",
    "TeamSizeCheck",
    "WarehouseAlerts",
    "add_member",
    "adjust",
    "alert_days",
    "alerts_by_warehouse",
    "batches",
    "below_minimum",
    "cancel_drill",
    "cancel_stocktake",
    "check_ledger",
    "create_item",
    "create_plan",
    "create_shelter",
    "create_team",
    "create_warehouse",
    "current_stocktake",
    "drill_compliance",
    "drill_rows",
    "drill_scores",
    "drills_behind",
    "drills_by_unit",
    "duty_gaps",
    "duty_roster",
    "evaluate_drill",
    "evaluation_template",
    "expiry_alerts",
    "expiry_band",
    "find_items",
    "get_drill",
    "is_expired",
    "issue",
    "issue_fefo",
    "item_by_code",
    "item_choices",
    "item_locations",
    "list_drills",
    "list_plans",
    "list_shelters",
    "list_teams",
    "list_warehouses",
    "move_summary",
    "moves_of_batch",
    "open_stocktake",
    "plan_drill",
    "plan_file",
    "plan_rows",
    "plan_steps",
    "plan_steps_used",
    "plans_review_due",
    "post_stocktake",
    "receive",
    "record_count",
    "record_counts",
    "record_drill_held",
    "remove_duty",
    "remove_member",
    "search",
    "set_duty",
    "set_min_stock",
    "set_plan_steps",
    "set_shelter_status",
    "setting",
    "shelter_capacity",
    "stock_alert_summary",
    "stock_overview",
    "stock_view",
    "stocktake_lines",
    "stocktake_sheet",
    "suggest_fefo",
    "team_members",
    "team_rows",
    "team_size_check",
    "transfer",
    "unit_areas",
    "update_plan",
    "update_shelter",
    "update_warehouse",
    "validate_item_code",
    "warehouse_stock",
]
