"""Campaign rules: the status workflow, SMART validation, search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, or_, select

from campaigns.budget_rails import budget_problems
from campaigns.metrics import METRICS, Kind
from campaigns.models import Campaign, CampaignStatus, Channel, Direction, Goal, Objective
from core.extensions import db
from core.locking import lock
from core.models import User
from core.money import Money, MoneyError, exponent
from core.rules import Problem, RuleError
from core.types import utcnow

S = CampaignStatus
TRANSITIONS: dict[CampaignStatus, tuple[CampaignStatus, ...]] = {
    S.DRAFT: (S.PLANNED, S.ARCHIVED),
    S.PLANNED: (S.ACTIVE, S.DRAFT, S.ARCHIVED),
    S.ACTIVE: (S.PAUSED, S.COMPLETED),
    S.PAUSED: (S.ACTIVE, S.COMPLETED),
    S.COMPLETED: (S.ARCHIVED,),
    S.ARCHIVED: (),
}

ACTION_LABELS = {
    S.PLANNED: "Mark planned",
    S.ACTIVE: "Activate",
    S.PAUSED: "Pause",
    S.COMPLETED: "Complete",
    S.ARCHIVED: "Archive",
    S.DRAFT: "Back to draft",
}


class CampaignError(RuleError):
    """A rule refused the change; `field` says where to show it, `problems` lists them all."""


def allowed_transitions(campaign: Campaign) -> tuple[CampaignStatus, ...]:
    return TRANSITIONS[campaign.status_enum]


def transition(campaign: Campaign, to: str) -> None:
    try:
        target = CampaignStatus(to)
    except ValueError:
        raise CampaignError(f"{to!r} is not a campaign status.") from None
    current = campaign.status_enum
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(s.value for s in TRANSITIONS[current]) or "none"
        raise CampaignError(
            f"A {current.value} campaign cannot become {target.value} (allowed: {allowed})."
        )
    if target is S.ACTIVE and not campaign.goals:
        raise CampaignError("Add at least one SMART goal before activating the campaign.")
    campaign.status = target.value
    campaign.status_changed_at = utcnow()


# --- campaign fields ------------------------------------------------------------------------

EDITABLE_BY_ROLE = {
    # Marketers own their campaigns: they can never hand them to someone else by form post.
    "marketer": (
        "name",
        "objective",
        "channels",
        "brand",
        "product",
        "description",
        "start_date",
        "end_date",
        "currency",
        "planned_budget",
    ),
    "admin": (
        "name",
        "objective",
        "channels",
        "brand",
        "product",
        "description",
        "start_date",
        "end_date",
        "currency",
        "planned_budget",
        "owner_id",
    ),
}


OWNER_ROLES = ("marketer", "admin")
MAX_ID = 2**31 - 1


def campaign_errors(data: dict[str, Any], campaign: Campaign | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if "owner_id" in data:
        owner_id = data["owner_id"]
        valid_id = isinstance(owner_id, int) and 0 < owner_id <= MAX_ID
        owner = db.session.get(User, owner_id) if valid_id else None
        if owner is None or not owner.active or owner.role not in OWNER_ROLES:
            errors["owner_id"] = "Choose an active marketer or admin as the owner."
    start, end = data.get("start_date"), data.get("end_date")
    if start and end and end < start:
        errors["end_date"] = "The flight must end on or after its start date."
    if data.get("objective") and data["objective"] not in {o.value for o in Objective}:
        errors["objective"] = "Choose an objective from the list."
    bad = [c for c in data.get("channels", []) if c not in {ch.value for ch in Channel}]
    if bad:
        errors["channels"] = f"Unknown channel: {', '.join(bad)}."
    elif "channels" in data and not data["channels"]:
        errors["channels"] = "Pick at least one channel."
    budget = data.get("planned_budget")
    if isinstance(budget, Money) and budget.is_negative():
        errors["planned_budget"] = "The planned budget cannot be negative."
    if campaign is not None and start and end:
        early = [g for g in campaign.goals if g.deadline < start]
        outside = early + [g for g in campaign.goals if g.deadline > end]
        if outside:
            field = "start_date" if early else "end_date"
            errors[field if field not in errors else "start_date"] = (
                f"{len(outside)} goal deadline(s) would fall outside the new flight "
                f"(e.g. {outside[0].deadline:%d %b %Y}); move them first."
            )
        currency = data.get("currency")
        if (
            currency
            and currency != campaign.currency
            and any(METRICS[g.metric].kind is Kind.MONEY for g in campaign.goals)
        ):
            errors["currency"] = "Money goals are set in the current currency; remove them first."
    if campaign is not None and "channels" in data and "channels" not in errors:
        dropped = sorted(
            {g.channel for g in campaign.goals if g.channel and g.channel not in data["channels"]}
        )
        if dropped:
            errors["channels"] = (
                f"Goals measure {', '.join(Channel(c).label for c in dropped)}: keep the "
                "channel or change those goals first."
            )
    return errors


def apply_campaign(campaign: Campaign, data: dict[str, Any], role: str) -> None:
    """Copy allowed fields only (no mass assignment); raise CampaignError with every problem.

    An existing campaign is locked and re-read first: budget lines are approved against its
    planned budget, currency and flight under the same lock."""
    allowed = EDITABLE_BY_ROLE.get(role, ())
    clean = {k: v for k, v in data.items() if k in allowed}
    if campaign.id is not None:
        lock(campaign)
    existing = campaign if campaign.id is not None else None
    problems: list[Problem] = list(campaign_errors(clean, existing).items())
    if existing is not None:
        problems += budget_problems(existing, clean)
    CampaignError.raise_all(problems)
    for key, value in clean.items():
        setattr(campaign, key, value)


def create_campaign(owner: User, data: dict[str, Any], role: str) -> Campaign:
    campaign = Campaign(owner_id=owner.id, status=S.DRAFT.value, channels_csv="")
    apply_campaign(campaign, data, role)
    db.session.add(campaign)
    db.session.flush()
    return campaign


# --- SMART goals ----------------------------------------------------------------------------


# A comma only groups thousands: "12,000" is read, "3,5" (a decimal comma) is refused, not 35.
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
# Goal numbers are stored as BIGINT scaled by 10**4; keep well inside that range.
MAX_GOAL_VALUE = Decimal(10) ** 14


def parse_number(text: Any) -> Decimal | None:
    if text is None:
        return None
    if isinstance(text, Decimal):
        return text if text.is_finite() else None
    cleaned = str(text).strip().rstrip("%").strip()
    if "," in cleaned:
        if not _GROUPED.fullmatch(cleaned):
            return None
        cleaned = cleaned.replace(",", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@dataclass
class GoalInput:
    metric: str
    direction: str
    baseline: Any
    target: Any
    deadline: date | None
    owner_id: int | None
    channel: str | None = None
    notes: str = ""


def goal_errors(campaign: Campaign, g: GoalInput) -> tuple[dict[str, str], dict[str, Any]]:
    """Check a goal is SMART. Returns (errors by field, cleaned values)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    metric = METRICS.get(g.metric)
    if metric is None:
        errors["metric"] = "Choose a metric from the catalogue (Specific)."
    if g.direction not in {d.value for d in Direction}:
        errors["direction"] = "Choose 'at least' or 'at most'."
    baseline = parse_number(g.baseline)
    target = parse_number(g.target)
    if target is None:
        errors["target"] = "Enter a numeric target (Measurable), e.g. 2.5 or 12000."
    if baseline is None:
        errors["baseline"] = "Enter the numeric baseline you start from (use 0 for a new metric)."
    if metric and target is not None and baseline is not None:
        for name, value in (("baseline", baseline), ("target", target)):
            # Decimal places that matter: "27.990" has 2, a stored "38.0000" has none.
            places = -value.normalize().as_tuple().exponent
            if value < 0:
                errors[name] = f"The {name} cannot be negative."
            elif value >= MAX_GOAL_VALUE:
                errors[name] = f"The {name} is too large: use a value below {MAX_GOAL_VALUE:,}."
            elif metric.kind is Kind.PERCENT and value > 100:
                errors[name] = f"{metric.label} is a percentage: use a value from 0 to 100."
            elif metric.kind is Kind.COUNT and value != value.to_integral_value():
                errors[name] = f"{metric.label} counts whole numbers."
            elif metric.kind is Kind.MONEY and places > exponent(campaign.currency):
                digits = exponent(campaign.currency)
                errors[name] = f"{campaign.currency} amounts have {digits} decimal places."
            elif places > 4:
                errors[name] = "Use at most 4 decimal places."
        if "target" not in errors and "baseline" not in errors and "direction" not in errors:
            if g.direction == Direction.AT_LEAST and target <= baseline:
                errors["target"] = (
                    f"For 'at least', the target must be above the baseline ({baseline}) "
                    "(Achievable: a goal already met is not a goal)."
                )
            elif g.direction == Direction.AT_MOST and target >= baseline:
                errors["target"] = (
                    f"For 'at most', the target must be below the baseline ({baseline})."
                )
            elif g.direction == Direction.AT_MOST and target == 0 and metric.kind is not Kind.COUNT:
                errors["target"] = f"A {metric.label} of zero cannot be reached."
    if g.deadline is None:
        errors["deadline"] = "Set a deadline (Time-bound)."
    elif not (campaign.start_date <= g.deadline <= campaign.end_date):
        errors["deadline"] = (
            f"The deadline must fall within the flight, {campaign.start_date:%d %b %Y} – "
            f"{campaign.end_date:%d %b %Y}."
        )
    if g.channel and g.channel not in campaign.channels:
        errors["channel"] = (
            "Relevant: pick one of the campaign's channels "
            f"({', '.join(Channel(c).label for c in campaign.channels)}) or all channels."
        )
    valid_id = isinstance(g.owner_id, int) and 0 < g.owner_id <= MAX_ID
    owner = db.session.get(User, g.owner_id) if valid_id else None
    if owner is None or not owner.active:
        errors["owner_id"] = "Choose an active owner who answers for this goal (Achievable)."
    clean.update(
        metric=g.metric,
        direction=g.direction,
        baseline=baseline,
        target=target,
        deadline=g.deadline,
        owner_id=g.owner_id,
        channel=g.channel or None,
        notes=(g.notes or "").strip(),
    )
    return errors, clean


