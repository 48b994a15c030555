"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import sys

from console import create_app
from console.config import ConfigError
from console.security.keyring import KeyRingError

try:
    app = create_app()
except (ConfigError, KeyRingError) as exc:
    sys.exit(f"error: {exc}")
