"""`p2p-brief sync` keeps one position per EHR *and resource type*: it now reads PDex ExplanationOfBenefits beside
ClaimResponses, and one type's high-water mark or export cursor must never move the other's. The table is rebuilt
with the key (iss, resource_type); each EHR's saved position becomes its ClaimResponse position.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = "high_water, ids_at_mark_json, export_json, updated_at"


def upgrade() -> None:
    op.create_table(
        "sync_positions",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("resource_type", sa.String(64), primary_key=True),
        sa.Column("high_water", sa.String(40), nullable=True),
        sa.Column("ids_at_mark_json", sa.Text, nullable=False),
        sa.Column("export_json", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        f"INSERT INTO sync_positions (iss, resource_type, {COLUMNS}) "  # noqa: S608 - constant column names
        f"SELECT iss, 'ClaimResponse', {COLUMNS} FROM sync_state"
    )
    op.drop_table("sync_state")


def downgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("high_water", sa.String(40), nullable=True),
        sa.Column("ids_at_mark_json", sa.Text, nullable=False),
        sa.Column("export_json", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        f"INSERT INTO sync_state (iss, {COLUMNS}) "  # noqa: S608 - constant column names
        f"SELECT iss, {COLUMNS} FROM sync_positions WHERE resource_type = 'ClaimResponse'"
    )
    op.drop_table("sync_positions")
