"""documents.owner_key: a second document of the same source URI, private to the principal that uploaded it,
when the first is one that principal may not read (an upload must not reveal that a hidden document exists)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_key", sa.String(length=300), nullable=False, server_default=""))
        batch_op.drop_constraint("uq_document_source", type_="unique")
        batch_op.create_unique_constraint("uq_document_source", ["datastore_id", "source_uri", "owner_key"])


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint("uq_document_source", type_="unique")
        batch_op.create_unique_constraint("uq_document_source", ["datastore_id", "source_uri"])
        batch_op.drop_column("owner_key")
