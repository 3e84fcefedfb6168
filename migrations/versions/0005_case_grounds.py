"""case grounds and teams; consents bound to a case or team; the citizen's "no"

Revision ID: 0005_case_grounds
Revises: 0004_verify_runs
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_case_grounds"
down_revision = "0004_verify_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("ground_type", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("ground_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("ground_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("assigned_by_sub", sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_team"), ["team"], unique=False)
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("team", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("declined", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_consents_case_id"), ["case_id"], unique=False)
    op.create_table(
        "aanmeldingen",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("citizen_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("citizen_bsn_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by_sub", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aanmeldingen")),
    )
    with op.batch_alter_table("aanmeldingen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_aanmeldingen_citizen_pseudonym"), ["citizen_pseudonym"], unique=False)
        batch_op.create_index(batch_op.f("ix_aanmeldingen_status"), ["status"], unique=False)
    op.create_table(
        "signals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source_ref", sa.String(length=128), nullable=False),
        sa.Column("source_agency", sa.String(length=64), nullable=False),
        sa.Column("citizen_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("citizen_bsn_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("soort", sa.String(length=32), nullable=False),
        sa.Column("achterstand", sa.String(length=16), nullable=False),
        sa.Column("signaled_on", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        sa.UniqueConstraint("source_ref", name=op.f("uq_signals_source_ref")),
    )
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signals_citizen_pseudonym"), ["citizen_pseudonym"], unique=False)
        batch_op.create_index(batch_op.f("ix_signals_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signals_status"))
        batch_op.drop_index(batch_op.f("ix_signals_citizen_pseudonym"))
    op.drop_table("signals")
    with op.batch_alter_table("aanmeldingen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aanmeldingen_status"))
        batch_op.drop_index(batch_op.f("ix_aanmeldingen_citizen_pseudonym"))
    op.drop_table("aanmeldingen")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_case_id"))
        batch_op.drop_column("declined")
        batch_op.drop_column("team")
        batch_op.drop_column("case_id")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_team"))
        batch_op.drop_column("assigned_by_sub")
        batch_op.drop_column("ground_reason")
        batch_op.drop_column("ground_id")
        batch_op.drop_column("ground_type")
        batch_op.drop_column("team")
