"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from console import create_app
from console.extensions import db
from console.models.name_search import outside_the_models


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
