"""Where the migration scripts are and the Alembic configuration over them (the core's branch and
the plugins'). Its own module so that both ``shell.db.migrate`` and ``shell.db.backup`` (which
checks a backup's revisions) use it without importing each other."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from shell.contracts import MigrationBranch

if TYPE_CHECKING:  # Alembic is imported only when a configuration is needed (start-up time)
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
CORE_BRANCH = MigrationBranch("core", MIGRATIONS_DIR / "versions")


def version_locations(branches: Iterable[MigrationBranch] = ()) -> list[Path]:
    return [CORE_BRANCH.path] + [Path(b.path) for b in branches if b.label != "core"]


def alembic_config(branches: Iterable[MigrationBranch] = ()) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_locations", " ".join(str(p) for p in version_locations(branches)))
    cfg.set_main_option("path_separator", "space")
    return cfg
