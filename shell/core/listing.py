"""What a service hands a lazy list (shell/ui/widgets/lazy_table.py): the query and the unique column
it is paged by, so that a view shows rows of tables it never imports (views → services → models).

``LazyTableModel.set_query(listing.query, key_column=listing.key, descending=listing.descending)``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select


@dataclass(frozen=True)
class Listing:
    """When ``query`` selects columns rather than one record, ``row`` turns such a row into the
    object the list's columns read."""

    query: Select
    key: Any                  # a unique column of ``query`` (keyset paging orders by it)
    descending: bool = False  # newest first
    row: Callable[[Any], Any] | None = None
