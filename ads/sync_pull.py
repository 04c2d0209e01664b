"""One attempt of a Meta sync: its window in chunks, pages parsed ahead, stored, committed.

Split from ads/sync.py (the job, its ledger and its retries). `Puller.all()` raises the
connector's errors (and SlowDown) for the job to handle.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app

from ads import meta
from ads.models import AdAccount, SyncRun
from ads.services import facts_exist, store_facts, upsert_platform_campaign
from ads.sync_runs import done_through, note
from core.extensions import db
from core.jobs import get_queue
from core.types import utcnow

CHUNK_DAYS = 92  # one insights request (async when long) per chunk; progress moves per chunk
MIN_PAGE_SIZE = 25  # "too much data": halve the window, then the page, down to this


class SlowDown(meta.RateLimited):
    """Meta's usage headers passed SLOW_DOWN_PCT: pause before the wall, resume later."""


@dataclass
class _Chunk:
    since: date
    until: date


def chunks_of(since: date, until: date) -> list[_Chunk]:
    out, start = [], since
    while start <= until:
        end = min(until, start + timedelta(days=CHUNK_DAYS - 1))
        out.append(_Chunk(start, end))
        start = end + timedelta(days=1)
    return out


@dataclass
class _Prepared:
    """A page made ready off the main thread: parsed rows, and when every campaign in it is
    known, its fact tuples."""

    rows: list[meta.MinorRow]
    facts: list[tuple] | None = None


def _prepare(
    data: list[dict[str, Any]],
    *,
    decimals: int,
    currency: str,
    campaigns: dict[str, int],
) -> _Prepared:
    rows = [meta.parse_minor_row(row, decimals) for row in data]
    if any(r.campaign_id not in campaigns for r in rows):
        return _Prepared(rows)  # the main thread stores the new campaign first
    return _Prepared(rows, _facts(rows, campaigns, currency))


def _fact_rows(
    account: AdAccount, rows: list[meta.MinorRow], campaigns: dict[str, int]
) -> list[tuple]:
    """`_facts`, storing the platform campaigns not seen before."""
    for r in rows:
        if r.campaign_id not in campaigns:
            pc = upsert_platform_campaign(account, r.campaign_id, r.campaign_name)
            campaigns[r.campaign_id] = pc.id
    return _facts(rows, campaigns, account.currency)


def _facts(rows: list[meta.MinorRow], campaigns: dict[str, int], currency: str) -> list[tuple]:
    """Parsed Meta rows as fact tuples (services.FACT_FIELDS order), money in minor units."""
    return [
        (
            campaigns[r.campaign_id],
            "ad",
            r.ad_id,
            r.date,
            r.attribution_setting,
            currency,
            r.spend_minor,
            r.impressions,
            r.clicks,
            r.reach,
            r.purchases,
            r.leads,
            r.purchases + r.leads,
            r.purchase_value_minor,
            r.adset_id,
            r.ad_name[:400],
        )
        for r in rows
    ]


@contextmanager
def keep_loaded() -> Iterator[None]:
    """Commits that do not expire the session's objects, for the page loop: the job is the
    only writer of its run row, and reloading the run and the account after every page's
    commit cost a SELECT per page."""
    session = db.session()
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True


@dataclass
class Puller:
    """One attempt's pull of one account's insights into its run."""

    client: meta.MetaClient
    account: AdAccount
    run: SyncRun
    campaigns: dict[str, int]  # platform campaign id -> PlatformCampaign.id
    decimals: int  # of the account currency

    def all(self) -> None:
        """Every chunk of the window not finished by an earlier attempt: pulled and committed.

        A finished chunk is written down in the run (`done_through`), so a retry resumes
        after it. Between chunks, a usage header past SLOW_DOWN_PCT pauses the run (SlowDown)
        instead of running into Meta's wall; inline (no queue to come back on) it goes on.
        """
        run = self.run
        chunks = chunks_of(run.since, run.until)
        done = done_through(run)
        queued = get_queue("default") is not None
        page_size = current_app.config["META_PAGE_SIZE"]
        for index, chunk in enumerate(chunks):
            if done is not None and chunk.until <= done:
                continue
            progress = (index, len(chunks))
            usage = self.window(chunk.since, chunk.until, page_size, progress)
            run.progress = min(99, int(100 * (index + 1) / len(chunks)))
            note(run, done_through=chunk.until.isoformat(), failures=0)
            db.session.commit()
            if queued and usage.should_slow_down and index + 1 < len(chunks):
                raise SlowDown(
                    f"usage at {usage.max_pct:g}% of Meta's limit; pausing before it is reached",
                    retry_after=usage.regain_seconds,
                )

    def window(
        self, since: date, until: date, page_size: int, progress: tuple[int, int]
    ) -> meta.Usage:
        """Every page of since..until, stored and committed one by one; the last page's usage.

        When Meta answers "too much data", the window is halved (then the page size) and each
        half pulled in turn; pages already stored are upserted again, unchanged.
        """
        try:
            return self.pages(since, until, page_size, progress)
        except meta.TooMuchData:
            days = (until - since).days + 1
            if days == 1 and page_size <= MIN_PAGE_SIZE:
                raise
            db.session.rollback()
            halves = [(since, until)]
            if days > 1:
                middle = since + timedelta(days=days // 2 - 1)
                halves = [(since, middle), (middle + timedelta(days=1), until)]
            smaller = max(MIN_PAGE_SIZE, page_size // 2)
            usage = meta.Usage()
            for start, end in halves:
                usage = self.window(start, end, smaller, progress)
            return usage

    def pages(
        self, since: date, until: date, page_size: int, progress: tuple[int, int]
    ) -> meta.Usage:
        account, run = self.account, self.run
        # Nothing stored for these days yet (a backfill): pages go in by COPY.
        fresh = not facts_exist(account, since, until)
        prepare = functools.partial(
            _prepare, decimals=self.decimals, currency=account.currency, campaigns=self.campaigns
        )
        usage = meta.Usage()
        index, total = progress
        for page in self.client.iter_insights(
            account.external_id,
            since,
            until,
            level="ad",
            page_size=page_size,
            fields=meta.SYNC_FIELDS,
            prepare=prepare,
        ):
            ready: _Prepared = page.prepared
            facts = ready.facts or _fact_rows(account, ready.rows, self.campaigns)
            counts = store_facts(account, facts, run.id, all_new=fresh)
            run.pages += 1
            run.requests += 1
            run.rows_inserted += counts.inserted
            run.rows_updated += counts.updated
            run.rows_unchanged += counts.unchanged
            run.rows_restated += counts.restated
            run.cursor = page.after_cursor
            run.heartbeat_at = utcnow()
            run.progress = min(99, int(100 * (index + 0.5) / total))
            db.session.commit()
            usage = page.usage
        return usage
