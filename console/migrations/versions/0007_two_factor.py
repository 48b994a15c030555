"""two-factor sign-in: a console account's authenticator secret (sealed) and its recovery codes (hashed)

Two new tables; admin_accounts is left alone.

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "console_second_factors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["admin_accounts.id"],
            name=op.f("fk_console_second_factors_account_id_admin_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_second_factors")),
        sa.UniqueConstraint("account_id", name=op.f("uq_console_second_factors_account_id")),
    )
    op.create_table(
        "console_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["admin_accounts.id"],
            name=op.f("fk_console_recovery_codes_account_id_admin_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_recovery_codes")),
        sa.UniqueConstraint("digest", name=op.f("uq_console_recovery_codes_digest")),
    )
    with op.batch_alter_table("console_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_recovery_codes_account_id"), ["account_id"], unique=False)


def downgrade():
    with op.batch_alter_table("console_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_recovery_codes_account_id"))
    op.drop_table("console_recovery_codes")
    op.drop_table("console_second_factors")
