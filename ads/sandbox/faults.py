"""Fault switches for the Graph API sandbox, and errors shaped the way Meta sends them.

A fault applies to the next `count` matching requests (or to every one with "always"):

    {"rate_limit": {"code": 80000, "regain_minutes": 3, "count": 2, "match": "insights"},
     "server_error": {"html": true, "status": 502},
     "token_expired": true, "too_much_data": 1, "slow": {"seconds": 0.5},
     "fail_on_page": {"page": 3, "error": "rate_limit", "code": 17},
     "usage": {"pct": 85, "count": "always"}, "job_failed": {"status": "Job Skipped"},
     "unsupported": {"endpoint": "account", "count": "always"}}

`match` is a substring of "<METHOD> <path>" (e.g. "insights", "POST", "/campaigns");
`skip` lets that many matching requests through before the fault starts; `every: N` makes
it hit only every Nth matching request (with "always": a fault every few requests, for good);
`codes: [17, 80000]` makes a rate_limit fault answer with each code in turn;
`endpoint` names one kind of request (account, insights, insights_async, campaigns,
report_status, report_results): "unsupported" on "account" plays a Graph API server that
serves insights but not the account node.
`restate` is a state switch, not a countdown; the server handles it (see server.py).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "rate_limit",
    "server_error",
    "token_expired",
    "too_much_data",
    "slow",
    "fail_on_page",
    "usage",
    "job_failed",
    "unsupported",
)
ERROR_KINDS = ("token_expired", "rate_limit", "too_much_data", "server_error", "unsupported")

HTML_ERROR_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head>'
    "<body><h1>Sorry, something went wrong.</h1><p>We're working on it and we'll get it fixed "
    "as soon as we can.</p></body></html>"
)

_RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    613: "(#613) Calls within one hour have exceeded the amount of ad campaigns changes allowed",
}
_BUC_MESSAGE = (
    "(#{code}) There have been too many calls from this ad-account. Wait a bit and try again. "
    "For more info, please refer to "
    "https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-insights."
)


@dataclass
class UsageOverride:
    """Usage numbers the next response's headers carry instead of the calm defaults."""

    pct: int = 80
    regain_minutes: int = 0
    reset_seconds: int = 0


