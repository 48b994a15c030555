"""users status index: the users list filtered by status at a million users

Disabled users are few: without an index, listing them walks the whole table in the sort's order
(PostgreSQL, a million users, 0.1% disabled: 288 ms -> 30 ms). Logins never write the users row, so the
index costs the hot path nothing. The last-login filter has no index of its own on purpose: every login
updates wechat_bindings.last_login_at, and an index on it would make each of those updates rewrite every
index of the row (no HOT update on PostgreSQL).

Revision ID: 0008
Revises: 0007
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_status"))
