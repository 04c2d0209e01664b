"""`python -m tests.core.worker_entry --app wsgi worker ...`: the real `flask` CLI, with a test
reconciler registered the way the sync package registers its own (core.jobs.register_reconciler)."""

from flask.cli import main

from core.jobs import register_reconciler
from tests.core.worker_jobs import record_reconcile

register_reconciler(record_reconcile)

if __name__ == "__main__":
    main()