def save_goal(campaign: Campaign, g: GoalInput, goal: Goal | None = None) -> Goal:
    errors, clean = goal_errors(campaign, g)
    CampaignError.raise_all(errors)
    if goal is None:
        goal = Goal(campaign=campaign)
        db.session.add(goal)
    for key, value in clean.items():
        setattr(goal, key, value)
    db.session.flush()
    return goal


# --- search ---------------------------------------------------------------------------------

SORTS = {
    "name": Campaign.name,
    "start": Campaign.start_date,
    "end": Campaign.end_date,
    "status": Campaign.status,
    "budget": Campaign.planned_budget_minor,
    "updated": Campaign.updated_at,
}


@dataclass
class CampaignQuery:
    q: str = ""
    status: str = ""
    channel: str = ""
    owner_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "start"
    desc: bool = False
    include_archived: bool = False


def search(query: CampaignQuery) -> Select:
    stmt = select(Campaign)
    if query.q:
        # "%" and "_" are searched for literally, not as LIKE wildcards.
        text = query.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{text}%"
        stmt = stmt.where(
            or_(
                Campaign.name.ilike(like, escape="\\"),
                Campaign.brand.ilike(like, escape="\\"),
                Campaign.product.ilike(like, escape="\\"),
            )
        )
    if query.status:
        stmt = stmt.where(Campaign.status == query.status)
    elif not query.include_archived:
        stmt = stmt.where(Campaign.status != S.ARCHIVED.value)
    if query.channel:
        stmt = stmt.where(Campaign.channels_csv.like(f"%,{query.channel},%"))
    if query.owner_id:
        stmt = stmt.where(Campaign.owner_id == query.owner_id)
    # A flight overlaps [from, to] when it starts before `to` and ends after `from`.
    if query.date_from:
        stmt = stmt.where(Campaign.end_date >= query.date_from)
    if query.date_to:
        stmt = stmt.where(Campaign.start_date <= query.date_to)
    column = SORTS.get(query.sort, Campaign.start_date)
    stmt = stmt.order_by(column.desc() if query.desc else column.asc(), Campaign.id)
    return stmt


def campaigns_in_month(year: int, month: int) -> list[Campaign]:
    first = date(year, month, 1)
    last = date(year + (month == 12), month % 12 + 1, 1)
    stmt = (
        select(Campaign)
        .where(Campaign.start_date < last, Campaign.end_date >= first)
        .where(Campaign.status != S.ARCHIVED.value)
        .order_by(Campaign.start_date, Campaign.name)
    )
    return list(db.session.scalars(stmt))


def money_from_form(amount: Any, currency: str) -> Money:
    try:
        return Money.of(amount if amount not in (None, "") else "0", currency)
    except MoneyError as exc:
        raise CampaignError(str(exc), "planned_budget") from None
