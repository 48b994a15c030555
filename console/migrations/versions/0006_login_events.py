"""login events: one row per login, register, bind, unbind, token, phone or decrypt call of the API

The Activity page, the user page and the dashboard read them; `flask --app wsgi purge` deletes those older than
LOGIN_EVENTS_DAYS. The indexes of failures (outcome, WeChat's errcode) are partial: a successful call, the usual
case on the login hot path, never writes them.

Revision ID: 0006
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("call", sa.String(length=16), nullable=False),
        sa.Column("login_method", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("wechat_errcode", sa.Integer(), nullable=True),
        sa.Column("openid", sa.String(length=128), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_events")),
    )
    with op.batch_alter_table("login_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_login_events_user_id", ["user_id", "id"], unique=False)
        batch_op.create_index("ix_login_events_openid", ["openid", "id"], unique=False)
        batch_op.create_index("ix_login_events_login_method", ["login_method", "id"], unique=False)
        batch_op.create_index(
            "ix_login_events_failures",
            ["outcome", "id"],
            unique=False,
            postgresql_where=sa.text("outcome <> 'ok'"),
            sqlite_where=sa.text("outcome <> 'ok'"),
        )
        batch_op.create_index(
            "ix_login_events_wechat_errcode",
            ["wechat_errcode", "id"],
            unique=False,
            postgresql_where=sa.text("wechat_errcode IS NOT NULL"),
            sqlite_where=sa.text("wechat_errcode IS NOT NULL"),
        )


def downgrade():
    with op.batch_alter_table("login_events", schema=None) as batch_op:
        batch_op.drop_index("ix_login_events_wechat_errcode")
        batch_op.drop_index("ix_login_events_failures")
        batch_op.drop_index("ix_login_events_login_method")
        batch_op.drop_index("ix_login_events_openid")
        batch_op.drop_index("ix_login_events_user_id")
        batch_op.drop_index(batch_op.f("ix_login_events_created_at"))
    op.drop_table("login_events")
