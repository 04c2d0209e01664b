"""Refusals with every reason at once: a form shows each problem beside its field.

Services raise a subclass of `RuleError` (BudgetError, CampaignError, InfluencerError); checks
that do not depend on each other run through `Problems`, so one post gets every refusal
instead of one per round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
Problem = tuple[str | None, str]


class RuleError(ValueError):
    """A rule refused the change; `field` says which form field to show it next to.

    `problems` holds every (field, message) found, the first being (field, str(self))."""

    def __init__(self, message: str, field: str | None = None, more: Sequence[Problem] = ()):
        super().__init__(message)
        self.field = field
        self.problems: list[Problem] = [(field, message), *more]

    @classmethod
    def raise_all(cls, problems: Sequence[Problem] | Mapping[str, str]) -> None:
        """Raise every problem as one error (nothing when there is none)."""
        found = list(problems.items()) if isinstance(problems, Mapping) else list(problems)
        if found:
            (field, message), *more = found
            raise cls(message, field, more)


class Problems:
    """Collects the refusals of independent checks, then raises them all as one error."""

    def __init__(self, error: type[RuleError] = RuleError) -> None:
        self.error = error
        self.found: list[Problem] = []

    def attempt(self, check: Callable[..., T], *args: Any) -> T | None:
        """`check(*args)`, or None after noting its refusal(s)."""
        try:
            return check(*args)
        except RuleError as exc:
            self.found.extend(exc.problems)
            return None

    def add(self, message: str, field: str | None = None) -> None:
        self.found.append((field, message))

    def raise_any(self) -> None:
        self.error.raise_all(self.found)


def show_problems(
    form: Any,
    exc: RuleError,
    default: str | None = None,
    names: Mapping[str, str] | None = None,
) -> list[str]:
    """Put each problem of `exc` beside its form field (`names` maps a service's field name to
    the form's; a problem of no known field goes beside `default`). Returns the messages left
    with no field, for the caller to show above the form."""
    leftover = []
    for field_name, message in exc.problems:
        name = (names or {}).get(field_name or "", field_name or "")
        field = form._fields.get(name) if name and name != "csrf_token" else None
        if field is None and default is not None:
            field = form._fields.get(default)
        if field is None:
            leftover.append(message)
        elif message not in field.errors:
            field.errors = [*field.errors, message]
    return leftover


def check_more(form: Any, check: Callable[[], object]) -> None:
    """After a form's own validators refused some fields, run the service's input checks too,
    so one post shows every problem; a field the form already refused keeps only its message."""
    refused = {name for name, field in form._fields.items() if field.errors}
    try:
        check()
    except RuleError as exc:
        for name, message in exc.problems:
            field = form._fields.get(name or "")
            if field is not None and name not in refused and message not in field.errors:
                field.errors = [*field.errors, message]
