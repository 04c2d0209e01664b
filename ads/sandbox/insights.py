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
from typing import Any

from ads.sandbox.data import (
    ATTRIBUTION_SETTING,
    LEVELS,
    AccountSpec,
    Ad,
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
        for group in self.groups:
            if skip >= group.count:
                skip -= group.count
                continue
            for lo, hi in group.buckets:
                span = hi - lo + 1
                if skip >= span:
                    skip -= span
                    continue
                for bucket in range(lo + skip, hi + 1):
                    rows.append(self._row(group, bucket))
                    if len(rows) == limit:
                        return rows
                skip = 0
        return rows

    def _row(self, group: _Group, bucket: int) -> dict[str, Any]:
        q, spec = self.query, self.query.account
        first = self.first + bucket * q.increment
        last = min(self.last, first + q.increment - 1)
        sums = {"spend": 0, "impressions": 0, "clicks": 0, "inline_link_clicks": 0, "reach": 0}
        actions: dict[str, int] = {}
        values: dict[str, int] = {}
        for _ad, _i, day in self.data.ad_days(spec, group.ads, first, last, self.restated):
            sums["spend"] += day.spend_minor
            sums["impressions"] += day.impressions
            sums["clicks"] += day.clicks
            sums["inline_link_clicks"] += day.inline_link_clicks
            sums["reach"] += day.reach  # not additive at Meta; good enough for a sandbox
            for k, v in day.actions.items():
                actions[k] = actions.get(k, 0) + v
            for k, v in day.action_values.items():
                values[k] = values.get(k, 0) + v
        row: dict[str, Any] = {}
        for name in q.fields:
            if name == "account_id":
                row[name] = spec.number
            elif name == "account_name":
                row[name] = spec.name
            elif name == "account_currency":
                row[name] = spec.currency
            elif name in group.info:
                row[name] = group.info[name]
            elif name == "spend":
                row[name] = format_minor(sums["spend"], spec.decimals)
            elif name in ("impressions", "reach") or (name in sums and sums[name]):
                row[name] = str(sums[name])
            elif name == "actions" and actions:
                row[name] = [{"action_type": k, "value": str(v)} for k, v in actions.items()]
            elif name == "action_values" and values:
                row[name] = [
                    {"action_type": k, "value": format_minor(v, spec.decimals)}
                    for k, v in values.items()
                ]
            elif name == "attribution_setting":
                row[name] = ATTRIBUTION_SETTING
        row["date_start"] = self.data.day(first).isoformat()
        row["date_stop"] = self.data.day(last).isoformat()
        return row


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
