"""The shape of the sandbox's ad accounts: campaigns, ad sets and ads, named like real ones.

Two campaigns in three carry a Flightdeck mapping tag ("[FD-7]") at the start or end of the name.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD"})
SALES, LEADS, TRAFFIC = "OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_TRAFFIC"
_OBJECTIVES = (SALES, SALES, LEADS, TRAFFIC)
_CAMPAIGN_NAMES = {
    SALES: (
        "Spring Sale – Prospecting",
        "Retargeting | Cart Abandoners 30d",
        "Advantage+ Shopping – Bestsellers",
        "Black Friday Early Access",
        "Evergreen DPA – Catalog",
    ),
    LEADS: ("Lead Gen – Webinar Signups", "Demo Requests – Lookalike 1%", "Newsletter Giveaway"),
    TRAFFIC: ("Blog Traffic – Always On", "Launch Teaser – Video Views", "Store Locator Push"),
}
_ADSET_NAMES = (
    "Broad 25-54 | Advantage+",
    "Lookalike 1% Purchasers",
    "Interests – Outdoor & Travel",
    "Retargeting – Site Visitors 14d",
    "Engagers IG 90d",
)
_AD_NAMES = ("Video 15s – Hook A", "Carousel – Bestsellers", "Static – UGC Testimonial", "Reel 9s")


def currency_decimals(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


_UNPACK = struct.Struct(">16I").unpack
_INV_2_32 = 1.0 / 2**32


def floats(*parts: object) -> list[float]:
    """16 uniform numbers in [0, 1) from a hash: the same parts always give the same numbers."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=64).digest()
    return [n * _INV_2_32 for n in _UNPACK(digest)]


@dataclass(frozen=True)
class AccountSpec:
    id: str  # "act_1001"
    name: str
    currency: str
    timezone: str
    campaigns: int = 3
    adsets_per_campaign: int = 2
    ads_per_adset: int = 2
    account_status: int = 1

    @property
    def number(self) -> str:
        return self.id.removeprefix("act_")

    @property
    def decimals(self) -> int:
        return currency_decimals(self.currency)


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    status: str
    objective: str


@dataclass(frozen=True)
class Ad:
    id: str
    name: str
    adset_id: str
    adset_name: str
    campaign_id: str
    campaign_name: str
    objective: str
    start: int  # first and last day index (into the history) with delivery
    stop: int
    # Per-ad behaviour, fixed by the seed.
    scale: float
    cpm: float
    ctr: float
    cvr: float
    aov: float
    lead_rate: float
    pixel_prone: bool  # some days report only offsite_conversion.fb_pixel_purchase


def default_accounts(
    campaigns: int = 3, adsets_per_campaign: int = 2, ads_per_adset: int = 2
) -> list[AccountSpec]:
    sizes = {
        "campaigns": campaigns,
        "adsets_per_campaign": adsets_per_campaign,
        "ads_per_adset": ads_per_adset,
    }
    return [
        AccountSpec("act_1001", "Flightdeck Demo EU", "EUR", "Europe/Berlin", **sizes),
        AccountSpec("act_1002", "Flightdeck Demo US", "USD", "America/New_York", **sizes),
        AccountSpec("act_1003", "Flightdeck Demo JP", "JPY", "Asia/Tokyo", **sizes),
    ]


def generate_structure(
    seed: int, spec: AccountSpec, order: int, days: int
) -> tuple[list[Campaign], list[Ad]]:
    """The campaigns, ad sets and ads of one account (`order`: its place in the account list)."""
    campaigns: list[Campaign] = []
    ads: list[Ad] = []
    used: set[str] = set()
    market = {"EUR": "DE", "USD": "US", "JPY": "JP", "GBP": "UK"}.get(spec.currency, "INTL")
    for c in range(spec.campaigns):
        h = floats(seed, spec.id, "campaign", c)
        objective = _OBJECTIVES[c % len(_OBJECTIVES)]
        names = _CAMPAIGN_NAMES[objective]
        name = f"{names[int(h[0] * len(names))]} – {market}"
        if c % 3 != 2:  # a Flightdeck mapping tag on two campaigns in three
            tag = f"[FD-{1 + (order * 5 + c) % 12}]"
            name = f"{tag} {name}" if h[1] < 0.5 else f"{name} {tag}"
        base, n = name, 2
        while name in used:
            name, n = f"{base} #{n}", n + 1
        used.add(name)
        paused = c % 5 == 4
        cid = f"238{spec.number}{c + 1:03d}"
        campaigns.append(Campaign(cid, name, "PAUSED" if paused else "ACTIVE", objective))
        c_start = 0 if c % 2 == 0 else int(h[2] * days * 0.3)
        c_stop = days - 1 - (10 if paused else 0)
        for s in range(spec.adsets_per_campaign):
            sid = f"{cid}{s + 1:02d}"
            sname = _ADSET_NAMES[(c + s) % len(_ADSET_NAMES)]
            for a in range(spec.ads_per_adset):
                aid = f"{sid}{a + 1:02d}"
                p = floats(seed, aid, "profile")
                start = c_start + (0 if a == 0 else int(p[0] * days * 0.1))
                start = min(start, days - 1)
                ads.append(
                    Ad(
                        id=aid,
                        name=f"{_AD_NAMES[(s + a) % len(_AD_NAMES)]} v{a + 1}",
                        adset_id=sid,
                        adset_name=sname,
                        campaign_id=cid,
                        campaign_name=name,
                        objective=objective,
                        start=start,
                        stop=max(start, c_stop),
                        scale=0.15 + 0.85 * p[1],
                        cpm=4 + 14 * p[2],
                        ctr=0.004 + 0.026 * p[3],
                        cvr=0.01 + 0.05 * p[4],
                        aov=25 + 115 * p[5],
                        lead_rate=0.03 + 0.09 * p[6],
                        pixel_prone=p[7] < 0.5,
                    )
                )
    return campaigns, ads
