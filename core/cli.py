"""Flask CLI commands: `users create`, `demo seed`, `worker`."""

from __future__ import annotations

import getpass
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core.audit import acting_as
from core.extensions import db
from core.models import Role

users_cli = AppGroup("users", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="Demo data for `make run`.")


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
        try:
            user = services.create_user(email, name, role, password)
        except services.AccountError as exc:
            raise click.ClickException(str(exc)) from None
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


@click.command("worker")
@click.option("--queues", "-q", multiple=True, help="Queues to listen on (default: all).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--name", default=None)
def worker(queues: tuple[str, ...], burst: bool, name: str | None) -> None:
    """Run an RQ worker inside the app context.

    RQ's scheduler runs delayed jobs (sync retries); the periodic schedule in core/schedule.py
    (nightly sync) runs in a thread, enqueuing each occurrence once across all workers.
    """
    from core.jobs import make_worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        w = make_worker(app, list(queues) or None, name=name)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    stop = threading.Event()
    if not burst:
        from core.schedule import start_schedule_thread

        start_schedule_thread(app, stop)
    try:
        w.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        stop.set()


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
