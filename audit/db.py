"""The audit log's own SQLAlchemy metadata (so ``audit/`` needs nothing from the gateway).

The naming convention is the one Alembic's migrations were written with; it must stay equal to
the gateway's (tests/test_import_rules.py checks that), since both sides share one schema.
"""

from __future__ import annotations

from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)
