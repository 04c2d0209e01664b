"""Entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""

import sys

from config import ConfigError
from core.app import create_app

try:
    app = create_app()
except ConfigError as exc:
    # A misconfiguration is one line for the operator (CLI, gunicorn, systemd), not a traceback.
    print(f"Error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
