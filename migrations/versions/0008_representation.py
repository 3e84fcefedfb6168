"""representation: machtigingen (a citizen's authorisations) and the acting-for choice of a page session

Revision ID: 0008_representation
Revises: 0007_workspace
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_representation"
down_revision = "0007_workspace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "machtigingen",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("citizen_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("gemachtigde_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("gemachtigde_naam", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machtigingen")),
    )
    with op.batch_alter_table("machtigingen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_machtigingen_citizen_pseudonym"), ["citizen_pseudonym"], unique=False)
        batch_op.create_index(batch_op.f("ix_machtigingen_gemachtigde_pseudonym"), ["gemachtigde_pseudonym"],
                              unique=False)
    with op.batch_alter_table("page_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acting_for_pseudonym", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("acting_for_bsn_sealed", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("page_sessions", schema=None) as batch_op:
        batch_op.drop_column("acting_for_bsn_sealed")
        batch_op.drop_column("acting_for_pseudonym")
    with op.batch_alter_table("machtigingen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_machtigingen_gemachtigde_pseudonym"))
        batch_op.drop_index(batch_op.f("ix_machtigingen_citizen_pseudonym"))
    op.drop_table("machtigingen")
