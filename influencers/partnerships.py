"""Partnership rules: terms (per-role allow-list), the status workflow, the budget commitment
guard rail, promo codes and UTM campaign names. Services flush; the caller commits."""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Any

from sqlalchemy import func, select

from campaigns.models import Campaign, CampaignStatus
from core.audit import last_change
from core.extensions import db
from core.locking import lock, when
from core.models import Role, User
from core.money import Money
from core.types import utcnow
from influencers.models import (
    COMMITTED_STATUSES,
    Influencer,
    InfluencerStatus,
    Partnership,
    PartnershipStatus,
)
from influencers.services import MAX_ID, InfluencerError, raise_errors, slug

OWNER_ROLES = (Role.COORDINATOR.value, Role.ADMIN.value)


# --- partnerships ---------------------------------------------------------------------------

P = PartnershipStatus
TRANSITIONS: dict[PartnershipStatus, tuple[PartnershipStatus, ...]] = {
    P.PROSPECT: (P.NEGOTIATING, P.CANCELLED),
    P.NEGOTIATING: (P.CONTRACTED, P.PROSPECT, P.CANCELLED),
    P.CONTRACTED: (P.ACTIVE, P.CANCELLED),
    P.ACTIVE: (P.COMPLETED, P.CANCELLED),
    P.COMPLETED: (),
    P.CANCELLED: (),
}
ACTION_LABELS = {
    P.PROSPECT: "Back to prospect",
    P.NEGOTIATING: "Start negotiating",
    P.CONTRACTED: "Mark contracted",
    P.ACTIVE: "Mark active",
    P.COMPLETED: "Complete",
    P.CANCELLED: "Cancel",
}

TERM_FIELDS = (
    "fee",
    "payment_terms",
    "usage_rights",
    "exclusivity_days",
    "start_date",
    "end_date",
    "notes",
)
# Status never comes from a form: it moves through `transition` only.
EDITABLE_BY_ROLE = {
    Role.COORDINATOR.value: TERM_FIELDS,
    Role.ADMIN.value: (*TERM_FIELDS, "owner_id"),
}


def default_utm_campaign(partnership: Partnership) -> str:
    return f"{slug(partnership.campaign.name)}-{slug(partnership.influencer.name, 20)}"


