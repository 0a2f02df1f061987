"""sign-in: browser sessions, pending OIDC sign-ins, SCIM tokens; users and groups say where they come from

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("users", "groups"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("source", sa.String(10), nullable=False, server_default="local"))
            batch_op.add_column(sa.Column("external_id", sa.String(320), nullable=True))
            batch_op.add_column(sa.Column("scim_profile", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "web_sessions",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("claimed_groups", sa.JSON(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("id_token", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_sessions_user", "web_sessions", ["user_id"])
    op.create_table(
        "pending_sign_ins",
        sa.Column("state", sa.String(64), primary_key=True),
        sa.Column("browser_sha256", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.String(2000), nullable=False),
        sa.Column("next_path", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_table(
        "scim_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_scim_tokens_tenant_id", "scim_tokens", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_scim_tokens_tenant_id", table_name="scim_tokens")
    op.drop_table("scim_tokens")
    op.drop_table("pending_sign_ins")
    op.drop_index("ix_web_sessions_user", table_name="web_sessions")
    op.drop_table("web_sessions")
    for table in ("users", "groups"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("scim_profile")
            batch_op.drop_column("external_id")
            batch_op.drop_column("source")
