"""The practice's cases: one row per denial the app has seen, across patients, keyed by tenant.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "denial_cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(500), nullable=False, index=True),
        sa.Column("patient_id", sa.String(128), nullable=False),
        sa.Column("denial_id", sa.String(128), nullable=False),
        sa.Column("summary_json", sa.Text, nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True, index=True),
        sa.Column("status", sa.String(32), nullable=False, index=True),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "patient_id", "denial_id", name="uq_denial_cases_case"),
    )


def downgrade() -> None:
    op.drop_table("denial_cases")
