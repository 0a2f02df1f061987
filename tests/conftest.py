"""Shared fixtures. Everything here is real: the packaged embedding model, FAISS, tantivy, SQLite and the
PostgreSQL server at GROUNDWORK_TEST_POSTGRES_URL (default 127.0.0.1:5432, database `test`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from groundwork.platform.access.principal import Principal
from groundwork.platform.api.app import create_app
from groundwork.platform.config import DatabaseConfig, GenerationConfig, IngestionConfig, Settings
from groundwork.platform.services import Services, build_services

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GROUNDWORK_SHARED_DATA", REPO.parent / "shared" / "data"))
OPERATOR = Principal.operator("default")
"""What local CLI commands act as: the operator of the default tenant (reads every document of it)."""
POSTGRES_URL = os.environ.get("GROUNDWORK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"evaluation data {path} is not present")
    return path


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError as exc:  # the message says what is missing; .ci/run starts PostgreSQL
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"gw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'meta.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "data_dir": data_dir,
        "ingestion": IngestionConfig(workers=1, batch_size=8),
        "generation": GenerationConfig(backend="none"),  # tests that need the real vLLM ask for it
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings, owner="pytest")
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def pg_services(tmp_path: Path, postgres_url: str) -> Iterator[Services]:
    built = build_services(make_settings(tmp_path / "data", database=DatabaseConfig(url=postgres_url)), owner="pytest")
    try:
        yield built
    finally:
        built.close()


def admin_key(settings: Settings) -> str:
    """The first admin key, which the server writes when it starts with access control on."""
    return settings.bootstrap_key_file().read_text().strip()


@contextmanager
def api_client(settings: Settings, *, owner: str = "groundwork serve") -> Iterator[TestClient]:
    """The API with its lifespan run, sending the bootstrap admin key of the default tenant on every request."""
    with TestClient(create_app(settings, owner=owner)) as client:
        client.headers["Authorization"] = f"Bearer {admin_key(settings)}"
        yield client
