"""The full call record: resumable multi-resource writes, corrections, the scheduling log and the drafts.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_notes") as batch:
        batch.add_column(sa.Column("written_json", sa.Text, nullable=True))
        batch.add_column(sa.Column("replaces_note_id", sa.String(36), nullable=True))
        batch.create_index("ix_call_notes_replaces_note_id", ["replaces_note_id"])
    op.create_table(
        "scheduling_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("iss", sa.String(500), nullable=False, index=True),
        sa.Column("patient_id", sa.String(128), nullable=False, index=True),
        sa.Column("denial_id", sa.String(128), nullable=False, index=True),
        sa.Column("event_json", sa.Text, nullable=False),
        sa.Column("author", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("iss", sa.String(500), nullable=False, index=True),
        sa.Column("patient_id", sa.String(128), nullable=False, index=True),
        sa.Column("denial_id", sa.String(128), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("generated_by", sa.String(500), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_by", sa.String(500), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("drafts")
    op.drop_table("scheduling_log")
    with op.batch_alter_table("call_notes") as batch:
        batch.drop_index("ix_call_notes_replaces_note_id")
        batch.drop_column("replaces_note_id")
        batch.drop_column("written_json")
