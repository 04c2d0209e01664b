from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.money import COMMON_CURRENCIES


class ConnectMetaForm(FlaskForm):
    account_id = StringField(
        "Ad account id", validators=[DataRequired(), Length(max=30)], description="act_1234567890"
    )
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    currency = SelectField(
        "Account currency",
        choices={"": "Read it from Meta"} | {c: c for c in COMMON_CURRENCIES},
        validate_choice=False,
    )
    # A password input: the browser never shows it back and we never render it.
    token = PasswordField("Access token", validators=[DataRequired(), Length(max=4096)])
    backfill_days = IntegerField(
        "Backfill on first sync (days)", default=90, validators=[NumberRange(1, 1095)]
    )


class SyncForm(FlaskForm):
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
    today = BooleanField("Today so far")


class MappingForm(FlaskForm):
    campaign_id = SelectField("Flightdeck campaign", coerce=str, validate_choice=False)


PLATFORM_CHOICES = {
    "google_ads": "Google Ads",
    "tiktok_ads": "TikTok Ads",
    "linkedin_ads": "LinkedIn Ads",
}


class CsvImportForm(FlaskForm):
    platform = SelectField("Platform", choices=PLATFORM_CHOICES)
    file = FileField("Daily campaign export (CSV)", validators=[FileRequired("Choose a CSV file.")])
    account_id = StringField(
        "Account id (when the export has no account column)",
        validators=[Optional(), Length(max=64)],
    )
    currency = SelectField(
        "Currency (when the export has no currency column)",
        choices={"": "From the file"} | {c: c for c in COMMON_CURRENCIES},
        validate_choice=False,
    )
    date_order = SelectField(
        "Date order (for dates like 05/11/2026)",
        choices={
            "": "Read it from the file",
            "dmy": "Day first: 05/11/2026 is 5 November",
            "mdy": "Month first: 05/11/2026 is May 11",
        },
        default="",
    )
