"""`ads sync` in the terminal: the sync runs in this process and waits out what it can.

Transient errors (5xx, codes 1/2, timeouts, a database that went away) come back after a
bounded exponential back-off (SYNC_CLI_RETRY_BASE_SECONDS doubling, at most MAX_ATTEMPTS
failed attempts without a stored page in between); rate limits wait for the time Meta says
the limit lifts. Each wait up to `max_wait` seconds is counted down on the terminal, then the
run resumes after its last stored page; a longer one ends the run (exit 1) saying when to
rerun. A sync already live for the account is joined and followed, not doubled.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ads.models import RunStatus, SyncRun
from ads.sync import begin_sync, sync_account
from ads.sync_beat import beater
from ads.sync_runs import close_run, is_live, started_label
from core.extensions import db
from core.jobs import running_here
from core.types import utcnow

Echo = Callable[..., None]


@dataclass
class Outcome:
    run: SyncRun
    exit_code: int
    message: str


def summary(run: SyncRun) -> str:
    return (
        f"Run {run.id}: {run.status} · {run.rows_inserted} new, {run.rows_updated} updated, "
        f"{run.rows_restated} restated, {run.requests} requests"
        + (f" · {run.error}" if run.error else "")
    )


def sync_here(
    account_id: int,
    since: date | None,
    until: date | None,
    *,
    today_so_far: bool,
    max_wait: int,
    echo: Echo,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Run (or join) the account's sync here; wait out retries up to `max_wait` each."""
    with running_here():
        run, joined = begin_sync(account_id, since, until, today_so_far=today_so_far, origin="cli")
    if joined:
        echo(f"Joined run {run.id} ({started_label(run)}), {run.status} at {run.progress}%.")
        return _follow(run, echo, sleep)
    if run.details and run.details.get("window_note"):
        echo(run.details["window_note"])
    while True:
        db.session.expire_all()
        run = db.session.get(SyncRun, run.id)
        if run.is_final:
            return _final(run)
        if run.status != RunStatus.RETRYING:  # another process took it over (a worker)
            echo(f"Run {run.id} is being worked on elsewhere now; following it.")
            return _follow(run, echo, sleep)
        wait = max(0.0, (run.next_retry_at - utcnow()).total_seconds())
        if wait > max_wait:
            at = run.next_retry_at
            day = "" if at.date() == utcnow().date() else f" on {at:%-d %b}"
            reason = run.error.split(". Retrying")[0].split(". Resuming")[0].rstrip(".")
            text = (
                f"{reason}. Not waiting {wait:.0f} s (more than --max-wait {max_wait} s): "
                f"rerun after {at:%H:%M} UTC{day}"
                " and it resumes where this run stopped."
            )
            close_run(run.id, text)
            db.session.refresh(run)
            return Outcome(run, 1, summary(run))
        echo(run.error)
        _countdown(run.id, wait, echo, sleep)
        with running_here():
            sync_account(run.account_id, run_id=run.id)


def _countdown(run_id: int, seconds: float, echo: Echo, sleep: Callable[[float], None]) -> None:
    """Wait, saying how long is left; the run keeps beating (it is ours, waiting)."""
    beat = beater()
    beat.hold(run_id)
    tty = sys.stdout.isatty()
    try:
        end = time.monotonic() + seconds
        last_said = None
        while (left := end - time.monotonic()) > 0:
            shown = int(left + 0.999)
            if tty:
                echo(f"\r  resuming in {shown:>4} s ", nl=False)
            elif last_said is None or last_said - shown >= 10:
                echo(f"  resuming in {shown} s")
                last_said = shown
            sleep(min(1.0, left))
        if tty:
            echo("\r  resuming now" + " " * 12)
    finally:
        beat.release(run_id)


def _follow(run: SyncRun, echo: Echo, sleep: Callable[[float], None]) -> Outcome:
    """Follow a run another process works on until it ends (or stops beating)."""
    said = -1
    while True:
        db.session.expire_all()
        run = db.session.get(SyncRun, run.id)
        if run.is_final:
            return _final(run)
        if not is_live(run):
            text = (
                f"Run {run.id} stopped beating (its process died); run `ads sync` again "
                "and it resumes where it stopped."
            )
            return Outcome(run, 1, text)
        if run.progress // 10 != said // 10:
            echo(f"  run {run.id}: {run.status}, {run.progress}%")
            said = run.progress
        sleep(1.0)


def _final(run: SyncRun) -> Outcome:
    return Outcome(run, 0 if run.status == RunStatus.SUCCEEDED else 1, summary(run))
