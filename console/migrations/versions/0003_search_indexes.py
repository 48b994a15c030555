"""search indexes: the console's user list sorted and searched at a million users

Sorting by name or date, a name containing a term (pg_trgm on PostgreSQL), a phone, openId or unionId
equal to a term or starting with it (varchar_pattern_ops on PostgreSQL), and on PostgreSQL a larger
statistics sample of names, without which the planner misjudges how rare a name term is and reads the
whole table in date order (two-term search at a million users: 236 ms -> 5 ms). Measured by `make bench`.

Revision ID: 0003
Revises: 0001 (re-point to 0002, the console's migration, when its branch is merged)
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NAME_TRGM = dict(postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}, sqlite_where=sa.text("0"))


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


NAME_STATISTICS = 1000  # PostgreSQL's default is 100


def upgrade():
    if _postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"ALTER TABLE users ALTER COLUMN name SET STATISTICS {NAME_STATISTICS}")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_created_at"), ["created_at"], unique=False)
        # the trigram index on PostgreSQL; an empty partial index on SQLite (see console/models/user.py)
        batch_op.create_index("ix_users_name_trgm", ["name"], unique=False, **NAME_TRGM)
        if _postgresql():  # pattern ops for LIKE 'term%'; SQLite's plain index serves GLOB 'term*' as it is
            batch_op.drop_index("ix_users_phone")
            batch_op.create_index(
                "ix_users_phone", ["phone"], unique=False, postgresql_ops={"phone": "varchar_pattern_ops"}
            )
    with op.batch_alter_table("wechat_bindings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wechat_bindings_openid", ["openid"], unique=False, postgresql_ops={"openid": "varchar_pattern_ops"}
        )
        if _postgresql():
            batch_op.drop_index("ix_wechat_bindings_unionid")
            batch_op.create_index(
                "ix_wechat_bindings_unionid",
                ["unionid"],
                unique=False,
                postgresql_ops={"unionid": "varchar_pattern_ops"},
            )


def downgrade():
    with op.batch_alter_table("wechat_bindings", schema=None) as batch_op:
        if _postgresql():
            batch_op.drop_index("ix_wechat_bindings_unionid")
            batch_op.create_index("ix_wechat_bindings_unionid", ["unionid"], unique=False)
        batch_op.drop_index("ix_wechat_bindings_openid")
    with op.batch_alter_table("users", schema=None) as batch_op:
        if _postgresql():
            batch_op.drop_index("ix_users_phone")
            batch_op.create_index("ix_users_phone", ["phone"], unique=False)
        batch_op.drop_index("ix_users_name_trgm")
        batch_op.drop_index(batch_op.f("ix_users_created_at"))
        batch_op.drop_index(batch_op.f("ix_users_name"))
    if _postgresql():
        op.execute("ALTER TABLE users ALTER COLUMN name SET STATISTICS -1")
    # pg_trgm stays: other objects may use it, and unused it costs nothing
