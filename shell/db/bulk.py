"""Bulk inserts for demo streets and benchmarks: many rows through Core executemany, ids assigned
here. RETURNING with executemany is slow on SQLite, and a large street (hundreds of thousands of rows
per table) must build in minutes, so the writer numbers rows itself and, on PostgreSQL, moves each
table's id sequence past the inserted ids in ``finish``.

Only for filling a database that nothing else writes to at the same time (``jiedao demo``, the
benchmarks): ids are taken as max(id) + 1 when a model is first seen, with no lock.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, text

CHUNK = 5000


class BulkWriter:
    """``insert(Model, rows)`` → the new ids, in order. Rows are dicts of column values; ``id``,
    ``created_at``, ``updated_at`` and ``version_id`` are filled in when the model has them and the row
    does not. Call ``finish()`` once at the end (PostgreSQL sequences)."""

    def __init__(self, session, now: datetime | None = None):
        self.session = session
        self.now = now or datetime.now(UTC)
        self.next_id: dict[type[Any], int] = {}
        self.counts: dict[str, int] = {}
        self._defaults: dict[type, dict] = {}

    def _fill(self, model) -> dict:
        if model not in self._defaults:
            columns = model.__table__.columns
            self._defaults[model] = {k: v for k, v in (("created_at", self.now), ("updated_at", self.now),
                                                          ("version_id", 1)) if k in columns}
        return self._defaults[model]

    def insert(self, model, rows: list[dict]) -> list[int]:
        if not rows:
            return []
        if model not in self.next_id:
            self.next_id[model] = (self.session.scalar(select(func.max(model.id))) or 0) + 1
        start = self.next_id[model]
        ids = list(range(start, start + len(rows)))
        self.next_id[model] = start + len(rows)
        defaults = self._fill(model)
        for i, r in zip(ids, rows, strict=True):
            r["id"] = i
            for k, v in defaults.items():
                r.setdefault(k, v)
        self.insert_rows(model, rows)
        return ids

    def insert_rows(self, model, rows: list[dict]) -> None:
        """Rows that carry their own key (or a table without a surrogate id), chunked."""
        table = getattr(model, "__table__", model)
        for k in range(0, len(rows), CHUNK):
            self.session.execute(insert(table), rows[k:k + CHUNK])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

    def finish(self) -> None:
        if self.session.get_bind().dialect.name == "postgresql":
            for model in self.next_id:
                table = model.__tablename__
                self.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
