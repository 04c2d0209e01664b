"""Numbers from the query string, clamped: the one place views read page, size and id args.

`int(request.args["page"])` turns `?page=99999999999999999999` into an OFFSET no database
accepts (a 500) and `?page=²` into a ValueError (str.isdigit() says yes, int() says no). Every
such value is clamped to a range or replaced by the default here instead.
"""

from __future__ import annotations

from flask import request

MAX_PAGE = 100_000
MAX_ID = 2**31 - 1  # the INTEGER primary keys


def clamped_int(name: str, default: int, low: int, high: int) -> int:
    """The query argument `name` as a whole number within [low, high]: a larger or smaller
    number is clamped; anything that is not a plain ASCII whole number gives `default`."""
    text = request.args.get(name, "").strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()):
        return default
    if len(digits) > 18:  # clamp without building a huge int
        return low if text.startswith("-") else high
    return min(max(int(text), low), high)


def page_arg(name: str = "page") -> int:
    return clamped_int(name, default=1, low=1, high=MAX_PAGE)


def id_arg(name: str) -> int | None:
    """A positive id from the query string, or None when absent, malformed or out of range."""
    value = clamped_int(name, default=0, low=0, high=MAX_ID + 1)
    return value if 0 < value <= MAX_ID else None
