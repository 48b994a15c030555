"""sign-in failures: lockout per account and client address, the account as a whole only slowed

One row per refused console sign-in (the username typed, the client's address, when; the failure that locks
its address carries the lock's end) replaces the account-wide counter and lock of admin_accounts, which
anyone who knew a username could turn on its owner. A lock in force when this runs is lifted.

admin_accounts loses its two columns through ALTER TABLE ... DROP COLUMN on SQLite too (3.35 and later):
batch mode would copy and drop the table, and dropping it deletes every console session through their
ON DELETE CASCADE.

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_failures_failed_at"), ["failed_at"], unique=False)
        batch_op.create_index(
            "ix_sign_in_failures_username_address", ["username", "address", "failed_at"], unique=False
        )
    op.drop_column("admin_accounts", "failed_sign_ins")
    op.drop_column("admin_accounts", "locked_until")


def downgrade():
    # The old counter starts at 0 and no account is locked.
    op.add_column("admin_accounts", sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.add_column(
        "admin_accounts", sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_failures_username_address")
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_failed_at"))
    op.drop_table("sign_in_failures")
