"""Alembic: one head, a clean round trip, and no drift between models and migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from gateway.core.db import create_db_engine
from gateway.core.migrate import alembic_config


def _metadatas() -> list:  # type: ignore[type-arg]
    from audit.models import metadata as audit_metadata
    from gateway.core.models import Base

    return [Base.metadata, audit_metadata]


def _table_of(diff: object) -> str | None:
    """The table a diff is about (each metadata only answers for its own tables)."""
    item = diff[0] if isinstance(diff, list) else diff
    obj = item[1] if isinstance(item, tuple) and len(item) > 1 else None
    table = getattr(obj, "table", None)
    if table is not None:
        return str(table.name)
    name = getattr(obj, "name", None)
    if isinstance(item, tuple) and item[0] in ("add_table", "remove_table"):
        return str(name)
    return str(item[3]) if isinstance(item, tuple) and len(item) > 3 else None


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_upgrade_downgrade_upgrade_round_trip(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    engine = create_db_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert {"cases", "consents", "decision_log", "audit_records", "audit_checkpoints"} <= tables
    command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert set(inspect(engine).get_table_names()) == tables
    engine.dispose()


def test_models_and_migrations_do_not_drift(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    command.upgrade(alembic_config(url), "head")
    engine = create_db_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = [d for md in _metadatas() for d in compare_metadata(ctx, md)
                 if _table_of(d) in md.tables]
    engine.dispose()
    assert diffs == []
