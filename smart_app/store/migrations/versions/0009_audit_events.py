"""The audit log: who opened which patient's brief, downloaded which PDF, recorded and wrote which note, and when.
Ids only, never clinical content.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant", sa.String(500), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(128), nullable=True),
        sa.Column("resource", sa.String(300), nullable=True),
    )
    op.create_index("ix_audit_events_tenant_at", "audit_events", ["tenant", "at"])
    op.create_index("ix_audit_events_patient", "audit_events", ["tenant", "patient_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_patient", "audit_events")
    op.drop_index("ix_audit_events_tenant_at", "audit_events")
    op.drop_table("audit_events")
