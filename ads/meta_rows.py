"""Typed results of the Meta connector, their parsing, and its error classes.

Split out of ads/meta.py to keep modules short; import everything from `ads.meta`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cached_property
from typing import Any, NamedTuple

# Overlapping types for the same conversions: take the first present, never add them up.
PURCHASE_TYPES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")
LEAD_TYPES = ("lead", "offsite_conversion.fb_pixel_lead", "onsite_conversion.lead_grouped")
SLOW_DOWN_PCT = 75


# -- errors ---------------------------------------------------------------------------------------


class MetaError(Exception):
    """Meta refused or failed a request. `retry_after` is seconds to wait, when Meta said so."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        retry_after: float | None = None,
        http_status: int | None = None,
        fbtrace_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.retry_after = retry_after
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, code={self.code}, subcode={self.subcode}, "
            f"retry_after={self.retry_after})"
        )


class RateLimited(MetaError):
    """Codes 4, 17, 32, 613, 80000-80014: wait `retry_after` (or back off) and try again."""


class TokenInvalid(MetaError):
    """Code 190: the token is expired or revoked; retrying will not help, re-authorise."""


class TooMuchData(MetaError):
    """Code 100/1487534: ask for a shorter window or smaller pages."""


class TransientError(MetaError):
    """5xx, codes 1/2, `is_transient`, non-JSON bodies, network failures: retry later."""


# -- typed results --------------------------------------------------------------------------------


def _header_json(headers: Mapping[str, str], name: str) -> Any:
    for key, value in headers.items():
        if key.lower() == name.lower():
            try:
                return json.loads(value)
            except (TypeError, ValueError):
                return None
    return None


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


@dataclass(frozen=True)
class Usage:
    """Meta's usage headers: percentages of the quota used, and when a throttle lifts."""

    app_pct: float = 0.0
    account_pct: float = 0.0
    business_pct: float = 0.0
    insights_pct: float = 0.0
    regain_seconds: float | None = None

    @property
    def max_pct(self) -> float:
        return max(self.app_pct, self.account_pct, self.business_pct, self.insights_pct)

    @property
    def should_slow_down(self) -> bool:
        return self.max_pct >= SLOW_DOWN_PCT

    @classmethod
    def from_headers(cls, headers: Mapping[str, str] | None) -> Usage:
        headers = headers or {}
        app = _header_json(headers, "x-app-usage")
        app_pct = max((_num(v) for v in app.values()), default=0.0) if isinstance(app, dict) else 0
        regain_minutes, business_pct = 0.0, 0.0
        buc = _header_json(headers, "x-business-use-case-usage")
        if isinstance(buc, dict):
            for entries in buc.values():
                for entry in entries if isinstance(entries, list) else []:
                    if not isinstance(entry, dict):
                        continue
                    for key in ("call_count", "total_cputime", "total_time"):
                        business_pct = max(business_pct, _num(entry.get(key)))
                    regain_minutes = max(
                        regain_minutes, _num(entry.get("estimated_time_to_regain_access"))
                    )
        account = _header_json(headers, "x-ad-account-usage")
        account = account if isinstance(account, dict) else {}
        throttle = _header_json(headers, "x-fb-ads-insights-throttle")
        throttle = throttle if isinstance(throttle, dict) else {}
        reset = _num(account.get("reset_time_duration"))
        regain = regain_minutes * 60 if regain_minutes > 0 else reset if reset > 0 else None
        return cls(
            app_pct=float(app_pct),
            account_pct=_num(account.get("acc_id_util_pct")),
            business_pct=business_pct,
            insights_pct=max(
                _num(throttle.get("app_id_util_pct")), _num(throttle.get("acc_id_util_pct"))
            ),
            regain_seconds=regain,
        )


