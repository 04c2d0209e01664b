"""Ad accounts, campaign mapping and the idempotent fact upsert shared by sync and imports."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, insert, select, update

from ads.errors import AdsError
from ads.mapping import (  # noqa: F401 - the mapping API, also reached through this module
    SYSTEM,
    MapRights,
    auto_campaign_for,
    change_mapping,
    map_manually,
    remap_all,
    upsert_platform_campaign,
)
from ads.models import (
    UNKNOWN_CURRENCY,
    AccountStatus,
    AdAccount,
    Platform,
    Restatement,
    SpendFact,
)
from core.crypto import decrypt, encrypt
from core.extensions import db
from core.money import Money, check_currency
from core.types import utcnow

ACCOUNT_ID_RE = re.compile(r"^act_\d{1,20}$")
TRACKED = ("spend_minor", "conversions", "conversion_value_minor")
VALUE_FIELDS = (
    "spend_minor",
    "impressions",
    "clicks",
    "reach",
    "purchases",
    "leads",
    "conversions",
    "conversion_value_minor",
)


# --- accounts ---------------------------------------------------------------------------------


def normalise_account_id(raw: str) -> str:
    value = (raw or "").strip()
    if value.isdigit():
        value = f"act_{value}"
    if not ACCOUNT_ID_RE.match(value):
        raise AdsError("A Meta ad account id looks like act_1234567890.", "account_id")
    return value


def connect_meta_account(
    account_id: str,
    token: str,
    *,
    name: str = "",
    currency: str = "",
    timezone: str = "UTC",
    user_id: int | None = None,
) -> AdAccount:
    """Create or re-authorise a Meta account; the token is stored encrypted only."""
    external_id = normalise_account_id(account_id)
    token = (token or "").strip()
    if len(token) < 8 or any(c.isspace() for c in token):
        raise AdsError("Paste the whole access token (no spaces).", "token")
    account = db.session.scalar(
        select(AdAccount).where(
            AdAccount.platform == Platform.META_ADS.value, AdAccount.external_id == external_id
        )
    )
    if account is None:
        account = AdAccount(
            platform=Platform.META_ADS.value,
            external_id=external_id,
            created_by_id=user_id,
            currency=check_currency(currency) if currency else UNKNOWN_CURRENCY,
        )
        db.session.add(account)
    elif currency:
        account.currency = check_currency(currency)
    account.name = (name or account.name or external_id).strip()[:200]
    account.timezone = timezone or account.timezone or "UTC"
    account.token_encrypted = encrypt(token)
    account.status = AccountStatus.ACTIVE.value
    account.status_reason = ""
    db.session.flush()
    return account


def account_token(account: AdAccount) -> str:
    if not account.token_encrypted:
        raise AdsError("This account has no access token: reconnect it.")
    return decrypt(account.token_encrypted)


def csv_account(platform: str, external_id: str, currency: str, name: str = "") -> AdAccount:
    """The account a CSV export belongs to (created on first import)."""
    account = db.session.scalar(
        select(AdAccount).where(
            AdAccount.platform == platform, AdAccount.external_id == external_id
        )
    )
    if account is None:
        account = AdAccount(
            platform=platform,
            external_id=external_id,
            name=name or external_id,
            currency=check_currency(currency),
        )
        db.session.add(account)
        db.session.flush()
    return account


def mark_needs_reauth(account: AdAccount, reason: str) -> None:
    account.status = AccountStatus.NEEDS_REAUTH.value
    account.status_reason = reason


def mark_error(account: AdAccount, reason: str) -> None:
    account.status = AccountStatus.ERROR.value
    account.status_reason = reason


# --- facts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactRow:
    """One daily row ready to store: money already in integer minor units."""

    platform_campaign_id: int
    level: str
    object_id: str
    day: date
    attribution_setting: str
    currency: str
    spend_minor: int
    impressions: int = 0
    clicks: int = 0
    reach: int = 0
    purchases: int = 0
    leads: int = 0
    conversions: int = 0
    conversion_value_minor: int = 0
    adset_id: str = ""
    object_name: str = ""

    KEY = ("level", "object_id", "day", "attribution_setting")  # with the account: unique

    def key(self) -> tuple[str, str, date, str]:
        return (self.level, self.object_id, self.day, self.attribution_setting)


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    restated: int = 0
    restatements: list[dict] = field(default_factory=list)

    def add(self, other: UpsertCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.restated += other.restated


def minor(amount: Decimal, currency: str) -> int:
    """Platform amounts in major units → minor units, rounded half-even once, here."""
    return Money.of(amount, currency, strict=False).minor


def upsert_facts(account: AdAccount, rows: Sequence[FactRow], run_id: int | None) -> UpsertCounts:
    """Insert new facts, update changed ones, leave equal ones alone; record restatements.

    Keyed by (account, level, object, day, attribution setting), so running the same pull twice
    changes nothing. Does not commit: the caller commits once per page.
    """
    counts = UpsertCounts()
    if not rows:
        return counts
    # The last row for a key wins within one batch (a platform may repeat a row).
    by_key = {row.key(): row for row in rows}
    days = [k[2] for k in by_key]
    objects = sorted({k[1] for k in by_key})
    levels = sorted({k[0] for k in by_key})
    existing: dict[tuple, SpendFact] = {}
    for chunk_start in range(0, len(objects), 500):
        chunk = objects[chunk_start : chunk_start + 500]
        stmt = select(SpendFact).where(
            and_(
                # The full natural key lets PostgreSQL use the unique index, not a day scan.
                SpendFact.account_id == account.id,
                SpendFact.level.in_(levels),
                SpendFact.object_id.in_(chunk),
                SpendFact.day >= min(days),
                SpendFact.day <= max(days),
            )
        )
        for fact in db.session.scalars(stmt):
            existing[(fact.level, fact.object_id, fact.day, fact.attribution_setting)] = fact
    now = utcnow()
    inserts: list[dict] = []
    updates: list[dict] = []
    for key, row in by_key.items():
        values = {name: getattr(row, name) for name in VALUE_FIELDS}
        fact = existing.get(key)
        if fact is None:
            inserts.append(
                {
                    **values,
                    "account_id": account.id,
                    "platform_campaign_id": row.platform_campaign_id,
                    "level": row.level,
                    "object_id": row.object_id,
                    "adset_id": row.adset_id,
                    "object_name": row.object_name[:400],
                    "day": row.day,
                    "attribution_setting": row.attribution_setting,
                    "currency": row.currency,
                    "updated_at": now,
                    "sync_run_id": run_id,
                }
            )
            continue
        changed = {n: v for n, v in values.items() if getattr(fact, n) != v}
        if fact.platform_campaign_id != row.platform_campaign_id:
            changed["platform_campaign_id"] = row.platform_campaign_id
        if not changed:
            counts.unchanged += 1
            continue
        counts.updated += 1
        restated = [n for n in TRACKED if n in changed]
        if restated:
            counts.restated += 1
            for name in restated:
                counts.restatements.append(
                    {
                        "account_id": account.id,
                        "platform_campaign_id": row.platform_campaign_id,
                        "object_id": row.object_id,
                        "day": row.day,
                        "field": name,
                        "currency": row.currency,
                        "old_value": int(getattr(fact, name)),
                        "new_value": int(changed[name]),
                        "detected_at": now,
                        "sync_run_id": run_id,
                    }
                )
        updates.append({"id": fact.id, **changed, "updated_at": now, "sync_run_id": run_id})
    if inserts:
        # Core insert: no ORM bookkeeping for rows nobody loads back.
        db.session.execute(insert(SpendFact.__table__), inserts)
        counts.inserted = len(inserts)
    # One bulk UPDATE by primary key per set of changed columns (executemany underneath).
    by_columns: dict[tuple[str, ...], list[dict]] = {}
    for values in updates:
        by_columns.setdefault(tuple(sorted(values)), []).append(values)
    for batch in by_columns.values():
        db.session.execute(update(SpendFact), batch)
    if counts.restatements:
        db.session.execute(insert(Restatement), counts.restatements)
    # Facts loaded above are stale now; drop them so later reads see the database.
    for fact in existing.values():
        db.session.expire(fact)
    return counts


# Column order of the rows `store_facts` takes: FactRow's fields, so FactRow(*row) is the row.
FACT_FIELDS = tuple(f.name for f in fields(FactRow))
_COPY_SQL = (
    f"COPY spend_facts ({', '.join(FACT_FIELDS)}, account_id, updated_at, sync_run_id)"
    " FROM STDIN (FORMAT BINARY)"
)
_COPY_TYPES = [
    {"platform_campaign_id": "int4", "day": "date"}.get(name)
    or ("int8" if FactRow.__dataclass_fields__[name].type == "int" else "text")
    for name in FACT_FIELDS
] + ["int4", "timestamptz", "int4"]


def store_facts(
    account: AdAccount,
    rows: Sequence[tuple],
    run_id: int | None,
    *,
    all_new: bool = False,
) -> UpsertCounts:
    """`upsert_facts` for rows given as tuples in FACT_FIELDS order (the sync's pages).

    `all_new`: the caller knows none of these keys is stored (a window `facts_exist` found
    empty, pulled by the account's only sync). On PostgreSQL such a page is loaded with one
    COPY inside the caller's transaction: nothing to compare, nothing to restate. Should a key
    be there after all, or repeat within the page (the COPY fails on the unique key, and is
    rolled back to a savepoint), the page takes `upsert_facts` like any other (stored keys,
    SQLite). Does not commit.
    """
    if not rows:
        return UpsertCounts()
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if all_new and postgres and _copy_facts(account, rows, run_id):
        return UpsertCounts(inserted=len(rows))
    return upsert_facts(account, [FactRow(*row) for row in rows], run_id)


def facts_exist(account: AdAccount, since: date, until: date) -> bool:
    """Does the account have any fact dated since..until (an index range scan)?"""
    found = db.session.scalar(
        select(SpendFact.id)
        .where(SpendFact.account_id == account.id, SpendFact.day.between(since, until))
        .limit(1)
    )
    return found is not None


def _copy_facts(account: AdAccount, rows: Sequence[tuple], run_id: int | None) -> bool:
    """Binary COPY (psycopg packs rows in C) inside the caller's transaction, behind a
    savepoint; False, with nothing written, if a key was stored after all.

    The savepoint is the driver's, in the same round trip as turning off the wait for the WAL
    flush for this transaction (the page and the run's ledger commit together, and a pull can
    always be repeated: only the last moment's pages are at risk, never half a page). COMMIT
    releases it: no round trip of its own.
    """
    from psycopg.errors import UniqueViolation

    tail = (account.id, utcnow(), run_id)
    raw = db.session.connection().connection.driver_connection  # psycopg, in our transaction
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF; SAVEPOINT fd_copy_page")
        try:
            with cursor.copy(_COPY_SQL) as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row + tail)
        except UniqueViolation:  # stored after all (another writer): compare instead
            cursor.execute("ROLLBACK TO SAVEPOINT fd_copy_page")
            return False
    return True


def accounts_for_nightly() -> Iterable[AdAccount]:
    return db.session.scalars(
        select(AdAccount).where(
            AdAccount.platform == Platform.META_ADS.value,
            AdAccount.status != AccountStatus.NEEDS_REAUTH.value,
            AdAccount.token_encrypted.is_not(None),
        )
    )
