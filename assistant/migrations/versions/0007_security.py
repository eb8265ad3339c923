"""Security: admin console sessions kept on the server (so logging out and revoking a key end
them), and mobile devices bound to a device token and to the API key that registered them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(64), primary_key=True),  # SHA-256 of the cookie's token
        sa.Column("key_id", sa.String(32), nullable=True),  # None: the server's admin key
        sa.Column("key_check", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    with op.batch_alter_table("mobile_devices") as batch:
        batch.add_column(sa.Column("token_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("owner_key", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mobile_devices") as batch:
        batch.drop_column("owner_key")
        batch.drop_column("token_sha256")
    op.drop_index("ix_console_sessions_expires_at", table_name="console_sessions")
    op.drop_table("console_sessions")
