"""workspace: access reports ("Ik herken dit niet"), agency requests, incremental patterns

Revision ID: 0007_workspace
Revises: 0006_adl
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_workspace"
down_revision = "0006_adl"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("citizen_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("record_index", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("actor_sub", sa.String(length=128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_reports")),
    )
    with op.batch_alter_table("access_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_reports_citizen_pseudonym"), ["citizen_pseudonym"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_reports_status"), ["status"], unique=False)

    op.create_table(
        "agency_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("citizen_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("casemanager_sub", sa.String(length=128), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("request_type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("agency_reference", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_agency_requests_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_requests")),
    )
    with op.batch_alter_table("agency_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_requests_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agency_requests_citizen_pseudonym"), ["citizen_pseudonym"], unique=False)
        batch_op.create_index(batch_op.f("ix_agency_requests_status"), ["status"], unique=False)

    op.create_table(
        "pattern_events",
        sa.Column("log_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("actor_sub", sa.String(length=128), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("start_time", sa.String(length=32), nullable=False),
        sa.Column("break_glass", sa.Boolean(), nullable=False),
        sa.Column("refused_something", sa.Boolean(), nullable=False),
        sa.Column("disclosed_fields", sa.Integer(), nullable=False),
        sa.Column("held_fields", sa.Integer(), nullable=False),
        sa.Column("refusals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_pattern_events")),
    )
    with op.batch_alter_table("pattern_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pattern_events_actor_sub"), ["actor_sub"], unique=False)
        batch_op.create_index(batch_op.f("ix_pattern_events_subject"), ["subject"], unique=False)

    op.create_table(
        "pattern_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("scanned_until", sa.Integer(), nullable=False),
        sa.Column("findings_json", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pattern_state")),
    )


def downgrade() -> None:
    op.drop_table("pattern_state")
    with op.batch_alter_table("pattern_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pattern_events_subject"))
        batch_op.drop_index(batch_op.f("ix_pattern_events_actor_sub"))
    op.drop_table("pattern_events")
    with op.batch_alter_table("agency_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_requests_status"))
        batch_op.drop_index(batch_op.f("ix_agency_requests_citizen_pseudonym"))
        batch_op.drop_index(batch_op.f("ix_agency_requests_case_id"))
    op.drop_table("agency_requests")
    with op.batch_alter_table("access_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_reports_status"))
        batch_op.drop_index(batch_op.f("ix_access_reports_citizen_pseudonym"))
    op.drop_table("access_reports")
