"""Insights queries for the sandbox: which rows a query has, and one page of them, lazily.

Rows are ordered by object, then by date. Only the requested page is materialised: counting
rows needs only each ad's delivery interval, so paging through 200 ads x 365 days stays cheap.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from ads.sandbox.data import (
    ATTRIBUTION_SETTING,
    LEVELS,
    AccountSpec,
    Ad,
    AdDay,
    SandboxData,
    format_minor,
)
from ads.sandbox.faults import GraphError, bad_param

INSIGHTS_FIELDS = frozenset(
    {
        "account_id",
        "account_name",
        "account_currency",
        "campaign_id",
        "campaign_name",
        "adset_id",
        "adset_name",
        "ad_id",
        "ad_name",
        "objective",
        "spend",
        "impressions",
        "clicks",
        "inline_link_clicks",
        "reach",
        "actions",
        "action_values",
        "date_start",
        "date_stop",
        "attribution_setting",
    }
)
_LEVEL_FIELDS = {
    "campaign": ("campaign_id", "campaign_name", "objective"),
    "adset": ("campaign_id", "campaign_name", "objective", "adset_id", "adset_name"),
    "ad": (
        "campaign_id",
        "campaign_name",
        "objective",
        "adset_id",
        "adset_name",
        "ad_id",
        "ad_name",
    ),
}


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"fd:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, offset = raw.split(":", 1)
        if prefix != "fd" or int(offset) < 0:
            raise ValueError(cursor)
        return int(offset)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise bad_param("Invalid cursor (after)") from None


def parse_list(value: str | None) -> list[str]:
    """`fields` arrives comma-separated on GET and as a JSON list in a POST form body."""
    if not value:
        return []
    value = value.strip()
    if value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            raise bad_param("fields must be a list of strings") from None
        return [str(item).strip() for item in items]
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_limit(value: str | None, default: int = 25) -> int:
    if value in (None, ""):
        return default
    try:
        limit = int(value)
    except ValueError:
        raise bad_param("param limit must be an integer") from None
    if limit < 1:
        raise bad_param("param limit must be positive")
    return limit


@dataclass(frozen=True)
class InsightsQuery:
    account: AccountSpec
    level: str
    since: date
    until: date
    increment: int  # days per row; the whole range for all_days
    fields: tuple[str, ...]

    @cached_property
    def wanted(self) -> frozenset[str]:
        return frozenset(self.fields)

    @classmethod
    def parse(cls, account: AccountSpec, params: Mapping[str, str]) -> InsightsQuery:
        level = params.get("level") or "account"
        if level not in LEVELS:
            raise bad_param(f"param level must be one of {{{', '.join(LEVELS)}}}")
        if params.get("breakdowns") not in (None, "", "[]"):
            raise bad_param("breakdowns are not supported by the sandbox")
        if not params.get("time_range"):
            raise bad_param('the sandbox needs time_range={"since":...,"until":...}')
        try:
            window = json.loads(params["time_range"])
            since = date.fromisoformat(window["since"])
            until = date.fromisoformat(window["until"])
        except (ValueError, TypeError, KeyError):
            raise bad_param('param time_range must be {"since":YYYY-MM-DD,"until":...}') from None
        if since > until:
            raise bad_param("time_range: since must be on or before until")
        raw = (params.get("time_increment") or "all_days").strip()
        if raw == "all_days":
            increment = (until - since).days + 1
        elif raw.isdigit() and 1 <= int(raw) <= 90:
            increment = int(raw)
        else:
            raise bad_param("time_increment must be 1-90 or all_days in the sandbox")
        fields = parse_list(params.get("fields"))
        unknown = [f for f in fields if f not in INSIGHTS_FIELDS]
        if unknown:
            raise GraphError(
                f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type "
                "(AdsInsights)",
                100,
            )
        return cls(account, level, since, until, increment, tuple(fields))


@dataclass
class _Group:
    info: dict[str, str]
    ads: list[Ad]
    buckets: list[tuple[int, int]]  # merged, inclusive bucket-index ranges with delivery
    fixed: dict[str, Any] | None = None  # the row fields every row of the group shares

    @property
    def count(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.buckets)


class InsightsPager:
    """The rows of one query; `page(offset, limit)` builds only the rows asked for."""

    def __init__(self, data: SandboxData, query: InsightsQuery, *, restated: bool | None = None):
        self.data = data
        self.query = query
        self.restated = restated
        self.first = data.day_index(query.since)
        self.last = data.day_index(query.until)
        self.groups = self._groups()
        # (restated, group index, bucket) -> the row, when data.memo_rows
        self._memo: dict[tuple[bool, int, int], dict[str, Any]] = {}

    def _groups(self) -> list[_Group]:
        q = self.query
        grouped: dict[str, _Group] = {}
        for ad in self.data.ads_of(q.account.id):
            key = {
                "account": q.account.id,
                "campaign": ad.campaign_id,
                "adset": ad.adset_id,
                "ad": ad.id,
            }[q.level]
            group = grouped.get(key)
            if group is None:
                info = {
                    "campaign_id": ad.campaign_id,
                    "campaign_name": ad.campaign_name,
                    "objective": ad.objective,
                    "adset_id": ad.adset_id,
                    "adset_name": ad.adset_name,
                    "ad_id": ad.id,
                    "ad_name": ad.name,
                }
                keep = _LEVEL_FIELDS.get(q.level, ())
                group = grouped[key] = _Group({k: info[k] for k in keep}, [], [])
            group.ads.append(ad)
            lo, hi = max(self.first, ad.start), min(self.last, ad.stop)
            if lo <= hi:
                n = q.increment
                group.buckets.append(((lo - self.first) // n, (hi - self.first) // n))
        for group in grouped.values():
            group.buckets = _merge(group.buckets)
        return [g for g in grouped.values() if g.buckets]

    def count(self) -> int:
        return sum(g.count for g in self.groups)

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        skip = offset
        memo = self.data.memo_rows
        for index, group in enumerate(self.groups):
            if skip >= group.count:
                skip -= group.count
                continue
            for lo, hi in group.buckets:
                span = hi - lo + 1
                if skip >= span:
                    skip -= span
                    continue
                for bucket in range(lo + skip, hi + 1):
                    if memo:
                        rows.append(self._memo_row(group, bucket, index))
                    else:
                        rows.append(self._row(group, bucket))
                    if len(rows) == limit:
                        return rows
                skip = 0
        return rows

    def _fixed(self, group: _Group) -> dict[str, Any]:
        """The requested fields that are the same on every row of the group."""
        if group.fixed is None:
            spec = self.query.account
            known = {
                "account_id": spec.number,
                "account_name": spec.name,
                "account_currency": spec.currency,
                "attribution_setting": ATTRIBUTION_SETTING,
                **group.info,
            }
            group.fixed = {name: known[name] for name in self.query.fields if name in known}
        return group.fixed

    def _day_row(self, group: _Group, index: int, day: AdDay) -> dict[str, Any]:
        """`_row` for one ad on one day (the sync's case): the same fields, without sums."""
        wanted, decimals = self.query.wanted, self.query.account.decimals
        row = self._fixed(group).copy()
        if "spend" in wanted:
            row["spend"] = format_minor(day.spend_minor, decimals)
        if "impressions" in wanted:
            row["impressions"] = str(day.impressions)
        if day.clicks and "clicks" in wanted:
            row["clicks"] = str(day.clicks)
        if day.inline_link_clicks and "inline_link_clicks" in wanted:
            row["inline_link_clicks"] = str(day.inline_link_clicks)
        if "reach" in wanted:
            row["reach"] = str(day.reach)
        if day.actions and "actions" in wanted:
            row["actions"] = [{"action_type": k, "value": str(v)} for k, v in day.actions.items()]
        if day.action_values and "action_values" in wanted:
            row["action_values"] = [
                {"action_type": k, "value": format_minor(v, decimals)}
                for k, v in day.action_values.items()
            ]
        row["date_start"] = row["date_stop"] = self.data.day_iso(index)
        return row

    def _memo_row(self, group: _Group, bucket: int, index: int) -> dict[str, Any]:
        restated = self.data.restated if self.restated is None else self.restated
        key = (restated, index, bucket)
        row = self._memo.get(key)
        if row is None:
            row = self._memo[key] = self._row(group, bucket)
        return row

    def _row(self, group: _Group, bucket: int) -> dict[str, Any]:
        q, spec = self.query, self.query.account
        first = self.first + bucket * q.increment
        last = min(self.last, first + q.increment - 1)
        if len(group.ads) == 1 and first == last:  # one ad-day (ad level, daily): no sums
            day = self.data.ad_day(spec, group.ads[0], first, restated=self.restated)
            if day is not None:
                return self._day_row(group, first, day)
        sums = dict.fromkeys(_SUMMED, 0)
        actions: dict[str, int] = {}
        values: dict[str, int] = {}
        for _ad, _i, day in self.data.ad_days(spec, group.ads, first, last, self.restated):
            for name, value in _day_sums(day).items():
                sums[name] += value  # reach is not additive at Meta; fine for a sandbox
            for k, v in day.actions.items():
                actions[k] = actions.get(k, 0) + v
            for k, v in day.action_values.items():
                values[k] = values.get(k, 0) + v
        decimals = spec.decimals
        wanted = q.wanted
        row = self._fixed(group).copy()
        if "spend" in wanted:
            row["spend"] = format_minor(sums["spend"], decimals)
        for name in ("impressions", "clicks", "inline_link_clicks", "reach"):
            # Meta omits empty metrics (impressions and reach are always there).
            if name in wanted and (sums[name] or name in ("impressions", "reach")):
                row[name] = str(sums[name])
        if actions and "actions" in wanted:
            row["actions"] = [{"action_type": k, "value": str(v)} for k, v in actions.items()]
        if values and "action_values" in wanted:
            row["action_values"] = [
                {"action_type": k, "value": format_minor(v, decimals)} for k, v in values.items()
            ]
        row["date_start"] = self.data.day_iso(first)
        row["date_stop"] = self.data.day_iso(last)
        return row


_SUMMED = ("spend", "impressions", "clicks", "inline_link_clicks", "reach")


def _day_sums(day: AdDay) -> dict[str, int]:
    return {
        "spend": day.spend_minor,
        "impressions": day.impressions,
        "clicks": day.clicks,
        "inline_link_clicks": day.inline_link_clicks,
        "reach": day.reach,
    }


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
