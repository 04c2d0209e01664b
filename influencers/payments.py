"""Payment milestones: plans, exact splits of the fee, gating by verified deliverables, paying.

pending → payable (its condition met: contract signed, or a deliverable verified) → paid.
"""

from __future__ import annotations

from datetime import date

from core.extensions import db
from core.locking import lock, lock_where
from core.models import User
from core.rules import Problems
from influencers.models import (
    COMMITTED_STATUSES,
    DeliverableStatus,
    MilestoneCondition,
    MilestoneStatus,
    Partnership,
    PartnershipStatus,
    PaymentMilestone,
)
from influencers.services import InfluencerError

D = DeliverableStatus


# --- payments -------------------------------------------------------------------------------

MC = MilestoneCondition
PLANS: dict[str, tuple[str, list[tuple[str, int, MilestoneCondition]]]] = {
    "half_half": (
        "50% on contract, 50% on verified deliverables",
        [("50% on contract", 5000, MC.CONTRACT), ("50% on delivery", 5000, MC.ALL_DELIVERABLES)],
    ),
    "on_contract": ("100% on contract", [("Full fee on contract", 10000, MC.CONTRACT)]),
    "on_delivery": (
        "100% on verified deliverables",
        [("Full fee on delivery", 10000, MC.ALL_DELIVERABLES)],
    ),
    "custom": ("Custom (add milestones yourself)", []),
}


def split(fee_minor: int, shares_bp: list[int]) -> list[int]:
    """Amounts for basis-point shares; when they cover 100 % they add up to the fee exactly."""
    amounts = [fee_minor * bp // 10000 for bp in shares_bp]
    if amounts and sum(shares_bp) == 10000:
        amounts[-1] += fee_minor - sum(amounts)
    return amounts


def apply_payment_plan(p: Partnership, plan: str) -> None:
    if plan not in PLANS:
        raise InfluencerError("Choose a payment plan.", "plan")
    for label, share, condition in PLANS[plan][1]:
        add_milestone(p, label, share, condition.value, None)


def _editable_plan(p: Partnership) -> None:
    if p.status not in (PartnershipStatus.PROSPECT.value, PartnershipStatus.NEGOTIATING.value):
        raise InfluencerError(
            "Payment milestones are fixed once the partnership is contracted.", "milestones"
        )


def add_milestone(
    p: Partnership, label: str, share_bp: int, condition: str, deliverable_id: int | None
) -> PaymentMilestone:
    if p.id is not None:
        lock_plan(p)
    _editable_plan(p)
    label = (label or "").strip()
    if not label:
        raise InfluencerError("Name the milestone, e.g. “50% on contract”.", "label")
    if not 0 < share_bp <= 10000:
        raise InfluencerError("The share must be above 0 % and at most 100 %.", "share")
    if sum(m.share_bp for m in p.milestones) + share_bp > 10000:
        raise InfluencerError("The milestones would add up to more than 100 % of the fee.", "share")
    if condition not in {c.value for c in MC}:
        raise InfluencerError("Choose when the milestone becomes payable.", "condition")
    deliverable = None
    if condition == MC.DELIVERABLE.value:
        deliverable = next((d for d in p.deliverables if d.id == deliverable_id), None)
        if deliverable is None:
            raise InfluencerError("Choose one of this partnership's deliverables.", "deliverable")
    milestone = PaymentMilestone(
        label=label[:120],
        share_bp=share_bp,
        amount_minor=0,
        currency=p.currency,
        condition=condition,
        deliverable=deliverable,
        position=len(p.milestones),
        status=MilestoneStatus.PENDING.value,
    )
    p.milestones.append(milestone)
    resplit_milestones(p)
    return milestone


def remove_milestone(m: PaymentMilestone) -> None:
    p = m.partnership
    if m not in lock_plan(p):
        raise InfluencerError("This milestone was removed meanwhile.", "milestones")
    _editable_plan(p)
    p.milestones.remove(m)
    resplit_milestones(p)


def resplit_milestones(p: Partnership) -> None:
    """Keep milestone amounts in step with the fee (before contract) and its currency."""
    if p.is_committed or not p.milestones:
        return
    for m, amount in zip(
        p.milestones, split(p.fee_minor, [m.share_bp for m in p.milestones]), strict=True
    ):
        m.amount_minor, m.currency = amount, p.currency
        m.due_date = m.deliverable.due_date if m.deliverable else None


def check_plan_complete(p: Partnership) -> None:
    total = sum(m.share_bp for m in p.milestones)
    if p.milestones and total != 10000:
        raise InfluencerError(
            f"The payment milestones cover {total / 100:g} % of the fee; make them add up to "
            "100 % before contracting.",
            "status",
        )


def condition_met(m: PaymentMilestone) -> bool:
    p = m.partnership
    if p.status not in COMMITTED_STATUSES:
        return False
    if m.condition == MC.CONTRACT.value:
        return True
    if m.condition == MC.DELIVERABLE.value:
        return m.deliverable is not None and m.deliverable.status == D.VERIFIED.value
    return bool(p.deliverables) and all(d.status == D.VERIFIED.value for d in p.deliverables)


def refresh_milestones(p: Partnership) -> None:
    """pending ⇄ payable from the conditions; paid stays paid."""
    for m in p.milestones:
        if m.status != MilestoneStatus.PAID.value:
            met = condition_met(m)
            m.status = (MilestoneStatus.PAYABLE if met else MilestoneStatus.PENDING).value


def lock_plan(p: Partnership) -> list[PaymentMilestone]:
    """Lock the partnership and every milestone of it, re-read (a payment or a plan edit
    writes them all: `refresh_milestones`, `resplit_milestones`)."""
    lock(p)
    return lock_where(PaymentMilestone, PaymentMilestone.partnership_id == p.id)


def pay(m: PaymentMilestone, paid_on: date | None, reference: str, user: User) -> None:
    """Mark a payable milestone paid. Of two people paying it at once, the second is told who
    paid it, when and with which reference, and changes nothing."""
    lock_plan(m.partnership)
    if m.status == MilestoneStatus.PAID.value:
        by = f" by {m.paid_by.name}" if m.paid_by else ""
        raise InfluencerError(
            f"Already marked paid{by} on {m.paid_on:%d %b %Y} (reference {m.reference}).",
            "paid_on",
        )
    refresh_milestones(m.partnership)
    if m.status != MilestoneStatus.PAYABLE.value:
        if m.condition == MC.DELIVERABLE.value and m.deliverable is not None:
            why = f"it is paid once “{m.deliverable}” is verified"
        elif m.condition == MC.ALL_DELIVERABLES.value:
            why = "it is paid once every deliverable is verified"
        else:
            why = "the partnership is not contracted"
        raise InfluencerError(f"“{m.label}” cannot be paid yet: {why}.", "paid_on")
    problems = Problems(InfluencerError)
    if paid_on is None or paid_on > date.today():
        problems.add("Enter the payment date (today or earlier).", "paid_on")
    reference = (reference or "").strip()
    if not reference:
        problems.add("Enter the payment reference (invoice or transfer id).", "reference")
    problems.raise_any()
    m.status, m.paid_on, m.reference, m.paid_by_id = (
        MilestoneStatus.PAID.value,
        paid_on,
        reference[:120],
        user.id,
    )
    db.session.flush()
