"""What an attempt of the Meta sync does before its pages: the client, the account's name and
currency, its campaigns; and which errors mean the database went away (split from ads/sync.py).
"""

from __future__ import annotations

import logging

from flask import current_app

from ads import meta
from ads.models import AdAccount, SyncRun
from ads.services import account_token, upsert_platform_campaign
from core.money import known_currencies

log = logging.getLogger("ads.sync")


def client_for(account: AdAccount) -> meta.MetaClient:
    cfg = current_app.config
    return meta.MetaClient(
        account_token(account),
        graph_url=cfg["META_GRAPH_URL"],
        api_version=cfg["META_API_VERSION"],
        app_secret=cfg.get("META_APP_SECRET"),
        timeout=cfg["META_TIMEOUT"],
        poll_interval=cfg["META_POLL_INTERVAL"],
    )


def db_outage(exc: BaseException) -> bool:
    """The database connection failed (refused, reset, restarted): worth retrying."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return type(exc).__module__.startswith("psycopg") and type(exc).__name__ in (
        "OperationalError",
        "InterfaceError",
    )


def refresh_account(client: meta.MetaClient, account: AdAccount, run: SyncRun) -> None:
    """The account's name and currency as Meta has them.

    Graph API servers that do not serve the account node (Meta itself always does) still
    give the currency with the insights: asked for there, at account level, in one row.
    Token and rate-limit errors stop the sync as anywhere else.
    """
    try:
        info = client.get_account(account.external_id)
        currency, name = info.currency, info.name
    except (meta.TokenInvalid, meta.RateLimited, meta.TransientError):
        raise
    except meta.MetaError as exc:
        log.warning("account %s: account node unreadable (%s)", account.external_id, exc)
        currency = client.account_currency(account.external_id, run.since, run.until)
        name = ""
        run.requests += 1
    run.requests += 1
    if currency and currency != account.currency:
        if currency not in known_currencies():
            raise meta.MetaError(f"Meta reports the account currency as {currency!r}")
        account.currency = currency
    if not account.currency_known:
        raise meta.MetaError(
            "Meta did not say which currency this account spends in; reconnect it choosing "
            "the account currency"
        )
    if name and account.name in ("", account.external_id):
        account.name = name[:200]


def known_campaigns(client: meta.MetaClient, account: AdAccount, run: SyncRun) -> dict[str, int]:
    """The account's campaigns (names, statuses, objectives) stored for mapping.

    When the listing is refused (other than for the token or a rate limit), the sync goes on:
    every insights row carries its campaign's id and name, stored as they come.
    """
    campaigns: dict[str, int] = {}
    try:
        listed = client.list_campaigns(account.external_id)
    except (meta.TokenInvalid, meta.RateLimited, meta.TransientError):
        raise
    except meta.MetaError as exc:
        log.warning("account %s: campaign list unreadable (%s)", account.external_id, exc)
        listed = []
    run.requests += 1
    for pc in listed:
        campaigns[pc.id] = upsert_platform_campaign(
            account, pc.id, pc.name, pc.status, pc.objective
        ).id
    return campaigns
