"""Query arguments read safely: numbers clamped (the one place views read page, size and id
args), and the arguments a pager carries from page to page whitelisted.

`int(request.args["page"])` turns `?page=99999999999999999999` into an OFFSET no database
accepts (a 500) and `?page=²` into a ValueError (str.isdigit() says yes, int() says no). Every
such value is clamped to a range or replaced by the default here instead.
"""

from __future__ import annotations

from flask import request, url_for

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


# The query arguments each paged list carries to its other pages: its filters and sort, nothing
# else. Passing the whole query string to url_for let `?endpoint=x` crash the page and
# `?_external=1`, `?_anchor=…`, `?_scheme=…` or `?_method=…` rewrite its links, since those
# are url_for's own parameters.
PAGER_ARGS: dict[str, tuple[str, ...]] = {
    "campaigns.index": ("q", "status", "channel", "owner", "from", "to", "sort", "dir"),
    "influencers.index": (
        "q",
        "platform",
        "niche",
        "country",
        "status",
        "min_followers",
        "max_followers",
        "min_engagement",
        "sort",
        "dir",
    ),
    "influencers.partnerships": ("status", "campaign", "mine"),
    "influencers.payment_list": ("status",),
    "budgets.fx.rates": ("base", "quote"),
    "admin.audit": ("type", "q"),
    "ads.runs": (),
}


def page_url(endpoint: str, page: int) -> str:
    """A link to `page` of the list at `endpoint`, keeping only its whitelisted arguments."""
    keep = PAGER_ARGS[endpoint]  # a KeyError here means a new list: add its arguments above
    values = {name: request.args[name] for name in keep if request.args.get(name)}
    return url_for(endpoint, **values, page=page)
