"""Jobs and a reconciler for the worker-outage tests (imported by the worker under test)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import current_app


def slow_marker(path: str, seconds: float) -> int:
    """Runs `seconds`, then writes its worker's pid to `path`: proof the job was not cut."""
    time.sleep(seconds)
    Path(path).write_text(str(os.getppid()))
    return os.getppid()


def whoami() -> dict[str, object]:
    """The worker process running this job (the horse's parent) and the app it runs in."""
    return {"worker_pid": os.getppid(), "app": current_app.name}


def record_reconcile() -> None:
    """A reconciler: appends a line per call to $FLIGHTDECK_TEST_RECONCILE_LOG."""
    with open(os.environ["FLIGHTDECK_TEST_RECONCILE_LOG"], "a") as fh:
        fh.write(f"{time.time()}\n")
