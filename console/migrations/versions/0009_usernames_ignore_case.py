"""usernames ignore case: a unique index on lower(username) of admin_accounts

`ADMIN` could be created beside `admin`, and signing in had to match the case. From here on a console username is
one account however it is typed. Accounts that already collide (same name but for case) keep the oldest one's name;
each later one is renamed to NAME-ID (its id keeps it unique), nothing else about it changes (password, role,
sessions), and the audit log says so (admin.rename, with the previous name), so an admin can tell its owner.
Failed sign-ins are counted under the lower-cased name from now on: those kept so far are lower-cased too, so a
lock in force stays in force. (Only names of the username rule, all ASCII, were ever counted: SQL's lower() and
Python's agree on them.)

Revision ID: 0009
Revises: 0010 (main holds 0010, 0005 before it; the lead re-chains at merge)
"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEX = "ux_admin_accounts_username_lower"
USERNAME_MAX = 64

accounts = sa.table("admin_accounts", sa.column("id", sa.Integer), sa.column("username", sa.String))
audit_events = sa.table(
    "audit_events",
    sa.column("created_at", sa.DateTime),
    sa.column("actor_type", sa.String),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("details", sa.JSON),
)


def _free_name(username: str, account_id: int, taken: set[str]) -> str:
    """NAME-ID, cut to the column's length, and unique however it is cased."""
    suffix = f"-{account_id}"
    candidate = username[: USERNAME_MAX - len(suffix)] + suffix
    while candidate.lower() in taken:
        suffix += "x"
        candidate = username[: USERNAME_MAX - len(suffix)] + suffix
    return candidate


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.select(accounts.c.id, accounts.c.username).order_by(accounts.c.id)).all()
    taken = {username.lower() for _, username in rows}
    kept: set[str] = set()
    for account_id, username in rows:
        if username.lower() not in kept:
            kept.add(username.lower())
            continue
        renamed = _free_name(username, account_id, taken)
        taken.add(renamed.lower())
        bind.execute(sa.update(accounts).where(accounts.c.id == account_id).values(username=renamed))
        bind.execute(
            sa.insert(audit_events).values(
                created_at=datetime.now(UTC).replace(tzinfo=None),
                actor_type="app",
                actor="migration 0009",
                action="admin.rename",
                details={
                    "username": renamed,
                    "previousUsername": username,
                    "reason": "usernames ignore case now and another account has this name",
                },
            )
        )
    op.create_index(INDEX, "admin_accounts", [sa.text("lower(username)")], unique=True)
    op.execute("UPDATE sign_in_failures SET username = lower(username) WHERE username <> lower(username)")


def downgrade():
    # Renamed accounts keep their new names, and failures their lower-cased ones: both still work as they are.
    op.drop_index(INDEX, table_name="admin_accounts")
