"""Actual spend: the one definition behind every screen, export and goal that shows it.

**Actual spend of campaign C on channel X over window W** (W = since..until, both days
included, either end may be open) is made of:

- *ad spend*: every spend fact (synced by a connector or imported from a platform's CSV
  export: both land in ``spend_facts``) whose platform campaign is mapped to C
  (``PlatformCampaign.campaign_id``) and whose ad account's platform is X, dated in W, in the
  account's currency. ``facts_frame`` is the one query that reads them;
- *influencer costs* (X = ``influencers``, where a surface counts them): the milestones of
  ``influencers.api.influencer_costs`` dated in W (paid on its payment day, else due day, else
  contract start); paid = ``actual``, pending or payable = ``committed``.

Every row says whether it is **in the flight**: an ad day inside C's flight (start..end).
Ad spend outside the flight (an evergreen platform campaign mapped to C, a CSV dated before
the launch) is its own figure, "outside the flight", never silently counted in or out.
Influencer costs are contractual: a deposit before the launch or the last payment after it
belongs to the partnership's campaign, so they are always in the flight.

**One currency** (``convert``): rows are summed to the grain campaign × channel × day ×
currency, then each row is converted at finance's FX rate of its day (or the nearest earlier
one, ``budgets.fx``), rounded half-even once; sums are sums of converted rows, so two screens
converting the same rows agree to the cent. No rate = <NA>, never a guess: a sum that holds
one is "missing rate".

**Windows per surface** (every one reads the rows above):

- budget line (budget page, finance dashboard, pacing, budget export): W = the budget period;
  *actual* = the in-flight part (flight ∩ period), counted up to today; the period's ad spend
  outside the flight is shown beside it as "outside the flight" and stays out of variance
  and pacing;
- performance page: W = the chosen dates (default: the flight up to today); the tiles count
  every fact in W and the part outside the flight is called out;
- ``export performance``: W = --since..--until, per platform campaign, with the spend outside
  its campaign's flight in a column of its own;
- goal progress: W = flight start .. the goal's deadline (``analytics.services``);
- influencer ROI: W = all time, influencer costs only (actual + committed = the cost).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import and_, func, select

from ads.models import AdAccount, PlatformCampaign, SpendFact
from campaigns.models import Campaign
from core.extensions import db
from core.money import Money

# spend_facts columns summed, by the name they take in a facts frame.
SUMMED = {
    "spend_minor": "spend_minor",
    "impressions": "impressions",
    "clicks": "clicks",
    "reach": "reach",
    "conversions": "conversions",
    "revenue_minor": "conversion_value_minor",
}
FACT_KEYS = ["day", "campaign_id", "platform_campaign_id", "channel", "account_id", "currency"]
GRAIN = ["campaign_id", "channel", "day", "currency"]
SPEND_COLUMNS = [*GRAIN, "amount_minor", "kind", "source", "in_flight"]
INFLUENCER_KIND = {"paid": "actual", "committed": "committed", "payable": "committed"}


def _in_flight():
    # A plain boolean (no bound literals, which PostgreSQL would not match in GROUP BY);
    # NULL for an unmapped platform campaign, read as False.
    return and_(SpendFact.day >= Campaign.start_date, SpendFact.day <= Campaign.end_date)


def facts_frame(
    *,
    campaign_ids: Iterable[int] | None = None,
    since: date | None = None,
    until: date | None = None,
    by_day: bool = True,
    flight: bool = False,
    metrics: bool = True,
) -> pd.DataFrame:
    """Ad facts per platform campaign (× day), with their campaign and channel.

    Columns: [day], campaign_id (None when unmapped), platform_campaign_id, channel (the ad
    account's platform), account_id, currency, [in_flight], then the integer sums
    (spend_minor, and with `metrics` impressions, clicks, reach, conversions, revenue_minor).

    Ad-level rows are summed to the platform-campaign × day grain (or the whole window when
    `by_day` is false) in SQL, where integer sums are exact, before the join to the mapping
    and the account: that join then touches one row per group, not one per fact. `flight`
    also splits each group by whether its days are inside the mapped campaign's flight
    (False for an unmapped platform campaign, which has none).
    """
    names = list(SUMMED) if metrics else ["spend_minor"]
    keys = [
        *((SpendFact.day,) if by_day else ()),
        SpendFact.platform_campaign_id,
        SpendFact.account_id,
        SpendFact.currency,
    ]
    extra = [_in_flight().label("in_flight")] if flight else []
    inner = select(
        *keys, *extra, *(func.sum(getattr(SpendFact, SUMMED[n])).label(n) for n in names)
    )
    if flight:
        inner = inner.join(
            PlatformCampaign, PlatformCampaign.id == SpendFact.platform_campaign_id
        ).outerjoin(Campaign, Campaign.id == PlatformCampaign.campaign_id)
        inner = inner.group_by(*keys, _in_flight())
    else:
        inner = inner.group_by(*keys)
    if campaign_ids is not None:
        ids = sorted(set(campaign_ids))
        if flight:
            inner = inner.where(PlatformCampaign.campaign_id.in_(ids))
        else:
            mapped = select(PlatformCampaign.id).where(PlatformCampaign.campaign_id.in_(ids))
            inner = inner.where(SpendFact.platform_campaign_id.in_(mapped))
    if since:
        inner = inner.where(SpendFact.day >= since)
    if until:
        inner = inner.where(SpendFact.day <= until)
    sums = inner.subquery()
    stmt = (
        select(
            *((sums.c.day,) if by_day else ()),
            PlatformCampaign.campaign_id,
            sums.c.platform_campaign_id,
            AdAccount.platform,
            sums.c.account_id,
            sums.c.currency,
            *((sums.c.in_flight,) if flight else ()),
            *(sums.c[name] for name in names),
        )
        .join_from(sums, PlatformCampaign, PlatformCampaign.id == sums.c.platform_campaign_id)
        .join(AdAccount, AdAccount.id == sums.c.account_id)
    )
    columns = [
        *(FACT_KEYS if by_day else FACT_KEYS[1:]),
        *(["in_flight"] if flight else []),
        *names,
    ]
    # Plain tuples: pandas probes Row objects attribute by attribute, which is slow.
    rows = [tuple(row) for row in db.session.execute(stmt)]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in names:
        frame[column] = frame[column].fillna(0).astype("int64")
    if flight:
        frame["in_flight"] = pd.Series(
            [bool(v) for v in frame["in_flight"]], index=frame.index, dtype=bool
        )
    return frame


def empty_spend() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in SPEND_COLUMNS})
    return frame.astype({"amount_minor": "int64", "in_flight": bool})


def ad_spend(facts: pd.DataFrame) -> pd.DataFrame:
    """Facts (by day, with in_flight) summed to the grain: campaign × channel × day × currency."""
    mapped = facts[facts["campaign_id"].notna()]
    if mapped.empty:
        return empty_spend()
    out = (
        mapped.groupby([*GRAIN, "in_flight"], sort=False)["spend_minor"]
        .sum()
        .reset_index()
        .rename(columns={"spend_minor": "amount_minor"})
    )
    out["campaign_id"] = out["campaign_id"].astype("int64")
    out["kind"], out["source"] = "actual", "ads"
    return out[SPEND_COLUMNS]


def influencer_spend(
    campaign_ids: Iterable[int] | None, since: date | None = None, until: date | None = None
) -> pd.DataFrame:
    """Influencer costs dated in the window: the spend rows plus partnership_id."""
    from influencers import api  # lazy: the packages never import each other at load

    wanted = None if campaign_ids is None else set(campaign_ids)
    rows = []
    for cost in api.influencer_costs(None if wanted is None else sorted(wanted)):
        kind = INFLUENCER_KIND.get(cost.state)
        if kind is None or (wanted is not None and cost.campaign_id not in wanted):
            continue
        if (since and cost.day < since) or (until and cost.day > until):
            continue
        rows.append(
            (
                cost.campaign_id,
                "influencers",
                cost.day,
                cost.currency,
                int(cost.amount_minor),
                kind,
                "influencers",
                True,
                cost.partnership_id,
            )
        )
    frame = pd.DataFrame.from_records(rows, columns=[*SPEND_COLUMNS, "partnership_id"])
    return frame.astype({"amount_minor": "int64", "in_flight": bool})


def campaign_spend(
    campaign_ids: Iterable[int],
    since: date | None = None,
    until: date | None = None,
    *,
    influencers: bool = True,
) -> pd.DataFrame:
    """Actual spend of campaigns C on channels X over the window W = since..until (both days
    included; None leaves that end open): THE definition every surface reads.

    Rows (SPEND_COLUMNS), one per campaign × channel × day × currency × kind × source:
    - ad spend (source "ads", kind "actual"): spend facts — synced or CSV-imported — of the
      platform campaigns mapped to C, channel = their ad account's platform, day in W, in the
      account's currency;
    - with `influencers`, influencer costs (channel "influencers", source "influencers"):
      paid milestones are "actual", pending or payable ones "committed", dated in W;
    - in_flight: the day lies in C's flight (start..end). Ad spend outside it is a figure of
      its own on every surface; influencer costs are contractual and always in the flight.

    Each surface picks W (module docstring): the budget period for a budget line, whose
    *actual* is then the in-flight rows (flight ∩ period) and whose "outside the flight" the
    others; the chosen dates for the performance page; flight start..deadline for a goal.
    Amounts stay in their currency: `convert` them row by row (never a sum) into one.
    """
    ids = sorted(set(campaign_ids))
    if not ids:
        return empty_spend()
    facts = facts_frame(
        campaign_ids=ids, since=since, until=until, by_day=True, flight=True, metrics=False
    )
    parts = [ad_spend(facts)]
    if influencers:
        parts.append(influencer_spend(ids, since, until).drop(columns=["partnership_id"]))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return empty_spend()
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def convert(
    frame: pd.DataFrame, target: str | Mapping[int, str], column: str = "amount_minor"
) -> pd.DataFrame:
    """`frame` (at the grain, or any rows with day and currency) plus converted_minor (nullable
    Int64, <NA> = no rate), fx_rate, fx_rate_day and fx_missing, into `target`: one currency,
    or one per campaign_id (a row of a campaign not in the mapping is left unconverted)."""
    from budgets import fx  # lazy: budgets imports this module

    if isinstance(target, str):
        targets = pd.Series(target, index=frame.index, dtype="object")
    else:
        targets = frame["campaign_id"].map(dict(target))
    work = frame.rename(columns={column: "amount_minor"}) if column != "amount_minor" else frame
    if work.empty:
        return _unconverted(work)
    # unique() first: a set() over the column walks every row in Python.
    wanted = sorted(str(c) for c in targets.dropna().unique())
    currencies = {str(c) for c in work["currency"].unique()} | set(wanted)
    rates = fx.rates_frame(currencies, work["day"].max())
    parts = [
        fx.convert_frame(work.loc[targets == currency], rates, currency) for currency in wanted
    ]
    unmapped = work.loc[targets.isna()]
    if not unmapped.empty:
        parts.append(_unconverted(unmapped))
    out = pd.concat(parts).sort_index() if len(parts) > 1 else parts[0]
    if column != "amount_minor":
        out = out.rename(columns={"amount_minor": column})
    return out


def _unconverted(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["converted_minor"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out["fx_rate"] = pd.Series(None, index=out.index, dtype="object")
    out["fx_rate_day"] = pd.Series(None, index=out.index, dtype="object")
    out["fx_missing"] = pd.Series(True, index=out.index, dtype=bool)
    return out


def known_sum(values: pd.Series) -> int | None:
    """Sum of converted amounts; None when any of them has no rate."""
    if values.isna().any():
        return None
    return int(values.astype("int64").sum()) if len(values) else 0


@dataclass(frozen=True)
class Split:
    """Converted spend of one group: all of it, inside and outside the flight (minor units of
    the target currency; None = a row without a rate, so no number)."""

    total: int | None
    inside: int | None
    outside: int | None


def split(converted: pd.DataFrame, by: str | None = None) -> dict[object, Split]:
    """`convert`ed spend rows summed per `by` (or all of them, under the key None)."""
    groups = converted.groupby(by, sort=True) if by else [(None, converted)]
    out = {}
    for key, part in groups:
        flight = part["in_flight"].astype(bool)
        out[key] = Split(
            known_sum(part["converted_minor"]),
            known_sum(part.loc[flight, "converted_minor"]),
            known_sum(part.loc[~flight, "converted_minor"]),
        )
    return out


@dataclass(frozen=True)
class WindowSplit:
    """What a page over a window shows of a campaign's ad spend: per channel and in all,
    converted into one currency; and the part outside the flight in each native currency."""

    by_channel: dict[object, Split]
    whole: Split
    outside_native: list[Money]


def window_split(facts: pd.DataFrame, currency: str) -> WindowSplit:
    """`facts` of one campaign (facts_frame with by_day and flight) split for a page."""
    converted = convert(ad_spend(facts), currency)
    outside = facts[~facts["in_flight"]].groupby("currency", sort=True)["spend_minor"].sum()
    return WindowSplit(
        by_channel=split(converted, "channel"),
        whole=split(converted)[None],
        outside_native=[Money(int(v), str(c)) for c, v in outside.items() if v],
    )


@dataclass(frozen=True)
class Elsewhere:
    """Ad spend of a campaign outside its flight and outside the dates a page shows."""

    amount: Money
    first_day: date
    last_day: date


def outside_elsewhere(campaign_id: int, since: date, until: date) -> list[Elsewhere]:
    """Per currency: the campaign's ad spend outside its flight dated before `since` or
    after `until`, so a page over other dates can still say it exists."""
    facts = facts_frame(campaign_ids=[campaign_id], flight=True, metrics=False)
    days = facts["day"]
    away = facts[~facts["in_flight"] & ((days < since) | (days > until))]
    return [
        Elsewhere(
            Money(int(part["spend_minor"].sum()), str(cur)), part["day"].min(), part["day"].max()
        )
        for cur, part in away.groupby("currency", sort=True)
        if part["spend_minor"].sum()
    ]
