"""datastores.acl_generation: bumped whenever an ACL of one of the datastore's documents changes, so allowed-id
sets computed for a principal can be reused until something they depend on moves

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datastores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acl_generation", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("datastores", schema=None) as batch_op:
        batch_op.drop_column("acl_generation")
