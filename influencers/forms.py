"""Influencer forms. Views pass services only the fields a role may change (allow-lists live in
the services: partnerships.EDITABLE_BY_ROLE and workflow.STEPS)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from core.money import COMMON_CURRENCIES
from influencers.models import (
    METRIC_FIELDS,
    DeliverableType,
    InfluencerStatus,
    MilestoneCondition,
    SocialPlatform,
)
from influencers.payments import PLANS

CURRENCIES = {c: c for c in COMMON_CURRENCIES}
PLATFORM_CHOICES = {p.value: p.label for p in SocialPlatform}
TYPE_CHOICES = {t.value: t.label for t in DeliverableType}


def no_nul(form, field) -> None:
    """PostgreSQL text cannot hold NUL: refuse it beside the field instead of failing on save."""
    if field.data and "\x00" in field.data:
        raise ValidationError("Remove the invisible NUL character from this text.")


def _text(label: str, max_len: int = 200, **kw) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=max_len), no_nul], **kw)


def percent_or_blank(form, field) -> None:
    from influencers.csvread import CellError, parse_percent

    if field.data and field.data.strip():
        try:
            field.parsed = parse_percent(field.data)
        except CellError as exc:
            raise ValidationError(str(exc)) from None


def count_or_blank(form, field) -> None:
    from influencers.csvread import CellError, parse_count

    if field.data and field.data.strip():
        try:
            field.parsed = parse_count(field.data)
        except CellError as exc:
            raise ValidationError(str(exc)) from None


class InfluencerFormBase(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired("Enter the influencer's name."), Length(max=160), no_nul],
    )
    status = SelectField("Status", choices={s.value: s.label for s in InfluencerStatus})
    country = _text("Country (two letters)", 2)
    language = _text("Language", 12)
    contact_email = _text("Contact email", 254)
    contact_phone = _text("Contact phone", 40)
    niches = _text("Niche tags", 400, description="Comma-separated: running, fitness")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000), no_nul])
    rate_currency = SelectField("Rate card currency", choices=CURRENCIES)


def _influencer_form() -> type[FlaskForm]:
    """One handle (with followers and engagement) per platform, one rate per deliverable type."""
    fields = {}
    for p in SocialPlatform:
        fields[f"{p.value}_handle"] = _text(f"{p.label} handle", 200)
        fields[f"{p.value}_followers"] = StringField(
            f"{p.label} followers", validators=[Optional(), count_or_blank]
        )
        fields[f"{p.value}_engagement"] = StringField(
            f"{p.label} engagement %", validators=[Optional(), percent_or_blank]
        )
    for t in DeliverableType:
        fields[f"rate_{t.value}"] = _text(f"Rate: {t.label}", 30)
    return type("InfluencerForm", (InfluencerFormBase,), fields)


InfluencerForm = _influencer_form()


class UploadForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])


class CsrfOnlyForm(FlaskForm):
    """For POSTs whose fields are read explicitly by the view (column mapping)."""


class PartnershipForm(FlaskForm):
    influencer_id = SelectField("Influencer", coerce=int, validate_choice=False)
    campaign_id = SelectField("Campaign", coerce=int, validate_choice=False)
    fee = StringField("Fee", validators=[DataRequired("Enter the fee."), Length(max=30)])
    currency = SelectField("Currency", choices=CURRENCIES)
    plan = SelectField("Payment plan", choices={k: v[0] for k, v in PLANS.items()})
    payment_terms = TextAreaField(
        "Payment terms", validators=[Optional(), Length(max=2000), no_nul]
    )
    usage_rights = TextAreaField("Usage rights", validators=[Optional(), Length(max=2000), no_nul])
    exclusivity_days = IntegerField(
        "Exclusivity window (days)", default=0, validators=[Optional(), NumberRange(0, 3650)]
    )
    start_date = DateField("Start", validators=[Optional()])
    end_date = DateField("End", validators=[Optional()])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000), no_nul])
    owner_id = SelectField("Owner", coerce=int, validate_choice=False)


class DeliverableForm(FlaskForm):
    type = SelectField("Type", choices=TYPE_CHOICES)
    platform = SelectField("Platform", choices=PLATFORM_CHOICES)
    due_date = DateField("Due date", validators=[DataRequired("Set a due date.")])
    title = _text("Title or brief", 200)


class StepForm(FlaskForm):
    to = HiddenField()
    content_url = _text("Draft or content link", 500)
    reviewer_comments = TextAreaField("Comments", validators=[Optional(), Length(max=5000), no_nul])
    published_on = DateField("Published on", validators=[Optional()])
    proof_url = _text("Proof-of-post URL", 500)


def _metrics_form() -> type[FlaskForm]:
    fields = {
        name: StringField(name.title(), validators=[Optional(), Length(max=20)])
        for name in METRIC_FIELDS
    }
    fields["revenue"] = StringField("Revenue", validators=[Optional(), Length(max=30)])
    return type("MetricsForm", (FlaskForm,), fields)


MetricsForm = _metrics_form()


class TrackingForm(FlaskForm):
    landing_url = StringField(
        "Landing page", validators=[DataRequired("Enter the landing page."), Length(max=500)]
    )
    utm_source = _text("utm_source", 80)
    utm_medium = _text("utm_medium", 80)
    utm_content = _text("utm_content", 80)


class PromoCodeForm(FlaskForm):
    code = StringField(
        "Promo code (blank: generate one)",
        validators=[Optional(), Length(max=32, message="Use at most 32 characters."), no_nul],
    )


class MilestoneForm(FlaskForm):
    label = StringField(
        "Milestone",
        validators=[
            DataRequired("Name the milestone, e.g. “50% on contract”."),
            Length(max=120, message="Use at most 120 characters."),
            no_nul,
        ],
    )
    share = StringField(
        "Share of the fee (%)",
        validators=[
            DataRequired("Enter the share as a percentage, e.g. 50 or 33.33."),
            Length(max=10, message="Enter the share as a percentage, e.g. 50 or 33.33."),
        ],
    )
    condition = SelectField("Payable when", choices={c.value: c.label for c in MilestoneCondition})
    deliverable_id = SelectField("Deliverable", coerce=str, validate_choice=False)


class PayForm(FlaskForm):
    paid_on = DateField("Paid on", validators=[Optional()])
    reference = _text("Payment reference", 120)
