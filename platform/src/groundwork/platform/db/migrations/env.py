"""Alembic environment: runs on the connection `Database.migrate` passes in, or on `sqlalchemy.url`."""

from alembic import context
from sqlalchemy import create_engine

import groundwork.platform.db.identity_models  # registers the sign-in tables on Base.metadata
import groundwork.platform.slack.models  # noqa: F401 - registers the Slack bot's tables on Base.metadata
from groundwork.platform.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///groundwork.db")
    with engine.begin() as new_connection:
        context.configure(connection=new_connection, target_metadata=Base.metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
