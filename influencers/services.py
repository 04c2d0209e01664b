"""Roster and partnership rules: profiles, search, terms, the status workflow, the budget
commitment guard rail, promo codes and UTM campaign names.

Services flush, never commit: the view or CLI entry point commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, and_, exists, func, or_, select

from core.extensions import db
from core.money import Money, MoneyError
from core.rules import RuleError
from influencers.csvread import CellError, normalise_handle
from influencers.models import (
    Influencer,
    InfluencerHandle,
    InfluencerRate,
    InfluencerStatus,
    SocialPlatform,
)

MAX_ID = 2**31 - 1


class InfluencerError(RuleError):
    """A rule refused the change; `field` says where to show it, `problems` lists them all."""


def raise_errors(errors: dict[str, str]) -> None:
    """Refuse with every problem found (one per field), not only the first."""
    InfluencerError.raise_all(errors)


# --- roster ---------------------------------------------------------------------------------


@dataclass
class HandleInput:
    handle: str = ""
    followers: int | None = None
    engagement_rate: Decimal | None = None


@dataclass
class ProfileInput:
    name: str
    status: str = InfluencerStatus.ACTIVE.value
    country: str = ""
    language: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    niches: str = ""
    notes: str = ""
    handles: dict[str, HandleInput] | None = None  # platform -> handle
    rates: dict[str, str] | None = None  # deliverable type -> amount text
    rate_currency: str = "EUR"


def split_niches(text: str) -> list[str]:
    return [n.strip().lower()[:40] for n in re.split(r"[;,|/]", text or "") if n.strip()]


def profile_errors(data: ProfileInput, influencer: Influencer | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = "Enter the influencer's name."
    if data.status not in {s.value for s in InfluencerStatus}:
        errors["status"] = "Choose a status from the list."
    if len(",".join(sorted(set(split_niches(data.niches))))) > 398:
        errors["niches"] = "Too many niche tags: keep them under 400 characters in all."
    if data.country and not re.fullmatch(r"[A-Z]{2}", data.country):
        errors["country"] = "Use a two-letter country code such as DE or GB."
    found_handle = False
    for platform, h in (data.handles or {}).items():
        if not h.handle.strip():
            continue
        try:
            handle = normalise_handle(platform, h.handle)
        except CellError as exc:
            errors[f"{platform}_handle"] = str(exc)
            continue
        found_handle = True
        owner = db.session.scalar(
            select(InfluencerHandle).where(
                InfluencerHandle.platform == platform, InfluencerHandle.handle == handle
            )
        )
        if owner is not None and (influencer is None or owner.influencer_id != influencer.id):
            errors[f"{platform}_handle"] = (
                f"@{handle} on {SocialPlatform(platform).label} already belongs to "
                f"{owner.influencer.name}."
            )
    if not found_handle:
        errors.setdefault("instagram_handle", "Add at least one platform handle.")
    for kind, text in (data.rates or {}).items():
        if text and text.strip():
            try:
                if Money.of(text, data.rate_currency).is_negative():
                    errors[f"rate_{kind}"] = "A rate cannot be negative."
            except MoneyError as exc:
                errors[f"rate_{kind}"] = str(exc)
    return errors


def apply_profile(influencer: Influencer, data: ProfileInput) -> None:
    """Copy a validated profile (handles and rate card included) onto `influencer`."""
    raise_errors(profile_errors(data, influencer if influencer.id else None))
    influencer.name = data.name.strip()
    influencer.status = data.status
    influencer.country = data.country
    influencer.language = data.language.strip()
    influencer.contact_email = data.contact_email.strip()
    influencer.contact_phone = data.contact_phone.strip()
    influencer.niches = split_niches(data.niches)
    influencer.notes = data.notes.strip()
    for platform, h in (data.handles or {}).items():
        existing = influencer.handle_on(platform)
        if not h.handle.strip():
            if existing is not None:
                influencer.handles.remove(existing)
            continue
        if existing is None:
            existing = InfluencerHandle(platform=platform)
            influencer.handles.append(existing)
        existing.handle = normalise_handle(platform, h.handle)
        existing.followers = h.followers or 0
        existing.engagement_rate = h.engagement_rate
    by_kind = {r.deliverable_type: r for r in influencer.rates}
    for kind, text in (data.rates or {}).items():
        rate = by_kind.get(kind)
        if not text or not text.strip():
            if rate is not None:
                influencer.rates.remove(rate)
            continue
        if rate is None:
            rate = InfluencerRate(deliverable_type=kind)
            influencer.rates.append(rate)
        rate.amount = Money.of(text, data.rate_currency)


def create_influencer(data: ProfileInput) -> Influencer:
    influencer = Influencer(name="", niches_csv="")
    apply_profile(influencer, data)
    db.session.add(influencer)
    db.session.flush()
    return influencer


ROSTER_SORTS = ("name", "followers", "engagement", "country", "updated")


@dataclass
class RosterQuery:
    q: str = ""
    platform: str = ""
    niche: str = ""
    country: str = ""
    status: str = ""
    min_followers: int | None = None
    max_followers: int | None = None
    min_engagement: Decimal | None = None
    sort: str = "name"
    desc: bool = False


def search_roster(query: RosterQuery) -> Select:
    h = InfluencerHandle
    stmt = select(Influencer)
    if query.q:
        like = f"%{query.q.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Influencer.name).like(like),
                exists().where(h.influencer_id == Influencer.id, h.handle.like(like)),
            )
        )
    handle_conditions = []
    if query.platform:
        handle_conditions.append(h.platform == query.platform)
    if query.min_followers is not None:
        handle_conditions.append(h.followers >= query.min_followers)
    if query.max_followers is not None:
        handle_conditions.append(h.followers <= query.max_followers)
    if query.min_engagement is not None:
        handle_conditions.append(h.engagement_rate >= query.min_engagement)
    if handle_conditions:
        # One handle must meet every condition: "10k–50k followers on TikTok".
        one_handle = exists().where(h.influencer_id == Influencer.id, and_(*handle_conditions))
        stmt = stmt.where(one_handle)
    if query.niche:
        stmt = stmt.where(Influencer.niches_csv.like(f"%,{query.niche.lower()},%"))
    if query.country:
        stmt = stmt.where(Influencer.country == query.country)
    if query.status:
        stmt = stmt.where(Influencer.status == query.status)
    followers = (
        select(func.coalesce(func.max(h.followers), 0))
        .where(h.influencer_id == Influencer.id)
        .scalar_subquery()
    )
    engagement = (
        select(func.coalesce(func.max(h.engagement_rate), 0))
        .where(h.influencer_id == Influencer.id)
        .scalar_subquery()
    )
    column = {
        "name": func.lower(Influencer.name),
        "followers": followers,
        "engagement": engagement,
        "country": Influencer.country,
        "updated": Influencer.updated_at,
    }.get(query.sort, func.lower(Influencer.name))
    return stmt.order_by(column.desc() if query.desc else column.asc(), Influencer.id)


def known_niches() -> list[str]:
    values = db.session.scalars(select(Influencer.niches_csv).distinct().limit(2000))
    return sorted({n for v in values for n in v.split(",") if n})


def known_countries() -> list[str]:
    rows = db.session.scalars(select(Influencer.country).where(Influencer.country != "").distinct())
    return sorted(rows)


def slug(text: str, limit: int = 30) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "x"
