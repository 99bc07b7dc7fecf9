"""Decisions read from a payer's own API (`p2p-brief sync --payer`), kept with the chart they were matched to: the
EHR has no copy, and the case's brief is built from this one.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payer_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(128), nullable=False),
        sa.Column("denial_id", sa.String(200), nullable=False),
        sa.Column("payer", sa.String(64), nullable=False),
        sa.Column("resources_json", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "patient_id", "denial_id", name="uq_payer_answers_denial"),
    )


def downgrade() -> None:
    op.drop_table("payer_answers")
