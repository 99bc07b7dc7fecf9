"""Call notes and their outbox state.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_notes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("iss", sa.String(500), nullable=False, index=True),
        sa.Column("patient_id", sa.String(128), nullable=False, index=True),
        sa.Column("claim_response_id", sa.String(128), nullable=False, index=True),
        sa.Column("form_json", sa.Text, nullable=False),
        sa.Column("note_text", sa.Text, nullable=False),
        sa.Column("resource_json", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("document_reference", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("call_notes")
