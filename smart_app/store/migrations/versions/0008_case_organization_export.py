"""The requesting practice (``Organization/<id>``) on each case: within one EHR, a user sees only the cases of the
organisations the EHR lists for them (their PractitionerRoles). And the progress of a Bulk Data export that
``p2p-brief sync`` is reading, so a run that stops resumes inside the export.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("denial_cases") as batch:
        batch.add_column(sa.Column("organization", sa.String(200), nullable=True))
        batch.create_index("ix_denial_cases_tenant_organization", ["tenant", "organization"])
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("export_json", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("export_json")
    with op.batch_alter_table("denial_cases") as batch:
        batch.drop_index("ix_denial_cases_tenant_organization")
        batch.drop_column("organization")
