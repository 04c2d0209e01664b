"""Deterministic ad accounts for the Graph API sandbox, and their ground truth.

Nothing is stored per row: every (ad, day) is derived from a hash of (seed, ad id, day), so an
account of 200 ads x 365 days costs no memory until a request asks for a page of it. Amounts are
integer minor units of the account currency until they are formatted for the wire.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import NamedTuple

from ads.sandbox.structure import (
    LEADS,
    SALES,
    TRAFFIC,
    AccountSpec,
    Ad,
    Campaign,
    default_accounts,
    floats,
    generate_structure,
)

DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - the fake token the sandbox accepts
ATTRIBUTION_SETTING = "7d_click_1d_view"
LEVELS = ("account", "campaign", "adset", "ad")
# The same purchases, reported under several overlapping types; pick one, never sum them.
PURCHASE_TYPES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")
LEAD_TYPES = ("lead", "offsite_conversion.fb_pixel_lead", "onsite_conversion.lead_grouped")
# Rough size of one "unit" of spend in each currency, so a JPY account spends yen-sized numbers.
CURRENCY_SCALE = {"EUR": 1.0, "USD": 1.1, "GBP": 0.85, "JPY": 160.0}
WEEKDAY_FACTOR = (1.0, 0.95, 0.95, 1.0, 1.1, 1.2, 1.15)


def format_minor(minor: int, decimals: int) -> str:
    """Minor units as Meta writes money: "12.34", or "1234" for zero-decimal currencies."""
    if not decimals:
        return str(minor)
    whole, part = divmod(abs(minor), 10**decimals)
    return f"{'-' if minor < 0 else ''}{whole}.{part:0{decimals}d}"


class AdDay(NamedTuple):
    """One ad's delivery on one day, in minor units (a tuple: the sandbox makes one per
    row it serves)."""

    spend_minor: int
    impressions: int
    clicks: int
    inline_link_clicks: int
    reach: int
    actions: dict[str, int]
    action_values: dict[str, int]  # minor units


def pick(values: dict[str, int], order: Sequence[str]) -> int:
    """The first type of `order` present: overlapping types are alternatives, not addends."""
    for action_type in order:
        if action_type in values:
            return values[action_type]
    return 0


@dataclass
class Metrics:
    """A running sum of ad-days (the ground truth's unit)."""

    rows: int = 0
    spend_minor: int = 0
    impressions: int = 0
    clicks: int = 0
    inline_link_clicks: int = 0
    reach: int = 0
    purchases: int = 0
    purchase_value_minor: int = 0
    leads: int = 0
    name: str = ""

    def add(self, day: AdDay) -> None:
        self.rows += 1
        self.spend_minor += day.spend_minor
        self.impressions += day.impressions
        self.clicks += day.clicks
        self.inline_link_clicks += day.inline_link_clicks
        self.reach += day.reach
        self.purchases += pick(day.actions, PURCHASE_TYPES)
        chosen = next((t for t in PURCHASE_TYPES if t in day.actions), None)
        self.purchase_value_minor += day.action_values.get(chosen, 0) if chosen else 0
        self.leads += pick(day.actions, LEAD_TYPES)

    def as_dict(self, decimals: int) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name} if self.name else {}
        out |= {
            "rows": self.rows,
            "spend": Decimal(self.spend_minor).scaleb(-decimals),
            "impressions": self.impressions,
            "clicks": self.clicks,
            "inline_link_clicks": self.inline_link_clicks,
            "reach": self.reach,
            "purchases": self.purchases,
            "purchase_value": Decimal(self.purchase_value_minor).scaleb(-decimals),
            "leads": self.leads,
        }
        return out


