"""Which days a Meta sync may ask for, in the account's own time zone.

Meta reports days in the ad account's time zone and keeps insights for 37 months. A day is
complete once it is over there: a sync ends yesterday (today only when asked for "today so
far"), never starts before the retention limit, and a window wholly in the future or the
distant past is refused with the reason instead of "succeeding" with nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ads.models import AdAccount

ATTRIBUTION_WINDOW_DAYS = 28
RETENTION_MONTHS = 37


class WindowRefused(ValueError):
    """The dates asked for cannot be synced (the message says why)."""


@dataclass(frozen=True)
class Window:
    since: date
    until: date
    today_so_far: bool = False
    note: str = ""  # what was adjusted (until clamped to yesterday), for the user


def account_zone(account: AdAccount) -> ZoneInfo:
    try:
        return ZoneInfo(account.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def account_today(account: AdAccount, now: datetime | None = None) -> date:
    """Today's date where the account's days are counted."""
    return (now or datetime.now(UTC)).astimezone(account_zone(account)).date()


def retention_floor(today: date) -> date:
    """The first day Meta still has: 37 months back (the day clipped to the month's end)."""
    months = today.year * 12 + today.month - 1 - RETENTION_MONTHS
    year, month = divmod(months, 12)
    month += 1
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def restate_from(today: date) -> date:
    """The first day Meta may still restate (attribution catches up for 28 days)."""
    return today - timedelta(days=ATTRIBUTION_WINDOW_DAYS)


def default_window(account: AdAccount, today: date | None = None) -> tuple[date, date]:
    """First sync backfills; later ones re-pull the attribution window up to yesterday."""
    today = today or account_today(account)
    until = today - timedelta(days=1)
    if account.synced_through is None:
        since = until - timedelta(days=max(1, account.backfill_days) - 1)
    else:
        since = min(account.synced_through + timedelta(days=1), until) - timedelta(
            days=ATTRIBUTION_WINDOW_DAYS - 1
        )
    return max(since, retention_floor(today)), until


def resolve_window(
    account: AdAccount,
    since: date | None,
    until: date | None,
    *,
    today_so_far: bool = False,
    today: date | None = None,
) -> Window:
    """The window to sync for the dates asked (None: the default). Raises WindowRefused."""
    today = today or account_today(account)
    zone = account_zone(account).key
    yesterday = today - timedelta(days=1)
    last = today if today_so_far else yesterday
    default_since, default_until = default_window(account, today)
    since = since or default_since
    until = until or (today if today_so_far else default_until)
    if since > last:
        raise WindowRefused(
            f"{since:%-d %b %Y} has not ended yet in the account's time zone ({zone}): the last "
            f"complete day is {yesterday:%-d %b %Y}"
            + ("" if today_so_far else ", or tick “today so far” for today")
            + "."
        )
    if since > until:
        raise WindowRefused("The start date must be on or before the end date.")
    floor = retention_floor(today)
    if since < floor:
        raise WindowRefused(
            f"Meta keeps insights for {RETENTION_MONTHS} months: the earliest day to sync is "
            f"{floor:%-d %b %Y}, not {since:%-d %b %Y}."
        )
    note = ""
    if until > last:
        note = (
            f"The window ends {last:%-d %b %Y}, "
            + ("today so far" if today_so_far else "yesterday in the account's time zone")
            + f" ({zone}), not {until:%-d %b %Y}: later days have no data yet."
        )
        until = last
    return Window(since, until, today_so_far and until == today, note)


def synced_through_after(account: AdAccount, until: date, today: date | None = None) -> date:
    """What "synced through" becomes after a successful sync up to `until`: never today or
    later (today so far is not a complete day)."""
    yesterday = (today or account_today(account)) - timedelta(days=1)
    end = min(until, yesterday)
    current = account.synced_through
    if current is not None and current > yesterday:
        current = yesterday  # a value from before the clamp, in the future
    return max(current or end, end)
