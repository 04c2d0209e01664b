"""`flask --app wsgi influencers import-roster FILE` and `... influencers import-orders FILE`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from core.audit import acting_as
from core.cli import CURRENCY, CliGroup
from core.extensions import db

influencers_cli = CliGroup("influencers", help="Influencer roster and attributed orders.")


def _report(result) -> None:
    """The counts, then the rejected rows with their reasons (the first 1,000; the count of
    the others is said)."""
    click.echo(result.message)
    for err in result.errors:
        click.echo(f"  row {err.row}, {err.column}: {err.problem}")
    if result.error_count > len(result.errors):
        click.echo(f"  … and {result.error_count - len(result.errors):,} more problems")


def _mapping(headers: list[str], pairs: tuple[str, ...]) -> dict[int, str] | None:
    if not pairs:
        return None
    from influencers.roster_csv import guess_mapping, targets

    mapping = guess_mapping(headers)
    valid = targets()
    for pair in pairs:
        column, _, target = pair.partition("=")
        if column not in headers:
            raise click.BadParameter(f"no column {column!r} in the file", param_hint="--map")
        if target and target not in valid:
            raise click.BadParameter(f"unknown target {target!r}", param_hint="--map")
        mapping[headers.index(column)] = target
    return mapping


@influencers_cli.command("import-roster")
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="COLUMN=TARGET",
    help="Override the guessed mapping, e.g. --map 'IG=instagram.handle' (TARGET empty: skip).",
)
@click.option(
    "--currency", default="EUR", type=CURRENCY, show_default=True, help="Rate card currency."
)
@click.option("--dry-run", is_flag=True, help="Report what would happen; write nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_roster_cmd(pairs: tuple[str, ...], currency: str, dry_run: bool, file: Path) -> None:
    """Import a roster CSV: duplicates by platform handle are updated, bad rows listed.

    Exits non-zero only when nothing could be read.
    """
    from core.uploads import Limits, Source
    from influencers.csvread import CsvProblem, read_table
    from influencers.imports import import_roster, preview_roster

    data = Source(path=file)  # read from disk as a stream, never whole
    limits = Limits.from_config("ROSTER_MAX_ROWS")
    try:
        mapping = _mapping(read_table(data, limits).headers, pairs) if pairs else None
    except CsvProblem:
        mapping = None  # import_roster reports the problem
    if dry_run:
        preview = preview_roster(data, mapping, currency.upper(), filename=file.name, limits=limits)
        result = preview.result
        result.problem = result.problem or " ".join(preview.mapping_problems)
        click.echo("Dry run: nothing was written.")
    else:
        with acting_as("cli"):
            result = import_roster(
                data, mapping, currency.upper(), filename=file.name, limits=limits
            )
            db.session.commit()
    _report(result)
    if not result.read_anything:
        sys.exit(1)


@influencers_cli.command("import-orders")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_orders_cmd(file: Path) -> None:
    """Attribute shop orders (order_id, date, amount, currency, promo_code, utm_campaign,
    utm_content) to partnerships; idempotent on the order id."""
    from core.uploads import Limits, Source
    from influencers.orders import import_orders

    with acting_as("cli"):
        result = import_orders(
            Source(path=file), filename=file.name, limits=Limits.from_config("ORDERS_MAX_ROWS")
        )
        db.session.commit()
    _report(result)
    if not result.read_anything:
        sys.exit(1)
