"""`flask --app wsgi export budgets --period P --format csv|xlsx [--output FILE]`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select

from ads.cli import export_cli
from core.extensions import db


@export_cli.command("budgets")
@click.option("--period", required=True, help="2026-Q4, 2026-11 or 2026-10-15..2026-12-31")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_budgets(period: str, fmt: str, output: Path | None) -> None:
    """Budget vs actual: one row per budget × campaign × channel × month, totals per currency."""
    from budgets import exports
    from budgets.actuals import build_report
    from budgets.models import Budget
    from budgets.periods import PeriodError, parse_period

    try:
        label = parse_period(period).label
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    budgets = list(
        db.session.scalars(select(Budget).where(Budget.period == label).order_by(Budget.name))
    )
    if not budgets:
        known = sorted(set(db.session.scalars(select(Budget.period))))
        raise click.ClickException(
            f"No budget for {label}."
            + (f" Periods with budgets: {', '.join(known)}." if known else "")
        )
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx needs --output FILE")
    as_of = datetime.now(UTC).replace(microsecond=0)
    report = build_report(budgets, as_of.date())
    frame = exports.export_frame(report, as_of)
    if fmt == "xlsx":
        exports.write_xlsx(str(output), frame, report)
    elif output is None:
        exports.write_csv(sys.stdout, frame)
    else:
        with output.open("w", newline="", encoding="utf-8") as fh:
            exports.write_csv(fh, frame)
    if output is not None:
        click.echo(f"Wrote {len(frame)} rows for {len(budgets)} budget(s) to {output}", err=True)
