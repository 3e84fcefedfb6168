"""authorization decision log: trace id, outcome and the ADL record beside each decision

Revision ID: 0006_adl
Revises: 0005_case_grounds

Rows from before this revision keep NULL in all three columns; `loket policy adl-export`
builds their record from what the row holds.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_adl"
down_revision = "0005_case_grounds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trace_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("adl_json", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_decision_log_trace_id"), ["trace_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("decision_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_log_trace_id"))
        batch_op.drop_column("adl_json")
        batch_op.drop_column("outcome")
        batch_op.drop_column("trace_id")
