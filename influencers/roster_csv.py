"""Roster CSV columns: the import targets, guessing a mapping from headers, and reading one
row into typed values with a reason for every bad cell."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from babel import Locale

from core.money import Money, MoneyError, check_currency
from influencers.csvread import (
    CellError,
    RowError,
    normalise_handle,
    normalise_header,
    parse_count,
    parse_percent,
)
from influencers.models import DeliverableType, InfluencerStatus, SocialPlatform
from influencers.services import split_niches

PLATFORMS = [p.value for p in SocialPlatform]
MAX_NICHES = 398  # the column holds ",a,b," in 400 characters
TYPES = [t.value for t in DeliverableType]


# --- mapping --------------------------------------------------------------------------------


def targets() -> dict[str, str]:
    """Import targets and their labels, for the column-mapping form."""
    out = {
        "name": "Name",
        "status": "Status",
        "country": "Country",
        "language": "Language",
        "contact_email": "Contact email",
        "contact_phone": "Contact phone",
        "niches": "Niche tags",
        "notes": "Notes",
        "platform": "Platform (one handle per row)",
        "handle": "Handle (one handle per row)",
        "followers": "Followers (one handle per row)",
        "engagement": "Engagement % (one handle per row)",
    }
    for p in SocialPlatform:
        out |= {
            f"{p.value}.handle": f"{p.label} handle",
            f"{p.value}.followers": f"{p.label} followers",
            f"{p.value}.engagement": f"{p.label} engagement %",
        }
    out["rate_currency"] = "Rate card currency"
    return out | {f"rate.{t.value}": f"Rate: {t.label}" for t in DeliverableType}


SYNONYMS = {
    "name": "name full_name influencer influencer_name creator creator_name talent",
    "status": "status",
    "country": "country country_code market",
    "language": "language lang",
    "contact_email": "email e_mail contact_email mail",
    "contact_phone": "phone telephone mobile contact_phone",
    "niches": "niche niches niche_tags tags categories category vertical",
    "notes": "notes note comments remarks",
    "platform": "platform network social_network",
    "handle": "handle username user_name account profile",
    "followers": "followers follower_count followers_count audience subscribers",
    "engagement": "engagement engagement_rate er engagement_pct engagement_percent",
    "rate_currency": "currency rate_currency",
}
ALIASES = {
    "instagram": ("instagram", "ig", "insta"),
    "tiktok": ("tiktok", "tt", "tik_tok"),
    "youtube": ("youtube", "yt"),
    "x": ("x", "twitter"),
    "twitch": ("twitch",),
    "facebook": ("facebook", "fb"),
    "linkedin": ("linkedin",),
    "pinterest": ("pinterest",),
    "blog": ("blog", "website", "site"),
}


def _guess(header: str) -> str:
    h = normalise_header(header)
    for target, words in SYNONYMS.items():
        if h in words.split():
            return target
    for platform, aliases in ALIASES.items():
        for a in aliases:
            if h in (a, f"{a}_handle", f"{a}_username", f"{a}_account", f"{a}_url"):
                return f"{platform}.handle"
            if h in (f"{a}_followers", f"{a}_subscribers", f"{a}_follower_count"):
                return f"{platform}.followers"
            if h in (f"{a}_engagement", f"{a}_er", f"{a}_engagement_rate"):
                return f"{platform}.engagement"
    for t in TYPES:
        for stem in {t, t.replace("_", "")}:
            if h in (f"rate_{stem}", f"{stem}_rate", f"{stem}_fee", f"{stem}_price"):
                return f"rate.{t}"
    return ""


def guess_mapping(headers: list[str]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        target = _guess(header)
        if target and target not in used:
            mapping[index], used = target, used | {target}
    # "Followers" beside a single platform's handle column (no Platform column) belong to it.
    platforms = {t.split(".")[0] for t in mapping.values() if t.endswith(".handle")}
    if "platform" not in used and len(platforms) == 1:
        (platform,) = platforms
        for index, target in list(mapping.items()):
            own = f"{platform}.{target}"
            if target in ("followers", "engagement") and own not in used:
                mapping[index] = own
                used |= {own}
    return mapping


def mapping_errors(mapping: dict[int, str]) -> list[str]:
    chosen = [t for t in mapping.values() if t]
    problems = []
    valid = targets()
    unknown = [t for t in chosen if t not in valid]
    if unknown:
        problems.append(f"Unknown target: {', '.join(unknown)}.")
    doubles = sorted({t for t in chosen if chosen.count(t) > 1})
    if doubles:
        problems.append(f"Each target takes one column; chosen twice: {', '.join(doubles)}.")
    long_format = {"platform", "handle", "followers", "engagement"} & set(chosen)
    if long_format and not {"platform", "handle"} <= long_format:
        problems.append(
            "The “one handle per row” columns need both a Platform and a Handle column; "
            "otherwise map followers and engagement to a platform's own columns."
        )
    if not any(t == "handle" or t.endswith(".handle") for t in chosen):
        problems.append("Map at least one handle column: duplicates are recognised by handle.")
    return problems


# --- rows -----------------------------------------------------------------------------------

STATUS_WORDS = {
    "active": InfluencerStatus.ACTIVE.value,
    "do_not_work_with": InfluencerStatus.DO_NOT_WORK_WITH.value,
    "dnw": InfluencerStatus.DO_NOT_WORK_WITH.value,
    "dnww": InfluencerStatus.DO_NOT_WORK_WITH.value,
    "blocked": InfluencerStatus.DO_NOT_WORK_WITH.value,
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@cache
def _names(kind: str) -> dict[str, str]:
    """Codes to English names (countries: 'DE' → 'Germany'; languages: 'de' → 'German')."""
    locale = Locale.parse("en")
    if kind == "countries":
        return {k: v for k, v in locale.territories.items() if k.isalpha() and len(k) == 2}
    return {k: v for k, v in locale.languages.items() if "_" not in k}


@cache
def _codes(kind: str) -> dict[str, str]:
    return {v.lower(): k for k, v in _names(kind).items()}


def _lookup(kind: str, text: str, what: str) -> str:
    cleaned = text.strip()
    code = cleaned.upper() if kind == "countries" else cleaned.lower()
    if code in _names(kind):
        return code
    if cleaned.lower() in _codes(kind):
        return _codes(kind)[cleaned.lower()]
    raise CellError(f"“{text}” is not a {what}")


def _language(text: str) -> str:
    if re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,4})?", text.strip()):
        return text.strip().replace("_", "-")[:12]
    return _lookup("languages", text, "language (de, en-GB or German)")


@dataclass
class Parsed:
    line: int
    fields: dict[str, Any]
    handles: dict[tuple[str, str], tuple[int | None, Decimal | None]]
    rates: dict[str, Money]


def _platform(text: str) -> str:
    h = normalise_header(text)
    for platform, aliases in ALIASES.items():
        if h == platform or h in aliases:
            return platform
    raise CellError(f"“{text}” is not a platform ({', '.join(PLATFORMS)})")


def _cell(target: str, text: str) -> Any:
    if target == "name":
        return text[:160]
    if target == "status":
        status = STATUS_WORDS.get(normalise_header(text))
        if status is None:
            raise CellError(f"“{text}” is not a status (active or do not work with)")
        return status
    if target == "country":
        return _lookup("countries", text, "country (DE, GB or Germany)")
    if target == "language":
        return _language(text)
    if target == "contact_email":
        if not _EMAIL.fullmatch(text) or len(text) > 254:
            raise CellError(f"“{text}” is not an email address")
        return text
    if target == "contact_phone":
        return text[:40]
    if target == "notes":
        return text
    if target == "niches":
        niches = ",".join(sorted(set(split_niches(text))))
        if len(niches) > MAX_NICHES:
            raise CellError(f"too many niche tags (at most {MAX_NICHES} characters in all)")
        return niches
    raise KeyError(target)


def parse_row(line: int, values: dict[str, tuple[str, str]], currency: str):
    errors: list[RowError] = []
    fields: dict[str, Any] = {}
    per_platform: dict[str, dict[str, Any]] = {}
    rates: dict[str, str] = {}

    def attempt(header: str, fn, *args) -> Any:
        try:
            return fn(*args)
        except CellError as exc:
            errors.append(RowError(line, header, str(exc)))
            return None

    long_platform = None
    if "platform" in values:
        long_platform = attempt(values["platform"][0], _platform, values["platform"][1])
    if "rate_currency" in values:
        currency = attempt(values["rate_currency"][0], _currency, values["rate_currency"][1])
    for target, (header, text) in values.items():
        if target in ("platform", "rate_currency"):
            continue
        if target.startswith("rate."):
            rates[target[5:]] = header
            continue
        platform, _, part = target.rpartition(".")
        if target in ("handle", "followers", "engagement"):
            platform, part = long_platform or "", target
            if not platform:
                continue
        if platform:
            if part == "handle":
                value = attempt(header, normalise_handle, platform, text)
            else:
                value = attempt(header, parse_count if part == "followers" else parse_percent, text)
            per_platform.setdefault(platform, {"header": header})[part] = value
        else:
            fields[target] = attempt(header, _cell, target, text)
    handles = {}
    for platform, parts in per_platform.items():
        if parts.get("handle"):
            handles[(platform, parts["handle"])] = (parts.get("followers"), parts.get("engagement"))
        elif "handle" not in parts:
            errors.append(RowError(line, parts["header"], f"{platform} numbers without a handle"))
    if not handles and not errors:
        errors.append(RowError(line, "—", "no platform handle: one is needed to spot duplicates"))
    money: dict[str, Money] = {}
    for kind, header in rates.items():
        target = values[f"rate.{kind}"][1]
        amount = attempt(header, _money, target, currency) if currency else None
        if amount is not None:
            money[kind] = amount
    return Parsed(line, fields, handles, money), errors


def _currency(text: str) -> str:
    try:
        return check_currency(text)
    except MoneyError as exc:
        raise CellError(str(exc)) from None


def _money(text: str, currency: str) -> Money:
    try:
        amount = Money.of(text, currency)
    except MoneyError as exc:
        raise CellError(f"“{text}”: {exc}") from None
    if amount.is_negative():
        raise CellError(f"“{text}” is negative")
    return amount
