"""BulkWriter, the large demo street's bulk inserts: ids numbered after what is there, record columns
filled, and on PostgreSQL the id sequence moved past the inserted ids so the next ordinary insert
does not collide."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shell.core.models import Area, Setting
from shell.db.bulk import BulkWriter


@pytest.mark.parametrize("db", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)], indirect=True)
def test_bulk_ids_defaults_and_sequences(db):
    with db.session_factory() as s:
        s.add(Area(name="青石街道", level="street", path=""))
        s.flush()
        first = s.scalar(select(func.max(Area.id)))
        writer = BulkWriter(s)
        rows = [dict(name=f"社区{i}", level="community", parent_id=first, path="") for i in range(12_000)]
        ids = writer.insert(Area, rows)
        assert ids == list(range(first + 1, first + 12_001))       # numbered after what was there, in order
        assert writer.insert(Area, [dict(name="再一个", level="community", parent_id=first, path="")]) == [first + 12_001]
        writer.insert_rows(Setting, [dict(key="demo.a", value=1), dict(key="demo.b", value=2)])
        writer.finish()
        assert writer.counts == {"core_areas": 12_001, "core_settings": 2}
        a = s.get(Area, first + 5)
        assert a.name == "社区4" and a.version_id == 1 and a.created_at is not None and a.updated_at is not None
        s.add(Area(name="普通插入", level="community", parent_id=first, path=""))   # the sequence moved on
        s.flush()
        assert s.scalar(select(func.max(Area.id))) == first + 12_002
        s.rollback()
