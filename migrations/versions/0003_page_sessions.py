"""page sessions: server-side logins for the citizen and FG pages, revocable

Only the SHA-256 of each session id is stored (gateway/core/models.py PageSession).

Revision ID: 0003_page_sessions
Revises: 0002_audit
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_page_sessions"
down_revision = "0002_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_sessions",
        sa.Column("id_sha256", sa.String(length=64), nullable=False),
        sa.Column("sub", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("citizen_pseudonym", sa.String(length=64), nullable=True),
        sa.Column("citizen_bsn_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id_sha256", name=op.f("pk_page_sessions")),
    )
    with op.batch_alter_table("page_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_sessions_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_sessions_sub"), ["sub"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("page_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_sessions_sub"))
        batch_op.drop_index(batch_op.f("ix_page_sessions_expires_at"))

    op.drop_table("page_sessions")
