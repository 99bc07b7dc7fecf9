"""One-time form keys: each call form and hand-entry form carries a key, stored with the note or the denial it
created, so a second submit of the same form (Back, then submit again) finds the first result instead of writing
a second one. Unique per EHR and patient; a row saved without a key (older forms, scripts) keeps NULL.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = {"call_notes": "uq_call_notes_form_key", "hand_entered_denials": "uq_hand_entered_denials_form_key"}


def upgrade() -> None:
    for table, constraint in TABLES.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("form_key", sa.String(64), nullable=True))
            batch.create_unique_constraint(constraint, ["iss", "patient_id", "form_key"])


def downgrade() -> None:
    for table, constraint in TABLES.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(constraint, type_="unique")
            batch.drop_column("form_key")