class GraphError(Exception):
    """An error response as the Graph API sends it."""

    def __init__(
        self,
        message: str,
        code: int,
        *,
        subcode: int | None = None,
        status: int = 400,
        type_: str = "OAuthException",
        transient: bool = False,
        usage: UsageOverride | None = None,
        html: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.status = status
        self.type = type_
        self.transient = transient
        self.usage = usage
        self.html = html

    def body(self, trace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.transient
        error["fbtrace_id"] = trace_id
        return {"error": error}


def unsupported(node: str) -> GraphError:
    return GraphError(
        f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
        100,
        subcode=33,
        type_="GraphMethodException",
    )


def bad_param(message: str) -> GraphError:
    return GraphError(f"(#100) {message}", 100)


def fault_error(kind: str, options: Mapping[str, Any]) -> GraphError:
    """The error a fault of `kind` answers with."""
    if kind == "rate_limit":
        code = int(options.get("code", 17))
        business = 80000 <= code <= 80014
        usage = UsageOverride(
            pct=int(options.get("pct", 100)),
            regain_minutes=int(options.get("regain_minutes", 5 if business else 0)),
            reset_seconds=int(options.get("reset_seconds", 0 if business else 300)),
        )
        message = _BUC_MESSAGE.format(code=code) if business else _RATE_LIMIT_MESSAGES.get(code)
        subcode = options.get("subcode", 2446079 if code in (17, 80000, 80004) else None)
        return GraphError(
            message or f"(#{code}) Rate limit reached",
            code,
            subcode=subcode,
            transient=bool(options.get("is_transient", True)),
            usage=usage,
        )
    if kind == "server_error":
        if options.get("html"):
            text = str(options.get("text", HTML_ERROR_PAGE))
            return GraphError("html", 0, status=int(options.get("status", 502)), html=text)
        code = int(options.get("code", 2))
        return GraphError(
            "An unexpected error has occurred. Please retry your request later.",
            code,
            status=int(options.get("status", 500)),
            transient=True,
        )
    if kind == "token_expired":
        return GraphError(
            "Error validating access token: Session has expired on Friday, 06-Mar-26 02:00:00 "
            "PST. The current time is Saturday, 07-Mar-26 03:14:15 PST.",
            190,
            subcode=int(options.get("subcode", 463)),
        )
    if kind == "too_much_data":
        # Meta sends it as 100/1487534, and sometimes as a bare code 1 with HTTP 500.
        code = int(options.get("code", 100))
        return GraphError(
            "Please reduce the amount of data you're asking for, then retry your request",
            code,
            subcode=1487534 if code == 100 else None,
            status=int(options.get("status", 400 if code == 100 else 500)),
        )
    if kind == "unsupported":
        return unsupported(str(options.get("node", "")))
    raise ValueError(f"{kind} is not an error fault")


@dataclass
class Rule:
    kind: str
    remaining: int | None  # None: always
    match: str | None
    options: dict[str, Any] = field(default_factory=dict)
    skip: int = 0
    every: int = 1
    seen: int = 0  # matching requests counted for `every`
    hits: int = 0  # times it fired (for `codes`)


def _rule(kind: str, spec: Any) -> Rule:
    if kind not in KINDS:
        raise ValueError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")
    if spec is True or spec is None:
        spec = {}
    elif spec == "always" or isinstance(spec, int) and not isinstance(spec, bool):
        spec = {"count": spec}
    if not isinstance(spec, Mapping):
        raise ValueError(f"fault {kind}: expected true, a count, 'always' or an object")
    options = dict(spec)
    count = options.pop("count", 1)
    if count != "always" and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ValueError(f"fault {kind}: count must be a positive integer or 'always'")
    match = options.pop("match", None)
    skip = options.pop("skip", 0)
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        raise ValueError(f"fault {kind}: skip must be a whole number")
    every = options.pop("every", 1)
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"fault {kind}: every must be a positive integer")
    codes = options.get("codes")
    if codes is not None and (
        kind != "rate_limit"
        or not isinstance(codes, list)
        or not codes
        or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes)
    ):
        raise ValueError("codes: a non-empty list of error codes, for rate_limit")
    if kind == "fail_on_page":
        options.setdefault("page", 2)
        options.setdefault("error", "server_error")
        if options["error"] not in ERROR_KINDS:
            raise ValueError(f"fail_on_page: error must be one of {ERROR_KINDS}")
    return Rule(kind, None if count == "always" else count, match, options, skip, every)


class Faults:
    """The armed faults; thread-safe (the sandbox serves requests on threads)."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, Rule] = {}
        if config:
            self.set(config)

    def set(self, config: Mapping[str, Any]) -> None:
        """Arm faults (replacing any armed fault of the same kind). Raises ValueError."""
        rules = [_rule(kind, spec) for kind, spec in config.items()]
        with self._lock:
            for rule in rules:
                self._rules[rule.kind] = rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                r.kind: {
                    "count": "always" if r.remaining is None else r.remaining,
                    "match": r.match,
                    **({"every": r.every} if r.every > 1 else {}),
                    **r.options,
                }
                for r in self._rules.values()
            }

    def take(
        self, kind: str, target: str, *, page: int | None = None, endpoint: str | None = None
    ) -> dict[str, Any] | None:
        """Consume one use of the `kind` fault if it matches this request; its options or None."""
        with self._lock:
            rule = self._rules.get(kind)
            if rule is None or (rule.match and rule.match not in target):
                return None
            wanted = rule.options.get("endpoint")
            if wanted and endpoint is not None and wanted != endpoint:
                return None
            if kind == "fail_on_page" and page != int(rule.options["page"]):
                return None
            if rule.skip:  # let the first `skip` matching requests through
                rule.skip -= 1
                return None
            rule.seen += 1
            if rule.seen % rule.every:
                return None
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    del self._rules[kind]
            options = dict(rule.options)
            codes = options.pop("codes", None)
            if codes:
                options["code"] = codes[rule.hits % len(codes)]
            rule.hits += 1
            return options
