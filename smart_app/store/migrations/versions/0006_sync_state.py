"""Where `p2p-brief sync` stopped, per EHR: the newest lastUpdated it has processed and the ids at that instant.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("high_water", sa.String(40), nullable=True),
        sa.Column("ids_at_mark_json", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
