from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from campaigns.metrics import METRIC_CHOICES
from campaigns.models import Channel, Direction, Objective
from core.money import COMMON_CURRENCIES

CHANNEL_CHOICES = {c.value: c.label for c in Channel}


def no_nul(form, field) -> None:
    """PostgreSQL text cannot hold NUL: refuse it here instead of failing on save."""
    if field.data and "\x00" in field.data:
        raise ValidationError("Remove the invisible NUL character from this text.")


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CampaignForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=160), no_nul])
    objective = SelectField("Objective", choices={o.value: o.label for o in Objective})
    channels = MultiCheckboxField("Channels", choices=CHANNEL_CHOICES)
    brand = StringField("Brand", validators=[Optional(), Length(max=120), no_nul])
    product = StringField("Product", validators=[Optional(), Length(max=120), no_nul])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000), no_nul])
    start_date = DateField("Flight start", validators=[InputRequired("Pick the flight start.")])
    end_date = DateField("Flight end", validators=[InputRequired("Pick the flight end.")])
    currency = SelectField("Currency", choices={c: c for c in COMMON_CURRENCIES})
    planned_budget = StringField(
        "Total planned budget", validators=[Optional(), Length(max=30)], default="0"
    )
    owner_id = SelectField("Owner", coerce=int, validate_choice=False)


class GoalForm(FlaskForm):
    metric = SelectField("Metric", choices=METRIC_CHOICES)
    channel = SelectField("Channel", choices={"": "All campaign channels"} | CHANNEL_CHOICES)
    direction = SelectField("Direction", choices={d.value: d.label for d in Direction})
    baseline = StringField("Baseline", validators=[Length(max=30)])
    target = StringField("Target", validators=[Length(max=30)])
    deadline = DateField("Deadline", validators=[Optional()])
    owner_id = SelectField("Owner", coerce=int, validate_choice=False)
    notes = TextAreaField(
        "Why this goal matters", validators=[Optional(), Length(max=2000), no_nul]
    )
