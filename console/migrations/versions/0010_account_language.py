"""account language: the console language a person chose, applied at their every sign-in

Revision ID: 0010
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("admin_accounts", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    # ALTER TABLE ... DROP COLUMN on SQLite too (3.35 and later): batch mode would copy and drop the table, and
    # dropping it deletes every console session through their ON DELETE CASCADE (see 0005).
    op.drop_column("admin_accounts", "language")
