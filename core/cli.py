"""Flask CLI commands: `users create`, `demo seed`, `worker`, and the error guard every
command group uses.

No traceback reaches an operator: a `CliGroup`'s commands turn a bad option, a domain error
(any exception class defined in this project), an unreachable database or Redis, a value the
database cannot hold, or a file that cannot be read or written into one line on stderr and
exit status 2. Anything else is a bug: one line and status 1 (FLIGHTDECK_TRACEBACK=1 shows it).
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError

from core.audit import acting_as
from core.errors import (
    DATABASE_DOWN,
    REDIS_DOWN,
    SCHEMA_MISSING,
    causes,
    first_line,
    rollback_quietly,
)
from core.extensions import db
from core.models import Role
from core.money import MoneyError, check_currency

# Exceptions defined in these packages are domain errors with a message meant for people.
PROJECT_PACKAGES = {"ads", "analytics", "budgets", "campaigns", "config", "core", "influencers"}


class CliError(click.ClickException):
    """One line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


class CliBug(CliError):
    exit_code = 1


def _missing_schema(text: str) -> str:
    return f"The database has no Flightdeck tables ({text}); run `flask --app wsgi db upgrade`."


def explain(exc: BaseException) -> str | None:
    """The one line an operator can act on, or None when `exc` is a bug."""
    for cause in causes(exc):
        text = first_line(cause)
        if isinstance(cause, DATABASE_DOWN):
            if any(marker in text for marker in SCHEMA_MISSING):
                return _missing_schema(text)
            return f"The database is unreachable: {text}. Check DATABASE_URL and the server."
        if isinstance(cause, ProgrammingError) and "does not exist" in text:
            return _missing_schema(text)
        if isinstance(cause, DataError | OverflowError):
            return f"A value does not fit the database: {text}."
        if isinstance(cause, IntegrityError):
            return f"The database refused the change: {text}."
        if isinstance(cause, REDIS_DOWN):
            return f"Redis is unreachable: {text}. Check REDIS_URL and the server."
        if isinstance(cause, OSError):
            where = f": {cause.filename}" if cause.filename else ""
            return f"{cause.strerror or text}{where}"
        if type(cause).__module__.split(".")[0] in PROJECT_PACKAGES:
            return text
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


class GuardedCommand(click.Command):
    """A command whose errors end in one line: usage errors and domain errors exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise CliError(usage_line(exc, ctx)) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, CliError):
            raise
        except click.UsageError as exc:
            raise CliError(usage_line(exc, ctx)) from None
        except click.ClickException as exc:
            raise CliError(_one_line(exc.format_message())) from None
        except Exception as exc:
            _rollback()
            message = explain(exc)
            if message is not None:
                raise CliError(_one_line(message)) from None
            if os.environ.get("FLIGHTDECK_TRACEBACK"):
                raise
            raise CliBug(
                f"unexpected {type(exc).__name__}: {_one_line(first_line(exc))} "
                "(a bug; FLIGHTDECK_TRACEBACK=1 shows where)"
            ) from None


class CliGroup(AppGroup):
    """An AppGroup whose commands (and subgroups) are GuardedCommands."""

    command_class = GuardedCommand

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise CliError(usage_line(exc, ctx)) from None


CliGroup.group_class = CliGroup


class CurrencyType(click.ParamType):
    """An ISO 4217 code, checked before the command runs; empty stays empty ("not given")."""

    name = "currency"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if value in (None, ""):
            return value
        try:
            return check_currency(str(value))
        except MoneyError as exc:
            self.fail(str(exc), param, ctx)


CURRENCY = CurrencyType()


def usage_line(exc: click.UsageError, ctx: click.Context) -> str:
    return f"{_one_line(exc.format_message())} (see `{ctx.command_path} --help`)"


def _rollback() -> None:
    if has_app_context():
        rollback_quietly()


users_cli = CliGroup("users", help="Manage user accounts.")
demo_cli = CliGroup("demo", help="Demo data for `make run`.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="", help="Display name (defaults to the email's local part).")
@click.option("--password", default=None, help="Prompted for when omitted.")
def users_create(email: str, role: str, name: str, password: str | None) -> None:
    """Create a user. Prompts for the password when --password is not given."""
    from core.auth import services

    if password is None:
        if not sys.stdin.isatty():
            raise click.UsageError("--password is required when not run interactively")
        password = getpass.getpass("Password: ")
    with acting_as("cli"):
        user = services.create_user(email, name, role, password)
        db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@demo_cli.command("seed")
@click.option(
    "--force-demo-in-production",
    is_flag=True,
    help="Seed even under FLIGHTDECK_ENV=production (a throwaway installation only).",
)
def demo_seed(force_demo_in_production: bool) -> None:
    """Create the demo users and data. Safe to run again: existing accounts are left alone."""
    from core.demo import DemoRefused, seed

    try:
        with acting_as("demo seed"):
            summary = seed(force_in_production=force_demo_in_production)
            db.session.commit()
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Demo data ready: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    click.echo(
        f"Demo logins (password: {current_app.config['DEMO_PASSWORD']}, unless the account "
        "existed before and its password was changed):"
    )
    for role in Role:
        click.echo(f"  {role.value:<12} {role.value}@flightdeck.test")


@click.command("worker", cls=GuardedCommand)
@click.option("--queues", "-q", multiple=True, help="Queues to listen on (default: all).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--name", default=None)
def worker(queues: tuple[str, ...], burst: bool, name: str | None) -> None:
    """Run an RQ worker inside the app context, until SIGTERM or SIGINT.

    It rides out Redis outages (waits with back-off, then carries on in the same process),
    runs RQ's scheduler for delayed jobs (sync retries), the periodic schedule in
    core/schedule.py in a thread, and the registered reconcilers on start and periodically.
    """
    from core.worker import run_worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    known = list(app.config["RQ_QUEUES"])
    unknown = [q for q in queues if q not in known]
    if unknown:
        raise click.BadParameter(
            f"no queue {', '.join(unknown)}; the queues are {', '.join(known)}",
            param_hint="--queues",
        )
    run_worker(app, list(queues) or None, name=name, burst=burst)


def register(app: Flask) -> None:
    import budgets.cli  # noqa: F401 - adds `export budgets` to export_cli
    from ads.cli import ads_cli, export_cli
    from influencers.cli import influencers_cli

    app.cli.add_command(ads_cli)
    app.cli.add_command(export_cli)
    app.cli.add_command(influencers_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(worker)
