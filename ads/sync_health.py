"""A sync that keeps failing is visible: on the account, to the admins, and retried nightly.

One definition (`failing`) says whether an account's syncs are failing, since when, why and
when the next try is; the account pages show it and the admin notice repeats it. The nightly
schedule keeps every account (but one needing re-authorisation) and backs off an account whose
runs keep failing: the next night after one failed run, then every 2nd, 4th, 8th night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ads.models import AccountStatus, AdAccount, RunStatus, SyncRun
from core.extensions import db
from core.types import utcnow

NIGHTLY_BACKOFF_NIGHTS = (1, 2, 4, 8)  # after 1, 2, 3, 4+ failed runs in a row
SLACK = timedelta(hours=12)  # a night's run is not skipped for finishing a little later


@dataclass(frozen=True)
class Failing:
    since: datetime  # when the first failed run of the streak ended
    reason: str  # the latest failed run's error
    runs: int  # failed runs in a row
    next_try: datetime | None  # the nightly sync that tries again (None: needs reconnecting)

    def __str__(self) -> str:
        text = f"Sync failing since {self.since:%-d %b %Y %H:%M} UTC — {self.reason.rstrip('.')}"
        when = (
            f"next try {self.next_try:%-d %b %Y %H:%M} UTC (nightly sync)"
            if self.next_try
            else "next try after the account is reconnected"
        )
        return f"{text} — {when}."


def _streak(account_id: int) -> list[SyncRun]:
    """The account's finished Meta syncs that failed since its last success, newest first."""
    runs = db.session.scalars(
        select(SyncRun)
        .where(SyncRun.account_id == account_id, SyncRun.kind == "meta_sync")
        .where(SyncRun.status.in_((RunStatus.SUCCEEDED.value, RunStatus.FAILED.value)))
        .order_by(SyncRun.id.desc())
        .limit(50)
    ).all()
    streak = []
    for run in runs:
        if run.status != RunStatus.FAILED:
            break
        streak.append(run)
    return streak


def _earliest(streak: list[SyncRun]) -> datetime:
    nights = NIGHTLY_BACKOFF_NIGHTS[min(len(streak), len(NIGHTLY_BACKOFF_NIGHTS)) - 1]
    last = streak[0].finished_at or streak[0].started_at
    return last + timedelta(days=nights) - SLACK


def failing(account: AdAccount) -> Failing | None:
    streak = _streak(account.id)
    if not streak:
        return None
    first = streak[-1]
    next_try = None
    if account.status != AccountStatus.NEEDS_REAUTH:
        from core.schedule import next_occurrence

        next_try = next_occurrence("nightly-meta-sync", max(_earliest(streak), utcnow()))
    return Failing(
        since=first.finished_at or first.started_at,
        reason=streak[0].error or "no reason recorded",
        runs=len(streak),
        next_try=next_try,
    )


def due_for_nightly(account: AdAccount, now: datetime | None = None) -> bool:
    streak = _streak(account.id)
    return not streak or (now or utcnow()) >= _earliest(streak)


def after_failure(run: SyncRun | None, *, gave_up: bool) -> None:
    """A run just failed: tell the admins when it starts a failing streak or gave up after
    its retries (once per streak and give-up, never per attempt). Commits."""
    if run is None or run.account_id is None:
        return
    account = db.session.get(AdAccount, run.account_id)
    state = failing(account)
    if state is None or not (gave_up or state.runs == 1):
        return
    from budgets.models import Notification
    from core.models import Role, User

    admins = db.session.scalars(
        select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True))
    ).all()
    message = f"Meta sync of {account}: {state}"
    for user_id in admins:
        db.session.add(
            Notification(user_id=user_id, message=message[:300], url=f"/ads/accounts/{account.id}")
        )
    db.session.commit()
