"""The schema is owned by Alembic: a fresh database migrates to head, and the models and the
migrations describe the same schema (what `alembic check` verifies), on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from workqueue.migrate import HEAD, alembic_config
from workqueue.models import Base
from workqueue.store import WorkQueueStore, create_engine_for


def test_migrations_form_one_line():
    heads = ScriptDirectory.from_config(alembic_config(create_engine_for("sqlite://"))).get_heads()
    assert len(heads) == 1, f"several migration heads (merge them): {heads}"
    assert heads[0] == HEAD, f"workqueue/migrate.py HEAD = {HEAD!r}, Alembic's head is {heads[0]!r}: update it"


def test_fresh_database_migrates_to_head_and_matches_the_models(store_url):
    store = WorkQueueStore(store_url)  # migrates on start-up
    try:
        head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
            tables = set(inspect(conn).get_table_names())
            assert set(Base.metadata.tables) <= tables
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], f"models and migrations differ (add a migration): {diff}"
    finally:
        store.close()


def test_downgrade_to_base_and_up_again(store_url):
    store = WorkQueueStore(store_url)
    try:
        cfg = alembic_config(store.engine)
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        with store.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        store.close()
        store = WorkQueueStore(store_url)  # and up again, as on a fresh start
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        store.close()
