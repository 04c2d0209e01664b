from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from core.models import Role


def company_email(form, field) -> None:
    """A syntactically valid address; self-hosted companies may use internal domains."""
    field.data = (field.data or "").strip()
    try:
        validate_email(
            field.data,
            check_deliverability=False,
            globally_deliverable=False,
            test_environment=True,
        )
    except EmailNotValidError as exc:
        raise ValidationError(str(exc)) from None


ROLE_CHOICES = {r.value: r.label for r in Role}


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Keep me signed in")
    next = HiddenField()


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(min=12, max=1024)])
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ.")]
    )


class UserCreateForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), company_email])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    # The least privilege unless the admin picks another: a forgotten choice grants nothing.
    role = SelectField(
        "Role", choices=ROLE_CHOICES, validators=[DataRequired()], default=Role.VIEWER.value
    )
    password = PasswordField(
        "Password (leave blank to send an invitation link)",
        validators=[Optional(), Length(min=12, max=1024)],
    )


class UserEditForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])
    active = BooleanField("Active")
