"""The metadata store on SQLite and PostgreSQL: migrations, constraints, cascades."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

import groundwork.platform.db.identity_models  # sessions, sign-ins, SCIM tokens: part of the schema under test
import groundwork.platform.slack.models  # noqa: F401 - its tables are part of the schema under test
from groundwork.platform.db.models import Base, Chunk, Datastore, Document, Job, Tenant
from groundwork.platform.db.session import MIGRATIONS_DIR, Database


def head_revision() -> str:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


@pytest.fixture
def database(database_url: str) -> Database:
    db = Database(database_url)
    db.migrate()
    db.migrate()  # a second run is a no-op
    return db


def seed(db: Database) -> str:
    with db.session() as session:
        session.add(Tenant(id="acme", name="Acme"))
        session.flush()
        datastore = Datastore(tenant_id="acme", name="docs", embedding_model="m")
        session.add(datastore)
        session.flush()
        return datastore.id


def test_migrations_create_every_table_and_record_the_revision(database: Database) -> None:
    tables = set(inspect(database.engine).get_table_names())
    assert {
        "tenants",
        "datastores",
        "documents",
        "chunks",
        "jobs",
        "conversations",
        "messages",
        "users",
        "groups",
        "group_members",
        "api_keys",
        "document_acl",
        "audit_events",
        "feedback",
        "alembic_version",
    } <= tables
    with database.engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar() == head_revision()
    if database.is_sqlite:
        with database.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_migrations_build_exactly_the_schema_of_the_models(database: Database) -> None:
    """Every table, column and index the ORM declares is what the migrations created (and nothing else)."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = [d for d in compare_metadata(context, Base.metadata) if "alembic_version" not in str(d)]
    assert differences == []


def test_document_identity_is_unique_per_datastore(database: Database) -> None:
    datastore_id = seed(database)
    fields = {"tenant_id": "acme", "datastore_id": datastore_id, "mime_type": "text/plain", "blob_key": "k"}
    with database.session() as session:
        session.add(Document(source_uri="file:///a", content_hash="1", **fields))
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Document(source_uri="file:///a", content_hash="2", **fields))


def test_chunks_and_metadata_round_trip_and_cascade(database: Database) -> None:
    datastore_id = seed(database)
    with database.session() as session:
        document = Document(
            tenant_id="acme",
            datastore_id=datastore_id,
            source_uri="file:///guide.md",
            mime_type="text/markdown",
            content_hash="h",
            blob_key="k",
            metadata_json={"team": "sre", "year": 2026},
            acl={"groups": ["sre"]},
        )
        session.add(document)
        session.flush()
        session.add(
            Chunk(
                document_id=document.id,
                datastore_id=datastore_id,
                ordinal=0,
                text="hello",
                heading_path=["Guide", "Intro"],
                start_offset=0,
                end_offset=5,
                page=None,
                token_count=1,
                embedding=b"\x00" * 16,
            )
        )
        session.add(Job(tenant_id="acme", datastore_id=datastore_id, kind="ingest", total=1))
    with database.session() as session:
        loaded = session.scalars(select(Document).where(Document.metadata_json["team"].as_string() == "sre")).one()
        assert loaded.metadata_json == {"team": "sre", "year": 2026} and loaded.status == "queued"
        chunk = session.scalars(select(Chunk)).one()
        assert chunk.heading_path == ["Guide", "Intro"] and chunk.id > 0
        session.delete(loaded)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Chunk)) == 0


def test_upgrading_an_existing_store_keeps_every_chunk(database_url: str) -> None:
    """A migration that rebuilds a table (SQLite batch mode) must not cascade into the rows referencing it."""
    db = Database(database_url)
    db.migrate("0007")
    now = "2026-12-01 00:00:00"
    with db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'Acme', :now)"), {"now": now}
        )
        connection.execute(
            text(
                "INSERT INTO datastores (id, tenant_id, name, description, embedding_model, index_generation, "
                "created_at) VALUES ('ds', 'acme', 'docs', '', 'm', 1, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO documents (id, tenant_id, datastore_id, source_uri, title, mime_type, content_hash, "
                "size_bytes, blob_key, version, status, attempts, chunk_count, metadata_json, created_at, "
                "updated_at) VALUES ('d1', 'acme', 'ds', 'file:///a.md', 'A', 'text/markdown', 'h', 5, 'k', 1, "
                "'indexed', 1, 1, '{}', :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO chunks (id, document_id, datastore_id, ordinal, text, heading_path, start_offset, "
                "end_offset, token_count, embedding) VALUES (1, 'd1', 'ds', 0, 'hello', '[]', 0, 5, 1, :vector)"
            ),
            {"vector": b"\x00" * 16},
        )
    db.migrate()
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Chunk)) == 1
        assert session.scalar(select(func.count()).select_from(Document)) == 1
    db.close()