@dataclass(frozen=True)
class InsightRow:
    """One object on one day. Money is Decimal in the account currency's major units."""

    account_id: str  # "act_123"
    currency: str
    campaign_id: str
    campaign_name: str
    adset_id: str
    adset_name: str
    ad_id: str
    ad_name: str
    date: date
    attribution_setting: str
    spend: Decimal
    impressions: int
    clicks: int
    reach: int
    inline_link_clicks: int
    purchases: Decimal
    purchase_value: Decimal
    leads: Decimal
    purchase_type: str  # the action type the purchases were taken from ("" if none)


@dataclass(frozen=True)
class InsightPage:
    """One page as Meta sent it (`data`: plain dicts); `rows` parses it into InsightRows."""

    data: list[dict[str, Any]]
    after_cursor: str | None  # resume here (iter_insights(after=...)); None on the last page
    usage: Usage
    prepared: Any = None  # iter_insights(prepare=f): f(data), computed by the loading thread

    @cached_property
    def rows(self) -> list[InsightRow]:
        return [parse_insight_row(row) for row in self.data]


@dataclass(frozen=True)
class PlatformCampaign:
    id: str
    name: str
    status: str
    objective: str


@dataclass(frozen=True)
class AccountInfo:
    id: str
    name: str
    currency: str
    timezone: str
    status: int | None = None


def _decimal(value: Any, name: str) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool):
        raise MetaError(f"Meta sent {name}={value!r}, not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise MetaError(f"Meta sent {name}={value!r}, not a number") from None
    if not number.is_finite():
        raise MetaError(f"Meta sent {name}={value!r}, not a number")
    return number


def _count(value: Any, name: str) -> int:
    number = _decimal(value, name)
    if number != number.to_integral_value():
        raise MetaError(f"Meta sent {name}={value!r}, not a whole number")
    return int(number)


def _by_type(entries: Any, name: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for entry in entries or []:
        action_type = entry.get("action_type") if isinstance(entry, Mapping) else None
        if action_type and action_type not in out:
            out[action_type] = _decimal(entry.get("value"), f"{name}[{action_type}]")
    return out


def pick_action(actions: Any, values: Any, order: Sequence[str]) -> tuple[str, Decimal, Decimal]:
    """(type, count, value) for the first type of `order` present; overlapping types are
    alternatives, never summed. The value comes from the same type as the count."""
    counts, amounts = _by_type(actions, "actions"), _by_type(values, "action_values")
    chosen = next((t for t in order if t in counts), None)
    chosen = chosen or next((t for t in order if t in amounts), None)
    if chosen is None:
        return "", Decimal(0), Decimal(0)
    return chosen, counts.get(chosen, Decimal(0)), amounts.get(chosen, Decimal(0))


def parse_insight_row(data: Mapping[str, Any]) -> InsightRow:
    """An insights row as Meta sends it (strings for numbers, metrics omitted when empty)."""
    try:
        day = date.fromisoformat(str(data.get("date_start")))
    except ValueError:
        raise MetaError(f"Meta sent date_start={data.get('date_start')!r}") from None
    actions, values = data.get("actions"), data.get("action_values")
    purchase_type, purchases, purchase_value = pick_action(actions, values, PURCHASE_TYPES)
    _, leads, _ = pick_action(actions, values, LEAD_TYPES)
    account = str(data.get("account_id") or "")
    return InsightRow(
        account_id=f"act_{account}" if account and not account.startswith("act_") else account,
        currency=str(data.get("account_currency") or ""),
        campaign_id=str(data.get("campaign_id") or ""),
        campaign_name=str(data.get("campaign_name") or ""),
        adset_id=str(data.get("adset_id") or ""),
        adset_name=str(data.get("adset_name") or ""),
        ad_id=str(data.get("ad_id") or ""),
        ad_name=str(data.get("ad_name") or ""),
        date=day,
        attribution_setting=str(data.get("attribution_setting") or ""),
        spend=_decimal(data.get("spend"), "spend"),
        impressions=_count(data.get("impressions"), "impressions"),
        clicks=_count(data.get("clicks"), "clicks"),
        reach=_count(data.get("reach"), "reach"),
        inline_link_clicks=_count(data.get("inline_link_clicks"), "inline_link_clicks"),
        purchases=purchases,
        purchase_value=purchase_value,
        leads=leads,
        purchase_type=purchase_type,
    )


# -- the sync's fast path: straight to integer minor units -----------------------------------------


class MinorRow(NamedTuple):
    """An ad-day as the sync stores it: money in integer minor units of the account currency."""

    campaign_id: str
    campaign_name: str
    adset_id: str
    ad_id: str
    ad_name: str
    date: date
    attribution_setting: str
    spend_minor: int
    impressions: int
    clicks: int
    reach: int
    purchases: int
    leads: int
    purchase_value_minor: int


def to_minor(value: Any, decimals: int, name: str) -> int:
    """Meta's "12.34" → 1234 for a 2-decimal currency; more decimals round half-even once.

    Plain digit strings take a string-only path; anything else (exponents, signs, spaces)
    goes through Decimal, with the same result and the same MetaError for non-numbers.
    """
    if value is None or value == "":
        return 0
    if type(value) is str and value.isascii():
        whole, dot, frac = value.partition(".")
        if whole.isdigit() and len(frac) <= decimals and (frac.isdigit() or not (dot or frac)):
            return int(whole + frac + "0" * (decimals - len(frac)))
    scaled = _decimal(value, name).scaleb(decimals)
    return int(scaled.to_integral_value(rounding=ROUND_HALF_EVEN))


def _whole(value: Any, name: str) -> int:
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)
    return _count(value, name)


def _conversions(value: Any, name: str) -> int:
    """A conversion count; a fractional one (modelled conversions) keeps its whole part."""
    if value is None:
        return 0
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)
    return int(_decimal(value, name))


