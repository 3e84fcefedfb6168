"""audit log tables: records (Merkle leaves), subtree hashes, signed checkpoints, log head

See audit/models.py and docs/adr/0003-audit-log-format.md. The single head row is created by
the first append (under the log's database lock), so this migration holds no data.

Revision ID: 0002_audit
Revises: 0001_gateway
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_audit"
down_revision = "0001_gateway"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.String(length=24), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_log_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_head")),
    )
    op.create_table(
        "audit_records",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("start_time", sa.String(length=24), nullable=False),
        sa.Column("actor_sub", sa.String(length=256), nullable=False),
        sa.Column("actor_role", sa.String(length=256), nullable=False),
        sa.Column("purpose", sa.String(length=256), nullable=True),
        sa.Column("case_id", sa.String(length=256), nullable=True),
        sa.Column("data_subject_id", sa.String(length=64), nullable=True),
        sa.Column("break_glass", sa.Boolean(), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_audit_records")),
        sa.UniqueConstraint("record_id", name=op.f("uq_audit_records_record_id")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_records_actor_sub"), ["actor_sub"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_records_break_glass"), ["break_glass"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_records_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_records_data_subject_id"), ["data_subject_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_records_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_records_purpose"), ["purpose"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_records_start_time"), ["start_time"], unique=False
        )

    op.create_table(
        "audit_subtrees",
        sa.Column("node", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_audit_subtrees")),
    )


def downgrade() -> None:
    op.drop_table("audit_subtrees")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_records_start_time"))
        batch_op.drop_index(batch_op.f("ix_audit_records_purpose"))
        batch_op.drop_index(batch_op.f("ix_audit_records_kind"))
        batch_op.drop_index(batch_op.f("ix_audit_records_data_subject_id"))
        batch_op.drop_index(batch_op.f("ix_audit_records_case_id"))
        batch_op.drop_index(batch_op.f("ix_audit_records_break_glass"))
        batch_op.drop_index(batch_op.f("ix_audit_records_actor_sub"))

    op.drop_table("audit_records")
    op.drop_table("audit_log_head")
    op.drop_table("audit_checkpoints")
