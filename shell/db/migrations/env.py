"""Alembic environment: always run with a connection passed in ``config.attributes``."""
from alembic import context

import shell.core.models  # noqa: F401  (core tables in the metadata for autogenerate)
from shell.db.base import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("请通过 shell.db.migrate 或 jiedao db upgrade 运行迁移")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
