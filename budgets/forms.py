"""Budget forms. Views pass only `data` of allowed fields to the services (per-role
allow-lists live in budgets.services), so an extra posted field is never read."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from campaigns.models import Channel
from core.money import COMMON_CURRENCIES

CHANNEL_CHOICES = {c.value: c.label for c in Channel}
CURRENCY_CHOICES = {c: c for c in COMMON_CURRENCIES}


def no_nul(form, field) -> None:
    if field.data and "\x00" in field.data:
        raise ValidationError("Remove the invisible NUL character from this text.")


class BudgetForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=160), no_nul])
    period = StringField(
        "Period", validators=[DataRequired(), Length(max=40), no_nul], default="2026-Q4"
    )
    currency = SelectField("Currency", choices=CURRENCY_CHOICES)
    total = StringField("Total", validators=[DataRequired(), Length(max=30), no_nul])
    under_pct = StringField("Under-pacing below (% of plan to date)", default="85")
    over_pct = StringField("Over-pacing above (% of plan to date)", default="115")
    comment = StringField("Why the change", validators=[Optional(), Length(max=500), no_nul])


class LineForm(FlaskForm):
    campaign_id = SelectField("Campaign", coerce=str, validate_choice=False)
    channel = SelectField("Channel", choices=CHANNEL_CHOICES)
    planned = StringField("Amount", validators=[InputRequired(), Length(max=30), no_nul])
    note = TextAreaField("Why this money", validators=[Optional(), Length(max=2000), no_nul])
    comment = StringField("Why the change", validators=[Optional(), Length(max=500), no_nul])


class ReallocationForm(FlaskForm):
    from_line_id = SelectField("Move from line", coerce=str, validate_choice=False)
    to_line_id = SelectField("To line", coerce=str, validate_choice=False)
    amount = StringField("Amount", validators=[InputRequired(), Length(max=30), no_nul])
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000), no_nul])


class FxRateForm(FlaskForm):
    day = DateField("Date", validators=[InputRequired("Pick the date of the rate.")])
    base_currency = SelectField("From", choices=CURRENCY_CHOICES, default="USD")
    quote_currency = SelectField("To", choices=CURRENCY_CHOICES, default="EUR")
    rate = StringField("Rate (1 From = rate To)", validators=[InputRequired(), Length(max=30)])
    source = StringField(
        "Source", validators=[Optional(), Length(max=120), no_nul], default="manual"
    )


class FxImportForm(FlaskForm):
    file = FileField("CSV file (date, from, to, rate[, source])")
