"""One-time keys of the other forms that create something (scheduling log, drafts, brief edits): each key with
where its result is, so a second submit of the same form opens the first result.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_submissions",
        sa.Column("form_key", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(128), nullable=False),
        sa.Column("result_path", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("form_submissions")
