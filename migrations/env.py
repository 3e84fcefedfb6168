"""Alembic environment: both packages' tables (gateway/core/models.py, audit/models.py)."""

from __future__ import annotations

from alembic import context

from gateway.core.db import create_db_engine
from gateway.core.models import Base

config = context.config


def _target_metadata() -> list:  # type: ignore[type-arg]
    metas = [Base.metadata]
    try:
        from audit.models import metadata as audit_metadata
    except ImportError:  # pragma: no cover - audit tables not present yet
        return metas
    return [*metas, audit_metadata]


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_db_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=_target_metadata(),
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