_PICKED = frozenset(PURCHASE_TYPES + LEAD_TYPES)


def _first_values(entries: Any) -> dict[str, Any]:
    """{action type: its first raw value} for the purchase and lead types of an actions list."""
    found: dict[str, Any] = {}
    for entry in entries or ():
        if type(entry) is dict or isinstance(entry, Mapping):
            action_type = entry.get("action_type")
            if type(action_type) is str and action_type in _PICKED and action_type not in found:
                found[action_type] = entry.get("value")
    return found


def _first_of(found: dict[str, Any], order: Sequence[str]) -> str:
    for action_type in order:
        if action_type in found:
            return action_type
    return ""


def parse_minor_row(data: Mapping[str, Any], decimals: int) -> MinorRow:
    """What `parse_insight_row` reads, in minor units (`decimals` of the account currency),
    without a Decimal per number: the sync runs this on every row it stores."""
    if type(data) is not dict and not isinstance(data, Mapping):
        raise MetaError(f"Meta sent a row that is not an object: {str(data)[:80]!r}")
    try:
        day = date.fromisoformat(data.get("date_start"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MetaError(f"Meta sent date_start={data.get('date_start')!r}") from None
    counts, amounts = _first_values(data.get("actions")), _first_values(data.get("action_values"))
    # As pick_action: the type comes from the counts, else from the values; never summed.
    purchase_type = _first_of(counts, PURCHASE_TYPES) or _first_of(amounts, PURCHASE_TYPES)
    purchases = counts.get(purchase_type)
    purchase_value = amounts.get(purchase_type)
    leads = counts.get(_first_of(counts, LEAD_TYPES))
    return MinorRow(
        str(data.get("campaign_id") or ""),
        str(data.get("campaign_name") or ""),
        str(data.get("adset_id") or ""),
        str(data.get("ad_id") or ""),
        str(data.get("ad_name") or ""),
        day,
        str(data.get("attribution_setting") or ""),
        to_minor(data.get("spend"), decimals, "spend"),
        _whole(data.get("impressions") or 0, "impressions"),
        _whole(data.get("clicks") or 0, "clicks"),
        _whole(data.get("reach") or 0, "reach"),
        _conversions(purchases, f"actions[{purchase_type}]"),
        _conversions(leads, "actions[lead]"),
        to_minor(purchase_value, decimals, f"action_values[{purchase_type}]"),
    )
