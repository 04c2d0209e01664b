"""Deliverables (steps, who may take them, proof of post, metrics, tracking links) and payment
milestones (plans, exact splits, gating by verification, paying)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.extensions import db
from core.links import public_https_problem
from core.models import Role, User
from core.money import Money, MoneyError
from core.types import utcnow
from influencers.models import (
    DONE_STATUSES,
    METRIC_FIELDS,
    Deliverable,
    DeliverableStatus,
    DeliverableType,
    MilestoneStatus,
    Partnership,
    PartnershipStatus,
    PaymentMilestone,
    SocialPlatform,
)
from influencers.payments import lock_plan, refresh_milestones
from influencers.services import InfluencerError, raise_errors, slug

D = DeliverableStatus
A, M, C = Role.ADMIN.value, Role.MARKETER.value, Role.COORDINATOR.value


@dataclass(frozen=True)
class Step:
    to: DeliverableStatus
    label: str
    roles: frozenset[str]
    fields: tuple[str, ...]  # the only form fields this step reads


# Coordinators submit drafts, publish and verify; marketers approve content or ask for changes.
STEPS: dict[DeliverableStatus, tuple[Step, ...]] = {
    D.PLANNED: (Step(D.DRAFT_SUBMITTED, "Submit draft", frozenset({A, C}), ("content_url",)),),
    D.DRAFT_SUBMITTED: (
        Step(D.APPROVED, "Approve content", frozenset({A, M}), ("reviewer_comments",)),
        Step(D.CHANGES_REQUESTED, "Request changes", frozenset({A, M}), ("reviewer_comments",)),
    ),
    D.CHANGES_REQUESTED: (
        Step(D.DRAFT_SUBMITTED, "Resubmit draft", frozenset({A, C}), ("content_url",)),
    ),
    D.APPROVED: (
        Step(D.PUBLISHED, "Mark published", frozenset({A, C}), ("published_on", "proof_url")),
    ),
    # The proof is saved by one person and verified by another (or an admin): the verify step
    # reads no link, so nobody verifies a proof they typed in the same breath.
    D.PUBLISHED: (
        Step(D.PUBLISHED, "Save proof of post", frozenset({A, C}), ("proof_url",)),
        Step(D.VERIFIED, "Verify proof of post", frozenset({A, C}), ()),
    ),
    D.VERIFIED: (),
}

PLATFORM_DOMAINS = {
    "instagram": ("instagram.com", "instagr.am"),
    "tiktok": ("tiktok.com",),
    "youtube": ("youtube.com", "youtu.be"),
    "x": ("x.com", "twitter.com"),
    "twitch": ("twitch.tv",),
    "facebook": ("facebook.com", "fb.watch", "fb.com"),
    "linkedin": ("linkedin.com", "lnkd.in"),
    "pinterest": ("pinterest.com", "pin.it"),
}


def steps_for(deliverable: Deliverable, user: User) -> list[Step]:
    return [
        s
        for s in STEPS[deliverable.status_enum]
        if user.role in s.roles and (s.to is not D.VERIFIED or may_verify(deliverable, user))
    ]


def may_verify(deliverable: Deliverable, user: User) -> bool:
    """Anyone allowed but the person who submitted the proof; an admin always."""
    return user.role == A or deliverable.proof_submitted_by_id != user.id


def check_web_url(url: str, field: str) -> str:
    url = (url or "").strip()
    if len(url) > 500:
        raise InfluencerError("Keep the link under 500 characters.", field)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InfluencerError("Enter a full http:// or https:// link.", field)
    if parts.username or parts.password or any(ord(ch) < 33 for ch in url):
        raise InfluencerError("This does not look like a public link.", field)
    return url


def check_proof_url(deliverable: Deliverable, url: str) -> str:
    """A proof of post: a public https link on the deliverable's platform (or on its blog's
    domain), never an IP address, a local name or a user-info trick."""
    url = check_web_url(url, "proof_url")
    problem = public_https_problem(url)
    if problem:
        raise InfluencerError(problem, "proof_url")
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    platform = deliverable.platform
    if platform == SocialPlatform.BLOG.value:
        blog = deliverable.partnership.influencer.handle_on("blog")
        domains: tuple[str, ...] = (blog.handle.lower().rstrip("."),) if blog else ()
        if not domains:
            raise InfluencerError(
                "Add the influencer's blog (its domain) to their profile first: the proof "
                "must be a link on it.",
                "proof_url",
            )
    else:
        domains = PLATFORM_DOMAINS.get(platform, ())
    if not domains or not any(host == d or host.endswith("." + d) for d in domains):
        where = " or ".join(domains)
        raise InfluencerError(
            f"The proof must be a link on {SocialPlatform(platform).label} ({where}).",
            "proof_url",
        )
    return url


def move(deliverable: Deliverable, to: str, form: dict[str, Any], user: User) -> None:
    """Take one step; only the step's own fields are read from `form` (role allow-list)."""
    try:
        target = DeliverableStatus(to)
    except ValueError:
        raise InfluencerError(f"{to!r} is not a deliverable status.", "status") from None
    step = next((s for s in STEPS[deliverable.status_enum] if s.to is target), None)
    if step is None:
        raise InfluencerError(
            f"A {deliverable.status_enum.label.lower()} deliverable cannot become "
            f"{target.label.lower()}.",
            "status",
        )
    if user.role not in step.roles:
        who = "a marketer" if M in step.roles else "an influencer coordinator"
        raise InfluencerError(f"“{step.label}” is for {who}.", "status")
    p = deliverable.partnership
    if p.status not in (PartnershipStatus.CONTRACTED.value, PartnershipStatus.ACTIVE.value):
        raise InfluencerError(
            f"The partnership is {p.status}: deliverables move once it is contracted or active.",
            "status",
        )
    values = {k: form.get(k) for k in step.fields}
    if target is D.DRAFT_SUBMITTED:
        deliverable.content_url = check_web_url(values["content_url"] or "", "content_url")
    elif target is D.CHANGES_REQUESTED:
        comments = (values["reviewer_comments"] or "").strip()
        if not comments:
            raise InfluencerError("Say what should change.", "reviewer_comments")
        deliverable.reviewer_comments = comments[:5000]
    elif target is D.APPROVED:
        comments = (values["reviewer_comments"] or "").strip()
        if comments:
            deliverable.reviewer_comments = comments[:5000]
        deliverable.approved_by_id = user.id
    elif target is D.PUBLISHED and deliverable.status_enum is D.PUBLISHED:
        if not (values["proof_url"] or "").strip():
            raise InfluencerError("Enter the link to the published post.", "proof_url")
        _save_proof(deliverable, values["proof_url"], user)
    elif target is D.PUBLISHED:
        published_on = values["published_on"] or date.today()
        if not isinstance(published_on, date) or published_on > date.today():
            raise InfluencerError("The publish date cannot be in the future.", "published_on")
        deliverable.published_on = published_on
        if values["proof_url"]:
            _save_proof(deliverable, values["proof_url"], user)
    elif target is D.VERIFIED:
        _check_verifier(deliverable, user)
        deliverable.verified_at = utcnow()
        deliverable.verified_by_id = user.id
    deliverable.status = target.value
    lock_plan(p)  # milestones turn payable here while someone may be paying one
    refresh_milestones(p)
    db.session.flush()


