"""verify runs: the FG's "verify now" jobs, shared by every gateway process

Revision ID: 0004_verify_runs
Revises: 0003_page_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_verify_runs"
down_revision = "0003_page_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verify_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("started_by", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=True),
        sa.Column("checkpoints_verified", sa.Integer(), nullable=True),
        sa.Column("root_hex", sa.String(length=64), nullable=True),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verify_runs")),
    )
    with op.batch_alter_table("verify_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verify_runs_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verify_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verify_runs_started_at"))

    op.drop_table("verify_runs")
