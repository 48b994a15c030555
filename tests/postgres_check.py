"""Exit 0 when the PostgreSQL of TEST_DATABASE_URL answers; otherwise print why not and exit 1."""

import os
import sys

from sqlalchemy import create_engine, text

url = os.environ.get("TEST_DATABASE_URL", "")
try:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
except Exception as exc:  # any failure means: no PostgreSQL pass, and say why
    print(f"PostgreSQL pass skipped: {url} does not answer ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
    sys.exit(1)
