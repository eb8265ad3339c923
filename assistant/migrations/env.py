"""Alembic environment of the session store.

The store runs migrations itself on start (`SqlStore.open`), handing its connection over in
`config.attributes["connection"]`. Migrations are written by hand in `versions/`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from assistant.store.models import Base

target_metadata = Base.metadata
config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///assistant.db")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
