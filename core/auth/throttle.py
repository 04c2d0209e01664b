"""Sign-in throttling that slows guessing without letting anyone lock the company out.

Failures are counted per *account + address* pair. A pair's first few failures cost nothing;
after that each failure doubles the wait before that pair may try again (5 s, 10 s, 20 s… up
to 15 minutes). A wait only ever follows failures on *that account from that address*: other
people's failures from the same address (a whole office behind one NAT or a proxy without
ProxyFix) never delay a pair that has not failed, so a right password from a clean pair always
passes, and a throttled pair passes as soon as its own wait has elapsed.

The ceilings are much higher and bound what one address (spraying many accounts) or one
account (tried from many addresses) may cost: past a ceiling, a pair's *first* failure already
costs the longest wait. They never refuse a pair that has not failed.

Attempts refused during a wait are not counted, so nobody can stretch a wait by hammering it.
Every new wait is logged with its reason. Rows live in `login_attempts` (keys `pair:<hash>`,
`ip:<address>`, `email:<address>`), so every web process shares them.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import LoginAttempt
from core.types import utcnow

log = logging.getLogger("flightdeck.auth")


@dataclass(frozen=True)
class Throttle:
    """A pair that must wait before its next attempt."""

    seconds_left: int

    @property
    def message(self) -> str:
        if self.seconds_left < 90:
            amount, unit = self.seconds_left, "second"
        else:
            amount, unit = math.ceil(self.seconds_left / 60), "minute"
        return (
            "Too many failed sign-in attempts for this account from your address. "
            f"Wait {amount} {unit}{'s' if amount != 1 else ''} and try again."
        )


def _normalise(email: str) -> str:
    return (email or "").strip().lower()


def _address_key(ip: str) -> str:
    # Behind ProxyFix the address comes from a header: keep the key within its column.
    return f"ip:{ip[:120]}"


def _pair_key(email: str, ip: str) -> str:
    # Hashed: an address plus a 254-character email would not fit the key column.
    digest = hashlib.sha256(f"{ip}|{_normalise(email)}".encode()).hexdigest()
    return f"pair:{digest[:48]}"


def _window_start(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])


def _count(key: str, since: datetime) -> tuple[int, datetime | None]:
    count, newest = db.session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.key == key, LoginAttempt.attempted_at > since
        )
    ).one()
    return int(count), newest


def _ceiling_reason(email: str, ip: str, since: datetime) -> str | None:
    """Why the pair has no free failures left, or None when no ceiling is reached."""
    cfg = current_app.config
    from_address, _ = _count(_address_key(ip), since)
    if from_address >= cfg["LOGIN_ADDRESS_CEILING"]:
        return f"address ceiling reached ({from_address} failures from {ip!r} within the window)"
    on_account, _ = _count(f"email:{_normalise(email)[:254]}", since)
    if on_account >= cfg["LOGIN_ACCOUNT_CEILING"]:
        return f"account ceiling reached ({on_account} failures on the account within the window)"
    return None


def delay_after(failures: int, ceiling_reached: bool) -> int:
    """Seconds a pair waits after its `failures`-th failure within the window."""
    cfg = current_app.config
    if failures <= 0:
        return 0
    if ceiling_reached:
        return cfg["LOGIN_MAX_DELAY_SECONDS"]
    over = failures - cfg["LOGIN_FREE_FAILURES"]
    if over < 0:
        return 0
    # Capped exponent: 2**over for a pair with thousands of failures is a huge number.
    return min(
        cfg["LOGIN_FIRST_DELAY_SECONDS"] * 2 ** min(over, 32), cfg["LOGIN_MAX_DELAY_SECONDS"]
    )


def _wait(email: str, ip: str, now: datetime) -> tuple[int, int, str | None]:
    """(seconds left, pair failures, ceiling reason) for the pair at `now`."""
    since = _window_start(now)
    failures, newest = _count(_pair_key(email, ip), since)
    if not failures or newest is None:
        return 0, 0, None
    reason = _ceiling_reason(email, ip, since)
    delay = delay_after(failures, reason is not None)
    left = (newest + timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(left)), failures, reason


def check(email: str, ip: str) -> Throttle | None:
    """The wait in force for this pair, or None when it may try now."""
    left, _, _ = _wait(email, ip, utcnow())
    return Throttle(left) if left > 0 else None


def record_failure(email: str, ip: str) -> Throttle | None:
    """Count a failed attempt; return (and log) the wait it starts, if any."""
    now = utcnow()
    for key in (_pair_key(email, ip), _address_key(ip), f"email:{_normalise(email)[:254]}"):
        db.session.add(LoginAttempt(key=key, attempted_at=now))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < _window_start(now)))
    db.session.flush()
    left, failures, reason = _wait(email, ip, now)
    if not left:
        return None
    log.warning(
        "sign-in throttled: account %r from %r waits %d s (%d failures of this pair within "
        "the window; %s)",
        _normalise(email)[:254],
        ip,
        left,
        failures,
        reason or "growing delay per account and address",
    )
    return Throttle(left)


def forget_pair(email: str, ip: str) -> None:
    """A successful sign-in clears its own pair; the ceilings keep counting other failures."""
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == _pair_key(email, ip)))
