"""shell.db.sql.StartsWith: a prefix test each engine's index can serve, wildcards taken literally,
never a cached statement with another prefix."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shell.core.models import Area
from shell.db.sql import StartsWith


@pytest.mark.parametrize("db", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)], indirect=True)
def test_starts_with_finds_by_prefix_and_takes_wildcards_literally(db):
    with db.session_factory() as s:
        for name in ("3301*2", "330102", "3301?x", "33010%", "33_1"):
            s.add(Area(name=name, level="street", path=""))
        s.flush()

        def found(prefix):
            return sorted(s.scalars(select(Area.name).where(StartsWith(Area.name, prefix))))

        assert found("3301") == sorted(["3301*2", "3301?x", "330102", "33010%"])
        assert found("3301*") == ["3301*2"]            # * is not a wildcard here …
        assert found("3301?") == ["3301?x"]            # … nor ? (GLOB), % or _ (LIKE)
        assert found("33010%") == ["33010%"]
        assert found("33_") == ["33_1"]
        s.rollback()


def test_sqlite_writes_glob_so_a_plain_index_serves_it(sqlite_db):
    with sqlite_db.engine.connect() as conn:
        compiled = select(Area.id).where(StartsWith(Area.path, "/1/")).compile(conn)
        assert "GLOB" in str(compiled)
        plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                                      tuple(compiled.params.values()))]
        assert any("ix_core_areas_path" in step and step.startswith("SEARCH") for step in plan), plan