def _save_proof(deliverable: Deliverable, url: str, user: User) -> None:
    deliverable.proof_url = check_proof_url(deliverable, url)
    deliverable.proof_submitted_by_id = user.id


def _check_verifier(deliverable: Deliverable, user: User) -> None:
    """Verification is a second pair of eyes on a stored, still valid proof."""
    if not deliverable.proof_url:
        raise InfluencerError(
            "Save the proof-of-post link first; then someone else verifies it.", "status"
        )
    try:
        check_proof_url(deliverable, deliverable.proof_url)
    except InfluencerError as exc:
        raise InfluencerError(f"The saved proof cannot be verified: {exc}", "status") from None
    if not may_verify(deliverable, user):
        raise InfluencerError(
            "You submitted this proof of post: another coordinator or an admin verifies it.",
            "status",
        )


# --- deliverable details --------------------------------------------------------------------


def deliverable_errors(p: Partnership, data: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.get("type") not in {t.value for t in DeliverableType}:
        errors["type"] = "Choose a deliverable type."
    if data.get("platform") not in {s.value for s in SocialPlatform}:
        errors["platform"] = "Choose a platform."
    if not isinstance(data.get("due_date"), date):
        errors["due_date"] = "Set a due date."
    if p.status in (PartnershipStatus.COMPLETED.value, PartnershipStatus.CANCELLED.value):
        errors["type"] = f"The partnership is {p.status}: it takes no new deliverables."
    return errors


def save_deliverable(p: Partnership, data: dict[str, Any], d: Deliverable | None) -> Deliverable:
    raise_errors(deliverable_errors(p, data))
    if d is None:
        d = Deliverable(partnership=p, status=D.PLANNED.value)
        db.session.add(d)
    elif d.status in DONE_STATUSES and (d.platform != data["platform"]):
        raise InfluencerError("A published deliverable keeps its platform.", "platform")
    d.type, d.platform, d.due_date = data["type"], data["platform"], data["due_date"]
    d.title = (data.get("title") or "").strip()[:200]
    db.session.flush()
    if not d.utm_content:
        d.utm_content = f"{d.type.replace('_', '-')}-{d.id}"
        d.utm_source = d.platform
        d.utm_medium = "influencer"
    lock_plan(p)
    refresh_milestones(p)
    return d


def save_metrics(d: Deliverable, values: dict[str, str]) -> None:
    """Hand-entered metrics: whole non-negative numbers; blank clears; revenue is money."""
    from influencers.csvread import CellError, parse_count

    errors: dict[str, str] = {}
    clean: dict[str, int | None] = {}
    for name in METRIC_FIELDS:
        text = (values.get(name) or "").strip()
        try:
            clean[name] = parse_count(text) if text else None
        except CellError as exc:
            errors[name] = str(exc)
    revenue_text = (values.get("revenue") or "").strip()
    try:
        revenue = Money.of(revenue_text, d.partnership.currency) if revenue_text else None
        if revenue is not None and revenue.is_negative():
            errors["revenue"] = "Revenue cannot be negative."
    except MoneyError as exc:
        errors["revenue"] = str(exc)
    raise_errors(errors)
    for name, value in clean.items():
        setattr(d, name, value)
    d.revenue_minor = revenue.minor if revenue is not None else None
    db.session.flush()


def save_tracking(d: Deliverable, values: dict[str, str]) -> None:
    errors: dict[str, str] = {}
    try:
        landing = check_web_url(values.get("landing_url") or "", "landing_url")
    except InfluencerError as exc:
        errors["landing_url"] = str(exc)
    clean = {}
    for name in ("utm_source", "utm_medium", "utm_content"):
        text = (values.get(name) or "").strip()
        clean[name] = slug(text, 80) if text else ""
        if not text:
            errors[name] = f"Enter a value for {name}."
    raise_errors(errors)
    d.landing_url = landing
    for name, value in clean.items():
        setattr(d, name, value)
    db.session.flush()


def tracking_link(d: Deliverable) -> str | None:
    """The landing URL with utm_source/medium/campaign/content (existing query kept)."""
    if not d.landing_url or not d.partnership.utm_campaign:
        return None
    parts = urlsplit(d.landing_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if not k.startswith("utm_")]
    query += [
        ("utm_source", d.utm_source),
        ("utm_medium", d.utm_medium),
        ("utm_campaign", d.partnership.utm_campaign),
        ("utm_content", d.utm_content),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- lists ----------------------------------------------------------------------------------

LIVE = (
    PartnershipStatus.CONTRACTED.value,
    PartnershipStatus.ACTIVE.value,
    PartnershipStatus.NEGOTIATING.value,
    PartnershipStatus.PROSPECT.value,
)


def _deliverables(statuses: tuple[str, ...] = LIVE):
    return (
        select(Deliverable)
        .join(Partnership)
        .where(Partnership.status.in_(statuses))
        .options(joinedload(Deliverable.partnership))
        .order_by(Deliverable.due_date, Deliverable.id)
    )


def dashboard(today: date | None = None, limit: int = 200) -> dict[str, list[Any]]:
    """The coordinator's day: due this week, overdue, awaiting approval, awaiting proof."""
    today = today or date.today()
    open_ = Deliverable.status.not_in(DONE_STATUSES)
    q = {
        "overdue": _deliverables().where(open_, Deliverable.due_date < today),
        "due_this_week": _deliverables().where(
            open_, Deliverable.due_date >= today, Deliverable.due_date <= today + timedelta(6)
        ),
        "awaiting_approval": _deliverables().where(Deliverable.status == D.DRAFT_SUBMITTED.value),
        "awaiting_proof": _deliverables().where(
            Deliverable.status.in_((D.APPROVED.value, D.PUBLISHED.value))
        ),
    }
    result: dict[str, list[Any]] = {
        k: list(db.session.scalars(s.limit(limit)).unique()) for k, s in q.items()
    }
    result["payable"] = list(
        db.session.scalars(
            select(PaymentMilestone)
            .where(PaymentMilestone.status == MilestoneStatus.PAYABLE.value)
            .order_by(PaymentMilestone.due_date, PaymentMilestone.id)
            .limit(limit)
        )
    )
    return result


def deliverables_in_month(year: int, month: int) -> list[Deliverable]:
    """Deliverables due in a month, for the campaign calendar."""
    first = date(year, month, 1)
    last = date(year + (month == 12), month % 12 + 1, 1)
    shown = (*LIVE, PartnershipStatus.COMPLETED.value)
    stmt = _deliverables(shown).where(Deliverable.due_date >= first, Deliverable.due_date < last)
    return list(db.session.scalars(stmt).unique())
