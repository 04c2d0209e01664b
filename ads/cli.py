"""`flask --app wsgi ads ...` and `flask --app wsgi export performance`."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from core.audit import acting_as
from core.cli import CURRENCY, CliGroup
from core.extensions import db

ads_cli = CliGroup("ads", help="Ad accounts, syncs, CSV imports and the Graph API sandbox.")
export_cli = CliGroup("export", help="Exports (CSV or XLSX).")


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-03-01", param_hint=name
        ) from None


@ads_cli.command("connect")
@click.option("--account-id", required=True, help="act_1234567890")
@click.option("--token", required=True, help="Meta access token (stored encrypted)")
@click.option("--name", default="")
@click.option(
    "--currency", default="", type=CURRENCY, help="Account currency (read from Meta on sync)"
)
def connect(account_id: str, token: str, name: str, currency: str) -> None:
    """Connect (or re-authorise) a Meta ad account."""
    from ads.services import AdsError, connect_meta_account

    with acting_as("cli"):
        try:
            account = connect_meta_account(account_id, token, name=name, currency=currency)
        except AdsError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
    click.echo(f"Connected {account.external_id} (id {account.id}); token stored encrypted.")


class Refused(click.ClickException):
    """Bad input or a refused request: one line, exit 2, nothing changed."""

    exit_code = 2


def _account_for(account_id: str):
    from sqlalchemy import select

    from ads.models import AdAccount

    account = db.session.scalar(select(AdAccount).where(AdAccount.external_id == account_id))
    if account is None and account_id.isdigit() and int(account_id) < 2**31:
        account = db.session.get(AdAccount, int(account_id))
    if account is None:
        raise Refused(f"No ad account {account_id}; connect it first.")
    return account


@ads_cli.command("sync")
@click.option("--account-id", required=True, help="act_N, or the Flightdeck account number")
@click.option("--since", default=None, help="First day (default: backfill, or the last 28 days)")
@click.option("--until", default=None, help="Last day (default and latest: yesterday)")
@click.option("--today", "today_so_far", is_flag=True, help="Include today so far.")
@click.option("--enqueue", is_flag=True, help="Queue it for a worker instead of running now.")
@click.option("--inline", is_flag=True, help="Run it here, now (the default; needs no Redis).")
@click.option(
    "--max-wait",
    default=300,
    show_default=True,
    type=click.IntRange(0, 24 * 3600),
    help="Longest wait (seconds) for a rate limit or a retry before giving up.",
)
def sync_cmd(
    account_id: str,
    since: str | None,
    until: str | None,
    today_so_far: bool,
    enqueue: bool,
    inline: bool,
    max_wait: int,
) -> None:
    """Sync one Meta account's daily insights: here and now, waiting out short rate limits
    and retrying transient errors (or --enqueue it for a worker)."""
    from flask import current_app

    from ads.sync import SyncRefused, begin_sync
    from ads.sync_here import sync_here
    from ads.sync_runs import started_label

    if enqueue and inline:
        raise click.UsageError("--enqueue and --inline exclude each other.")
    first, last = _date(since, "--since"), _date(until, "--until")
    account = _account_for(account_id)
    with acting_as("cli"):
        try:
            if enqueue:
                if not current_app.config.get("REDIS_URL"):
                    raise Refused("--enqueue needs REDIS_URL (a worker to run the job).")
                run, joined = begin_sync(
                    account.id, first, last, today_so_far=today_so_far, origin="cli"
                )
                if joined:
                    click.echo(f"Joined run {run.id} ({started_label(run)}): {run.status}.")
                else:
                    click.echo(f"Queued sync run {run.id} (job {run.job_id}).")
                return
            result = sync_here(
                account.id,
                first,
                last,
                today_so_far=today_so_far,
                max_wait=max_wait,
                echo=click.echo,
            )
        except SyncRefused as exc:
            raise Refused(str(exc)) from None
    click.echo(result.message)
    if result.exit_code:
        sys.exit(result.exit_code)


@ads_cli.command("import-csv")
@click.option(
    "--platform", required=True, type=click.Choice(["google_ads", "tiktok_ads", "linkedin_ads"])
)
@click.option("--account-id", default=None, help="When the export has no account column")
@click.option(
    "--currency", default=None, type=CURRENCY, help="When the export has no currency column"
)
@click.option(
    "--date-order",
    type=click.Choice(["dmy", "mdy"]),
    default=None,
    help="Day/month order of dates like 05/11/2026, when the file does not tell",
)
@click.option(
    "--as-user",
    "as_user",
    default=None,
    metavar="EMAIL",
    help="Import as this user: spend lands only on campaigns they may edit (owner or admin); "
    "others' campaigns are held back unmapped. Default: the system, which may map anything.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_csv_cmd(
    platform: str,
    account_id: str | None,
    currency: str | None,
    date_order: str | None,
    as_user: str | None,
    file: Path,
) -> None:
    """Import a platform's daily campaign CSV export (read from disk as a stream)."""
    from sqlalchemy import func, select

    from ads.csv_import import import_csv
    from core.models import User
    from core.uploads import Limits, Source

    user = None
    if as_user:
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == as_user.strip().lower())
        )
        if user is None or not user.active:
            raise click.ClickException(f"No active user {as_user}.")
    with acting_as(user.email if user else "cli", user.id if user else None):
        result = import_csv(
            platform,
            Source(path=file),
            filename=file.name,
            account_id=account_id,
            currency=currency,
            user_id=user.id if user else None,
            date_order=date_order,
            limits=Limits.from_config("IMPORT_MAX_ROWS"),
        )
        db.session.commit()
    click.echo(result.message)
    click.echo(
        f"{result.inserted} new, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.rejected} rejected"
    )
    for err in result.errors[:200]:
        click.echo(f"  row {err.row}, {err.column}: {err.problem}")
    if len(result.errors) > 200:
        click.echo(f"  … and {len(result.errors) - 200} more (see the import log)")
    if result.status == "failed":
        sys.exit(1)


@ads_cli.command("sandbox")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8765, type=click.IntRange(1, 65535))
@click.option("--seed", default=42, type=int)
def sandbox(host: str, port: int, seed: int) -> None:
    """Serve the Graph API sandbox (stands in for Meta in tests and the demo)."""
    from ads.sandbox.server import run_sandbox

    click.echo(f"Graph API sandbox on http://{host}:{port} (seed {seed})")
    run_sandbox(host=host, port=port, seed=seed)


@export_cli.command("performance")
@click.option("--since", required=True)
@click.option("--until", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_performance(since: str, until: str, fmt: str, output: Path | None) -> None:
    """One row per platform campaign: spend, conversions, value, ROAS, CPA."""
    from analytics.exports import HEADER, performance_rows, totals_by_currency
    from core.exports import write_csv, write_xlsx

    start, end = _date(since, "--since"), _date(until, "--until")
    if start > end:
        raise click.BadParameter("--since must be on or before --until")
    rows = list(performance_rows(start, end))
    totals = totals_by_currency(rows)
    if fmt == "csv":
        if output is None:
            write_csv(sys.stdout, HEADER, rows + totals)
        else:
            with output.open("w", newline="", encoding="utf-8") as fh:
                write_csv(fh, HEADER, rows + totals)
    else:
        if output is None:
            raise click.UsageError("--format xlsx needs --output FILE")
        write_xlsx(str(output), [("Performance", HEADER, rows + totals, None)])
    if output is not None:
        click.echo(f"Wrote {len(rows)} rows to {output}", err=True)
