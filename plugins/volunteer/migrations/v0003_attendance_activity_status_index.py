"""volunteer: an index (activity_id, status) on attendances for the activity list's per-activity counts
(enrolled, waiting for approval). Without it the planner answered "waiting for approval" by walking
every signed-out record for each listed activity (the status index): 0.57 s for the 500 newest
activities of the large street.

Revision ID: v0003
Revises: v0002
Create Date: 2026-11-22
"""
from alembic import op

revision = "v0003"
down_revision = "v0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_volunteer_attendances_activity_status", "volunteer_attendances", ["activity_id", "status"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_volunteer_attendances_activity_status", table_name="volunteer_attendances")