def terms_errors(p: Partnership, data: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    fee = data.get("fee")
    if "fee" in data:
        if not isinstance(fee, Money):
            errors["fee"] = "Enter the fee, e.g. 2500 or 2,500.00."
        elif fee.is_negative():
            errors["fee"] = "The fee cannot be negative."
        elif p.is_committed and (fee.minor != p.fee_minor or fee.currency != p.currency):
            errors["fee"] = (
                "The fee is contracted and committed against the budget; it cannot change now."
            )
    days = data.get("exclusivity_days")
    if days is not None and not (isinstance(days, int) and 0 <= days <= 3650):
        errors["exclusivity_days"] = "Use a number of days from 0 to 3650."
    start, end = data.get("start_date"), data.get("end_date")
    if start and end and end < start:
        errors["end_date"] = "The partnership must end on or after its start."
    if "owner_id" in data:
        owner_id = data["owner_id"]
        valid = isinstance(owner_id, int) and 0 < owner_id <= MAX_ID
        owner = db.session.get(User, owner_id) if valid else None
        if owner is None or not owner.active or owner.role not in OWNER_ROLES:
            errors["owner_id"] = "Choose an active coordinator or admin as the owner."
    return errors


def apply_terms(p: Partnership, data: dict[str, Any], role: str) -> None:
    """Copy the fields `role` may change (no mass assignment); raise InfluencerError."""
    from influencers.payments import resplit_milestones

    allowed = EDITABLE_BY_ROLE.get(role, ())
    clean = {k: v for k, v in data.items() if k in allowed}
    if p.id is not None:
        # Re-read: the fee may have been contracted (and so frozen) since the form was opened.
        lock(p)
    raise_errors(terms_errors(p, clean))
    for key, value in clean.items():
        setattr(p, key, value)
    resplit_milestones(p)


def create_partnership(
    owner: User, influencer: Influencer, campaign: Campaign, data: dict[str, Any], plan: str
) -> Partnership:
    from influencers.payments import apply_payment_plan

    if influencer.status == InfluencerStatus.DO_NOT_WORK_WITH.value:
        raise InfluencerError(f"{influencer.name} is marked do-not-work-with.", "influencer_id")
    if campaign.status in (CampaignStatus.COMPLETED.value, CampaignStatus.ARCHIVED.value):
        raise InfluencerError(f"“{campaign.name}” is {campaign.status}.", "campaign_id")
    fee = data.get("fee")
    p = Partnership(
        influencer=influencer,
        campaign=campaign,
        owner_id=owner.id,
        status=P.PROSPECT.value,
        currency=fee.currency if isinstance(fee, Money) else campaign.currency,
        fee_minor=0,
        exclusivity_days=0,
    )
    apply_terms(p, data, owner.role)
    db.session.add(p)
    db.session.flush()
    p.utm_campaign = unique_utm_campaign(p)
    apply_payment_plan(p, plan)
    db.session.flush()
    return p


def unique_utm_campaign(p: Partnership) -> str:
    base = default_utm_campaign(p)
    taken = db.session.scalar(
        select(Partnership.id).where(Partnership.utm_campaign == base, Partnership.id != p.id)
    )
    return base if taken is None else f"{base}-{p.id}"


def allowed_transitions(p: Partnership) -> tuple[PartnershipStatus, ...]:
    return TRANSITIONS[p.status_enum]


def transition(p: Partnership, to: str) -> None:
    """Move `p` to status `to`. Locks the campaign first: contracting is checked against the
    campaign's other commitments and its influencer allocation, which a budget reallocation
    changes under the same lock."""
    from influencers.payments import check_plan_complete, lock_plan, refresh_milestones

    try:
        target = PartnershipStatus(to)
    except ValueError:
        raise InfluencerError(f"{to!r} is not a partnership status.", "status") from None
    lock(p.campaign)
    lock_plan(p)
    if p.status == target.value:
        entry = last_change(p, "status")
        by = f" by {entry.actor.name if entry.actor else entry.actor_label}" if entry else ""
        raise InfluencerError(f"Already {target.value}{by} {when(p.status_changed_at)}.", "status")
    if target not in TRANSITIONS[p.status_enum]:
        allowed = ", ".join(s.value for s in TRANSITIONS[p.status_enum]) or "none"
        raise InfluencerError(
            f"A {p.status} partnership cannot become {target.value} (allowed: {allowed}).",
            "status",
        )
    if target is P.CONTRACTED:
        check_plan_complete(p)
        check_commitment(p)
        p.contracted_at = utcnow()
    p.status = target.value
    p.status_changed_at = utcnow()
    refresh_milestones(p)
    db.session.flush()


def check_commitment(p: Partnership) -> None:
    """The guard rail: contracted fees on a campaign stay within its influencer allocation.

    Call it with the campaign and the partnership locked (`transition` does): a budget
    reallocation out of the allocation locks the campaign too, so the two never pass at once.
    """
    from budgets import api as budgets_api

    if p.fee_minor == 0:
        return  # a gifted collaboration commits no money
    allocation = budgets_api.influencer_allocation(p.campaign_id, p.currency)
    campaign = p.campaign.name
    if allocation is None:
        raise InfluencerError(
            f"Finance must approve an influencer allocation for “{campaign}” before a fee "
            "can be contracted.",
            "status",
        )
    committed = committed_in(p.campaign_id, p.currency, exclude_id=p.id)
    total = committed + p.fee
    if allocation < total:
        left = allocation - committed
        raise InfluencerError(
            f"Contracting {p.fee} would bring influencer commitments on “{campaign}” to "
            f"{total}, over the approved influencer allocation of {allocation} "
            f"({left if not left.is_negative() else Money.zero(p.currency)} left). "
            "Ask finance to raise the allocation, or lower the fee.",
            "status",
        )


def committed_in(campaign_id: int, currency: str, exclude_id: int | None = None) -> Money:
    """Contracted fees of a campaign in `currency`, each converted at its contract day's rate;
    InfluencerError when a rate is missing (a partial sum would understate them)."""
    from budgets import api as budgets_api

    committed = Money.zero(currency)
    stmt = select(Partnership).where(
        Partnership.campaign_id == campaign_id, Partnership.status.in_(COMMITTED_STATUSES)
    )
    if exclude_id is not None:
        stmt = stmt.where(Partnership.id != exclude_id)
    for other in db.session.scalars(stmt):
        fee = other.fee
        if fee.currency != currency:
            day = other.contracted_at.date() if other.contracted_at else date.today()
            converted = budgets_api.convert(fee, currency, day)
            if converted is None:
                raise InfluencerError(
                    f"No {fee.currency}→{currency} exchange rate to count the fee of "
                    f"{other.influencer.name}; ask finance to add one.",
                    "status",
                )
            fee = converted
        committed = committed + fee
    return committed


def committed_total(campaign_id: int) -> list[Money]:
    """Contracted fees of a campaign, one Money per currency."""
    rows = db.session.execute(
        select(Partnership.currency, func.sum(Partnership.fee_minor))
        .where(Partnership.campaign_id == campaign_id, Partnership.status.in_(COMMITTED_STATUSES))
        .group_by(Partnership.currency)
        .order_by(Partnership.currency)
    )
    return [Money(int(total or 0), currency) for currency, total in rows]


# --- promo codes ----------------------------------------------------------------------------

_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{2,31}")
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes


def set_promo_code(p: Partnership, requested: str = "") -> str:
    """Give `p` a unique promo code: the one asked for, or NAME + 4 random characters."""
    if p.status == P.CANCELLED.value:
        raise InfluencerError("A cancelled partnership gets no promo code.", "promo_code")
    code = requested.strip().upper()
    if code:
        if not _CODE.fullmatch(code):
            raise InfluencerError(
                "Use 3–32 letters, digits, - or _ (starting with a letter or digit).",
                "promo_code",
            )
        owner = db.session.scalar(select(Partnership).where(Partnership.promo_code == code))
        if owner is not None and owner.id != p.id:
            raise InfluencerError(f"{code} is already used by {owner}.", "promo_code")
    else:
        stem = re.sub(r"[^A-Z0-9]", "", p.influencer.name.upper())[:10] or "FD"
        for _ in range(20):
            suffix = "".join(secrets.choice(_ALPHABET) for _ in range(4))
            code = f"{stem}{suffix}"
            taken = db.session.scalar(select(Partnership.id).where(Partnership.promo_code == code))
            if taken is None:
                break
    p.promo_code = code
    db.session.flush()
    return code
