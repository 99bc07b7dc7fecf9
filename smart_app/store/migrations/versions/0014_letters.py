"""Uploaded denial letters: the file, what was read off it, what the liaison confirmed, and the case it became.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("iss", sa.String(500), nullable=False, index=True),
        sa.Column("patient_id", sa.String(128), nullable=False, index=True),
        sa.Column("practice", sa.String(200), nullable=True),
        sa.Column("uploaded_by", sa.String(500), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("reading_json", sa.Text, nullable=True),
        sa.Column("confirmed_json", sa.Text, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("denial_id", sa.String(64), nullable=True),
        sa.Column("form_key", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("iss", "patient_id", "form_key", name="uq_letters_form_key"),
    )


def downgrade() -> None:
    op.drop_table("letters")
