"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from console import create_app
from console.extensions import db
from console.models.name_search import outside_the_models


# Alembic cannot compare an index on an expression (lower(username)); tests/test_migration_0009.py checks that one.
@pytest.mark.filterwarnings("ignore:.*expression-based index ux_admin_accounts_username_lower")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(environ):
    app = create_app({"TESTING": True}, environ=environ)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection, opts={"include_name": outside_the_models}), db.metadata
            )
        assert differences == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