@dataclass
class SandboxData:
    """The sandbox's accounts, generated from `seed`; `end_date` is the sandbox's "today".

    `restated` switches the last `restate_days` days of every ad to their restated numbers
    (what a later pull sees once attribution has caught up); the server flips it.
    """

    seed: int = 42
    accounts: Sequence[AccountSpec] | None = None
    end_date: date | None = None
    days: int = 120
    campaigns: int = 3
    adsets_per_campaign: int = 2
    ads_per_adset: int = 2
    restate_days: int = 3
    tokens: frozenset[str] = frozenset({DEFAULT_TOKEN})
    app_secret: str | None = None  # when set, requests must carry a valid appsecret_proof
    async_polls: int = 2  # status polls until a report run says "Job Completed"
    restated: bool = False
    # Keep every row served, to answer the same query again from memory (the benchmark: its
    # syncs then measure the client, not the sandbox generating rows on the same two cores).
    memo_rows: bool = False
    _structure: dict[str, tuple[list[Campaign], list[Ad]]] = field(default_factory=dict, repr=False)
    _scales: dict[str, float] = field(default_factory=dict, repr=False)
    _iso_days: dict[int, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.accounts is None:
            self.accounts = default_accounts(
                self.campaigns, self.adsets_per_campaign, self.ads_per_adset
            )
        if self.end_date is None:
            self.end_date = date.today()
        self.tokens = frozenset(self.tokens)
        for spec in self.accounts:
            if not (1 <= spec.campaigns <= 999 and 1 <= spec.adsets_per_campaign <= 99):
                raise ValueError(f"{spec.id}: 1-999 campaigns and 1-99 ad sets per campaign")
            if not 1 <= spec.ads_per_adset <= 99:
                raise ValueError(f"{spec.id}: 1-99 ads per ad set")
        if self.days < 1:
            raise ValueError("days must be at least 1")

    @cached_property
    def start_date(self) -> date:
        assert self.end_date is not None
        return self.end_date - timedelta(days=self.days - 1)

    @cached_property
    def _start_ordinal(self) -> int:
        return self.start_date.toordinal()

    def day(self, index: int) -> date:
        return self.start_date + timedelta(days=index)

    def day_iso(self, index: int) -> str:
        """`day(index).isoformat()`, remembered (every row on the wire carries two)."""
        text = self._iso_days.get(index)
        if text is None:
            text = self._iso_days[index] = self.day(index).isoformat()
        return text

    def day_index(self, day: date) -> int:
        return (day - self.start_date).days

    def account(self, account_id: str) -> AccountSpec | None:
        wanted = account_id if account_id.startswith("act_") else f"act_{account_id}"
        return next((a for a in self.accounts or () if a.id == wanted), None)

    def _account(self, account_id: str) -> AccountSpec:
        spec = self.account(account_id)
        if spec is None:
            raise KeyError(f"no sandbox account {account_id}")
        return spec

    # -- structure -----------------------------------------------------------------------------

    def campaigns_of(self, account_id: str) -> list[Campaign]:
        return self._build(self._account(account_id))[0]

    def ads_of(self, account_id: str) -> list[Ad]:
        return self._build(self._account(account_id))[1]

    def _build(self, spec: AccountSpec) -> tuple[list[Campaign], list[Ad]]:
        if spec.id not in self._structure:
            order = next(i for i, a in enumerate(self.accounts or ()) if a.id == spec.id)
            self._structure[spec.id] = generate_structure(self.seed, spec, order, self.days)
        return self._structure[spec.id]

    # -- values --------------------------------------------------------------------------------

    def is_restated_day(self, index: int) -> bool:
        return index >= self.days - self.restate_days

    def ad_day(
        self, spec: AccountSpec, ad: Ad, index: int, *, restated: bool | None = None
    ) -> AdDay | None:
        """The ad's numbers on day `index`, or None when it did not deliver.

        `restated` (None: the current state) picks the restated numbers for the last
        `restate_days` days; earlier days never change.
        """
        if not ad.start <= index <= ad.stop or not 0 <= index < self.days:
            return None
        ordinal = self._start_ordinal + index  # hashing the ordinal is cheaper than a date
        u = floats(self.seed, ad.id, ordinal)
        scale = self._scale(spec)
        units = 5 + 295 * ad.scale * (0.55 + 0.45 * u[0]) * WEEKDAY_FACTOR[(ordinal + 6) % 7]
        units = min(300.0, units)
        spend = max(1, round(units * scale))
        impressions = max(1, round(units / (ad.cpm * (0.8 + 0.4 * u[1])) * 1000))
        clicks = min(impressions, round(impressions * ad.ctr * (0.7 + 0.6 * u[2])))
        link = min(clicks, round(clicks * (0.6 + 0.35 * u[3])))
        reach = min(impressions, max(1, round(impressions / (1.05 + 0.85 * u[4]))))
        objective = ad.objective
        cvr = ad.cvr if objective == SALES else 0.004 if objective == TRAFFIC else 0.0
        purchases = int(link * cvr * (0.5 + u[5]) + u[6])
        lead_rate = 0.004 if objective == SALES else ad.lead_rate if objective == LEADS else 0.0
        leads = int(link * lead_rate * (0.5 + u[8]) + u[9])
        value = round(purchases * ad.aov * (0.8 + 0.4 * u[7]) * scale)
        if (self.restated if restated is None else restated) and self.is_restated_day(index):
            # Attribution caught up: more spend was booked and conversions arrived late.
            r = floats(self.seed, ad.id, ordinal, "restated")
            spend += 1 + int(r[0] * max(1, spend * 0.08))
            impressions += int(r[1] * impressions * 0.05)
            if ad.objective == LEADS:
                leads += 1
            else:
                purchases += 1
                value += round(ad.aov * (0.8 + 0.4 * r[2]) * scale)
        actions = {
            "page_engagement": clicks + round(impressions * 0.002 * u[14]),
            "post_engagement": clicks + round(impressions * 0.002 * u[14]),
            "link_click": link,
            "landing_page_view": round(link * (0.6 + 0.3 * u[13])),
        }
        values: dict[str, int] = {}
        if ad.objective == SALES:
            actions["add_to_cart"] = purchases + round(link * 0.03 * u[15])
            values["add_to_cart"] = round(actions["add_to_cart"] * ad.aov * scale)
        self._purchases(ad, purchases, value, u, actions, values)
        self._leads(leads, u, actions)
        return AdDay(
            spend_minor=spend,
            impressions=impressions,
            clicks=clicks,
            inline_link_clicks=link,
            reach=reach,
            actions={k: v for k, v in actions.items() if v},
            action_values={k: v for k, v in values.items() if v},
        )

    def _scale(self, spec: AccountSpec) -> float:
        """Minor units per "unit" of spend in the account's currency."""
        scale = self._scales.get(spec.id)
        if scale is None:
            scale = self._scales[spec.id] = (
                CURRENCY_SCALE.get(spec.currency, 1.0) * 10**spec.decimals
            )
        return scale

    @staticmethod
    def _purchases(ad: Ad, n: int, value: int, u: list[float], actions: dict, values: dict) -> None:
        if not n:
            return
        if ad.pixel_prone and u[10] < 0.35:  # only the pixel saw them
            actions["offsite_conversion.fb_pixel_purchase"] = n
            values["offsite_conversion.fb_pixel_purchase"] = value
            return
        for t in PURCHASE_TYPES:
            actions[t], values[t] = n, value
        if n >= 2 and u[10] > 0.8:  # some bought on Facebook: the pixel saw only the rest
            onsite = 1 + int(u[11] * (n - 1))
            onsite_value = value * onsite // n
            actions["offsite_conversion.fb_pixel_purchase"] = n - onsite
            values["offsite_conversion.fb_pixel_purchase"] = value - onsite_value
            actions["onsite_conversion.purchase"] = onsite
            values["onsite_conversion.purchase"] = onsite_value

    @staticmethod
    def _leads(n: int, u: list[float], actions: dict) -> None:
        if not n:
            return
        if u[12] < 0.2:
            actions["offsite_conversion.fb_pixel_lead"] = n
        elif u[12] < 0.3:
            actions["onsite_conversion.lead_grouped"] = n
        else:
            actions["lead"] = actions["offsite_conversion.fb_pixel_lead"] = n

    def ad_days(
        self, spec: AccountSpec, ads: Iterable[Ad], first: int, last: int, restated: bool | None
    ) -> Iterator[tuple[Ad, int, AdDay]]:
        for ad in ads:
            for index in range(max(first, ad.start), min(last, ad.stop) + 1):
                row = self.ad_day(spec, ad, index, restated=restated)
                if row is not None:
                    yield ad, index, row

    # -- ground truth --------------------------------------------------------------------------

    def totals(
        self,
        account_id: str,
        since: date,
        until: date,
        *,
        level: str = "account",
        restated: bool | None = None,
    ) -> dict[str, object]:
        """Exact sums of the ad-day rows the server serves for the window.

        Purchases, their value and leads are chosen per ad-day by the fallback order (never
        summed across overlapping types), as a correct ad-level sync would store them. With a
        level other than "account", the same metrics per campaign/adset/ad are under
        "campaigns"/"adsets"/"ads". `restated=None` means the state the server is in now.
        """
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}")
        spec = self._account(account_id)
        restated = self.restated if restated is None else restated
        first, last = self.day_index(since), self.day_index(until)
        total = Metrics()
        groups: dict[str, Metrics] = {}
        for ad, _index, row in self.ad_days(spec, self.ads_of(spec.id), first, last, restated):
            total.add(row)
            if level != "account":
                key, name = {
                    "campaign": (ad.campaign_id, ad.campaign_name),
                    "adset": (ad.adset_id, ad.adset_name),
                    "ad": (ad.id, ad.name),
                }[level]
                groups.setdefault(key, Metrics(name=name)).add(row)
        out: dict[str, object] = {
            "account_id": spec.id,
            "currency": spec.currency,
            "since": since,
            "until": until,
            "level": level,
            "restated": restated,
        }
        out |= total.as_dict(spec.decimals)
        if level != "account":
            out[f"{level}s"] = {k: m.as_dict(spec.decimals) for k, m in groups.items()}
        return out
