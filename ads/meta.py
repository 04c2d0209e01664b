"""Meta Marketing API connector: daily insights, campaigns and account facts as typed rows.

Plain classes over facebook-business (no Flask). One `MetaClient` per access token: it builds
its own `FacebookSession` and `FacebookAdsApi` (never `FacebookAdsApi.init()`, which installs a
process-wide default and a crash reporter) and passes `api=` to every SDK object.

Every SDK failure surfaces as a `MetaError` subclass, whether it happens on the first request or
while paging; no message, repr or traceback of ours carries the access token. A client is not
thread-safe (neither is its requests.Session): use one per job.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any
from urllib.parse import urlparse

import requests
import urllib3
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.adobjects.adsinsights import AdsInsights
from facebook_business.adobjects.campaign import Campaign
from facebook_business.adobjects.objectparser import ObjectParser
from facebook_business.api import Cursor, FacebookAdsApi
from facebook_business.exceptions import FacebookBadObjectError, FacebookRequestError
from facebook_business.session import FacebookSession

from ads.meta_pages import RawPage, loads, next_cursor, pipelined, tail_paging
from ads.meta_rows import (
    LEAD_TYPES,
    PURCHASE_TYPES,
    SLOW_DOWN_PCT,
    AccountInfo,
    InsightPage,
    InsightRow,
    MetaError,
    MinorRow,
    PlatformCampaign,
    RateLimited,
    TokenInvalid,
    TooMuchData,
    TransientError,
    Usage,
    parse_insight_row,
    parse_minor_row,
    pick_action,
    to_minor,
)

__all__ = [
    "LEAD_TYPES",
    "PURCHASE_TYPES",
    "SLOW_DOWN_PCT",
    "AccountInfo",
    "InsightPage",
    "InsightRow",
    "MetaClient",
    "MinorRow",
    "MetaError",
    "PlatformCampaign",
    "RateLimited",
    "TokenInvalid",
    "TooMuchData",
    "TransientError",
    "Usage",
    "normalise_account_id",
    "parse_insight_row",
    "parse_minor_row",
    "pick_action",
    "to_minor",
]

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v26.0"
LEVELS = {
    "account": AdsInsights.Level.account,
    "campaign": AdsInsights.Level.campaign,
    "adset": AdsInsights.Level.adset,
    "ad": AdsInsights.Level.ad,
}
_F = AdsInsights.Field
INSIGHT_FIELDS = (
    _F.account_id,
    _F.account_currency,
    _F.campaign_id,
    _F.campaign_name,
    _F.adset_id,
    _F.adset_name,
    _F.ad_id,
    _F.ad_name,
    _F.spend,
    _F.impressions,
    _F.clicks,
    _F.inline_link_clicks,
    _F.reach,
    _F.actions,
    _F.action_values,
    _F.date_start,
    _F.date_stop,
    _F.attribution_setting,
)
# What the sync stores (parse_minor_row): asking for less makes every page smaller to build,
# send and decode, at Meta as here.
SYNC_FIELDS = (
    _F.campaign_id,
    _F.campaign_name,
    _F.adset_id,
    _F.ad_id,
    _F.ad_name,
    _F.spend,
    _F.impressions,
    _F.clicks,
    _F.reach,
    _F.actions,
    _F.action_values,
    _F.date_start,
    _F.date_stop,
    _F.attribution_setting,
)
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
TOKEN_REASONS = {
    458: "app removed by the user",
    459: "user checkpointed",
    460: "password changed",
    463: "access token expired",
    464: "user not confirmed",
    467: "access token invalid",
    492: "invalid session",
}
JOB_DONE, JOB_FAILED = "Job Completed", ("Job Failed", "Job Skipped")


def _plain_rows(row: dict[str, Any], api: Any) -> dict[str, Any]:
    return row  # the SDK calls this once per row of a page


def _encode_param(value: Any) -> Any:
    """Query values as the SDK sends them: lists, dicts and booleans as compact JSON."""
    if isinstance(value, (dict, list, tuple, bool)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def _row_data(row: Any) -> dict[str, Any]:
    return row if isinstance(row, dict) else row.export_all_data()


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_account_id(account_id: str) -> str:
    account_id = str(account_id).strip()
    account_id = account_id if account_id.startswith("act_") else f"act_{account_id}"
    if not re.fullmatch(r"act_\d+", account_id):
        raise ValueError(f"{account_id!r} is not an ad account id like act_1234567890")
    return account_id


# -- the client -----------------------------------------------------------------------------------


class MetaClient:
    """Reads one access token's ad accounts through facebook-business.

    `timeout` bounds every HTTP request; async report runs are polled every `poll_interval`
    seconds (growing to 30 s) for at most `max_wait`; windows longer than `async_after_days`
    go through async report runs.
    """

    def __init__(
        self,
        access_token: str,
        *,
        graph_url: str = DEFAULT_GRAPH_URL,
        api_version: str = DEFAULT_API_VERSION,
        app_secret: str | None = None,
        timeout: float = 60,
        poll_interval: float = 5.0,
        max_wait: float = 1800.0,
        async_after_days: int = 31,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not access_token:
            raise ValueError("an access token is required")
        self.graph_url = graph_url.rstrip("/")
        self.api_version = api_version
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.max_wait = max_wait
        self.async_after_days = async_after_days
        self._sleep = sleep
        session = FacebookSession(access_token=access_token, app_secret=app_secret, timeout=timeout)
        session.GRAPH = self.graph_url  # on the instance: the class attribute stays Meta's
        if _is_loopback(self.graph_url):
            session.requests.trust_env = False  # a proxy from the environment cannot reach us
        session.requests.hooks["response"].append(self._remember)
        self._secrets = [s for s in (access_token, getattr(session, "appsecret_proof", None)) if s]
        self._session = session
        self._last: requests.Response | None = None
        self.api = FacebookAdsApi(session, api_version=api_version)

    def __repr__(self) -> str:
        return f"MetaClient(graph_url={self.graph_url!r}, api_version={self.api_version!r})"

    def close(self) -> None:
        self._session.requests.close()

    def __enter__(self) -> MetaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads -----------------------------------------------------------------------------------

    def get_account(self, account_id: str) -> AccountInfo:
        fields = [
            AdAccount.Field.name,
            AdAccount.Field.currency,
            AdAccount.Field.timezone_name,
            AdAccount.Field.account_status,
        ]
        account = self._account(account_id)
        with self._translating("account"):
            account.api_get(fields=fields, params={})
        status = account.get(AdAccount.Field.account_status)
        return AccountInfo(
            id=normalise_account_id(account.get(AdAccount.Field.id) or account_id),
            name=str(account.get(AdAccount.Field.name) or ""),
            currency=str(account.get(AdAccount.Field.currency) or ""),
            timezone=str(account.get(AdAccount.Field.timezone_name) or ""),
            status=int(status) if status is not None else None,
        )

    def account_currency(self, account_id: str, since: date, until: date) -> str:
        """The currency of the account's insights for since..until, "" if it had none.

        One account-level row (no time increment): for servers that do not serve the
        account node itself.
        """
        params = {
            "level": LEVELS["account"],
            "time_range": {"since": since.isoformat(), "until": until.isoformat()},
            "limit": 1,
        }
        with self._translating("account currency"):
            cursor = self._account(account_id).get_insights(
                fields=[_F.account_currency], params=params
            )
            first = _row_data(cursor[0]) if len(cursor) else {}
        return str(first.get("account_currency") or "").strip().upper()

    def list_campaigns(self, account_id: str) -> list[PlatformCampaign]:
        fields = [Campaign.Field.id, Campaign.Field.name, Campaign.Field.status]
        fields.append(Campaign.Field.objective)
        account = self._account(account_id)
        with self._translating("campaigns"):
            cursor = account.get_campaigns(fields=fields, params={"limit": 200})
            return [
                PlatformCampaign(
                    id=str(c[Campaign.Field.id]),
                    name=str(c.get(Campaign.Field.name) or ""),
                    status=str(c.get(Campaign.Field.status) or ""),
                    objective=str(c.get(Campaign.Field.objective) or ""),
                )
                for c in cursor
            ]

    def iter_insights(
        self,
        account_id: str,
        since: date,
        until: date,
        *,
        level: str = "ad",
        use_async: bool | None = None,
        page_size: int = 500,
        after: str | None = None,
        report_run: str | None = None,
        on_report: Callable[[str], None] | None = None,
        fields: Sequence[str] = INSIGHT_FIELDS,
        prepare: Callable[[list[dict[str, Any]]], Any] | None = None,
    ) -> Iterator[InsightPage]:
        """Daily rows (time_increment=1) for since..until, one page at a time.

        The first page (and, for long windows or `use_async=True`, the whole async report
        run) is fetched before this returns, so errors on the first request raise here; later
        pages load as you iterate and their errors raise from the loop. Commit a page, keep its
        `after_cursor`, and pass it back as `after` to resume (within the same report run, or a
        synchronous read; Meta's cursors are not guaranteed across report runs).

        `report_run`: the id of a finished report run of this same query to read again
        (resuming it, with `after`) instead of submitting one; `on_report(id)` is told the id
        of the report run that is read, so a later attempt can come back to it.

        `fields`: what to ask for (the sync asks for SYNC_FIELDS only). `prepare(data)`, when
        given, runs on every page's rows ahead of the caller (in the thread loading the pages,
        while the caller stores the page before) and lands in `page.prepared`; whatever it
        raises is raised from the loop in page order, like a request's errors.
        """
        if since > until:
            raise ValueError("since must be on or before until")
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
        account = self._account(account_id)
        if use_async is None:
            use_async = report_run is not None or (until - since).days + 1 > self.async_after_days

        def query() -> dict[str, Any]:  # fresh every call: the SDK mutates params
            return {
                "level": LEVELS[level],
                "time_range": {"since": since.isoformat(), "until": until.isoformat()},
                "time_increment": 1,
                "use_unified_attribution_setting": True,
            }

        page = {"limit": page_size} | ({"after": after} if after else {})
        if use_async:
            if report_run is not None:
                run = AdReportRun(report_run, api=self.api)
                if self._wait(run) != JOB_DONE:
                    raise MetaError(f"Meta's report run {report_run} can no longer be read")
            else:
                run = self._report_run(account, query, fields)
            if on_report is not None:
                on_report(run.get_id())
            node, what = run.get_id(), "report results"
            request = run.get_insights(params=dict(page), pending=True)  # = run.get_result()
        else:
            node, what = account.get_id(), "insights"
            request = account.get_insights(fields=list(fields), params=query() | page, pending=True)
        # Rows as plain dicts, also on the first page: building an SDK object per row and
        # exporting it back cost more than parsing the row.
        request._response_parser = ObjectParser(api=self.api, custom_parse_method=_plain_rows)
        with self._translating(what):
            cursor = request.execute()
        return self._pages(cursor, (node, "insights"), after, prepare)

    # -- internals -------------------------------------------------------------------------------

    def _account(self, account_id: str) -> AdAccount:
        return AdAccount(normalise_account_id(account_id), api=self.api)

    def _pages(
        self,
        cursor: Cursor,
        path: tuple[str, str],
        after: str | None,
        prepare: Callable[[list[dict[str, Any]]], Any] | None,
    ) -> Iterator[InsightPage]:
        """The SDK's first page, then the rest, fetched and decoded ahead of the caller.

        Later pages repeat the cursor's request with `after` (as the SDK's Cursor does, and
        only while the page had both `paging.cursors.after` and `paging.next`), through the
        SDK's session (token, appsecret_proof, timeout) but decoded once: the SDK's call()
        and Cursor decode every body twice, and decoding is most of a page's cost. Rows stay
        plain dicts, loaded ahead of the caller by `_prefetched`.
        """
        current = cursor.params.get("after")
        more = current is not None and current != after  # the Cursor moved on: a next page
        data = [_row_data(cursor[i]) for i in range(len(cursor))]
        usage = Usage.from_headers(cursor.headers())
        url = "/".join((self.graph_url, self.api_version, *path))
        params = {k: v for k, v in cursor.params.items() if k != "after"}
        if data:
            prepared = prepare(data) if prepare else None
            yield InsightPage(data, current if more else None, usage, prepared)
        if more:
            yield from self._prefetched(url, params, current, prepare)

    def _prefetched(
        self,
        url: str,
        params: dict[str, Any],
        after: str,
        prepare: Callable[[list[dict[str, Any]]], Any] | None,
    ) -> Iterator[InsightPage]:
        """The pages after `after`, fetched and decoded ahead of the caller (meta_pages)."""
        query = {k: _encode_param(v) for k, v in params.items()}
        return pipelined(
            after,
            lambda cursor: self._fetch_page(url, query | {"after": cursor}),
            lambda raw: self._decode_page(url, raw, prepare),
            join_timeout=self.timeout + 5,
        )

    def _fetch_page(self, url: str, query: dict[str, Any]) -> RawPage:
        """GET one page; find the next page's cursor (from the body's tail when it can)."""
        with self._translating("insights page"):
            # The body in one read (gzip undone) rather than requests' 10 kB chunks.
            response = self._session.requests.get(
                url,
                params=query,
                headers=FacebookAdsApi.HTTP_DEFAULT_HEADERS,
                timeout=self.timeout,
                stream=True,
            )
            try:
                content = response.raw.read(decode_content=True)
            finally:
                response.close()
        status = response.status_code
        raw = RawPage(status, content, response.headers, None)
        if status >= 400 or b'"data":[]' in content:
            return raw  # the decoder raises the error, or ends on the empty page
        paging = tail_paging(content)
        if paging is None:  # no trailing paging to read: decode it all here
            try:
                raw.body = loads(content)
            except ValueError:
                return raw
            paging = raw.body.get("paging") if isinstance(raw.body, dict) else None
        raw.after = next_cursor(paging)
        return raw

    def _decode_page(
        self,
        url: str,
        raw: RawPage,
        prepare: Callable[[list[dict[str, Any]]], Any] | None,
    ) -> InsightPage | None:
        """The rows of a fetched page (None when it has none), or the error it holds."""
        body = raw.body
        if body is None:
            try:
                body = loads(raw.content)
            except ValueError:
                raise self._unreadable("insights page", raw.status, is_json=False) from None
        if raw.status >= 400 or not isinstance(body, dict) or "error" in body:
            text = raw.content.decode("utf-8", "replace")
            error = FacebookRequestError(
                "Call was not successful",
                {"method": "GET", "path": url},
                raw.status,
                raw.headers,
                text,
            )
            raise self._from_request_error(error, "insights page")
        rows = body.get("data")
        if not isinstance(rows, list):
            raise self._unreadable("insights page", raw.status, is_json=True)
        if next_cursor(body.get("paging")) != raw.after:
            raise MetaError("Meta's paging could not be read consistently; sync again")
        if not rows:
            return None
        prepared = prepare(rows) if prepare else None
        return InsightPage(rows, raw.after, Usage.from_headers(raw.headers), prepared)

    def _report_run(
        self, account: AdAccount, query: Callable[[], dict[str, Any]], fields: Sequence[str]
    ) -> AdReportRun:
        """Submit an async report run and wait for it; a failed or skipped run is resubmitted
        once, and a second failure raises TooMuchData (the sync then halves the window)."""
        outcome = ""
        for _attempt in range(2):
            with self._translating("report run"):
                run = account.get_insights(fields=list(fields), params=query(), is_async=True)
            outcome = self._wait(run)
            if outcome == JOB_DONE:
                return run
        # Big windows are what makes report runs fail: the caller may ask for less.
        raise TooMuchData(f"Meta's insights report run ended '{outcome}' twice")

    def _wait(self, run: AdReportRun) -> str:
        fields = [AdReportRun.Field.async_status, AdReportRun.Field.async_percent_completion]
        deadline = time.monotonic() + self.max_wait
        interval = self.poll_interval
        while True:
            with self._translating("report status"):
                run.api_get(fields=fields, params={})
            status = str(run.get(AdReportRun.Field.async_status) or "")
            # 100% can come with "Job Running": only the status says it is done.
            if status == JOB_DONE or status in JOB_FAILED:
                return status
            if time.monotonic() + interval > deadline:
                pct = run.get(AdReportRun.Field.async_percent_completion)
                raise TransientError(
                    f"Meta's report run is still '{status}' ({pct}%) after {self.max_wait:g} s"
                )
            self._sleep(interval)
            interval = min(interval * 1.5, max(self.poll_interval, 30.0))

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last = response

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def _last_status(self) -> int | None:
        return self._last.status_code if self._last is not None else None

    def _last_is_json(self) -> bool:
        if self._last is None:
            return False
        try:
            json.loads(self._last.text)
        except ValueError:
            return False
        return True

    @contextmanager
    def _translating(self, what: str) -> Iterator[None]:
        """Turn whatever the SDK or requests raised into a MetaError (without the token)."""
        self._last = None
        try:
            yield
        except FacebookRequestError as exc:
            raise self._from_request_error(exc, what) from None
        except FacebookBadObjectError:
            raise self._unreadable(what) from None
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            raise TransientError(
                f"Meta did not answer within {self.timeout:g} s ({what})"
            ) from None
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise TransientError(
                f"network error talking to Meta ({what}): {type(exc).__name__}"
            ) from None
        except (TypeError, KeyError, AttributeError, ValueError):
            # An HTML error page that happens to contain "data" or "paging" trips the SDK's
            # substring checks in odd ways; anything else is a bug to see, not to hide.
            if self._last is not None and not self._last_is_json():
                raise self._unreadable(what) from None
            raise

    def _unreadable(
        self, what: str, status: int | None = None, *, is_json: bool | None = None
    ) -> MetaError:
        """Meta's answer was not what the SDK (or we) could read; by default the last one."""
        if is_json is None:
            status, is_json = self._last_status(), self._last_is_json()
        if status is None or status >= 500 or not is_json:
            return TransientError(
                f"Meta sent a response that is not JSON (HTTP {status}) ({what})",
                http_status=status,
            )
        return MetaError(
            f"unexpected response from Meta (HTTP {status}) ({what})", http_status=status
        )

    def _from_request_error(self, exc: FacebookRequestError, what: str) -> MetaError:
        code, subcode, status = exc.api_error_code(), exc.api_error_subcode(), exc.http_status()
        message = self._scrub(str(exc.api_error_message() or f"HTTP {status}"))
        body = exc.body()
        error = body.get("error") if isinstance(body, dict) else None
        trace = error.get("fbtrace_id") if isinstance(error, dict) else None
        usage = Usage.from_headers(exc.http_headers())
        ref = f"{code}/{subcode}" if subcode is not None else f"{code}"
        info = {"code": code, "subcode": subcode, "http_status": status, "fbtrace_id": trace}
        if code == 190:
            reason = TOKEN_REASONS.get(subcode or 0, "access token invalid")
            return TokenInvalid(f"{reason} ({ref}): {message}", **info)
        if code in RATE_LIMIT_CODES:
            return RateLimited(
                f"rate limited by Meta ({ref}): {message}",
                retry_after=usage.regain_seconds,
                **info,
            )
        if (code == 100 and subcode == 1487534) or "reduce the amount of data" in message.lower():
            return TooMuchData(f"Meta asks for less data ({ref}): {message}", **info)
        if exc.api_transient_error() or code in TRANSIENT_CODES or (status or 0) >= 500:
            if code is None:
                return TransientError(f"Meta answered HTTP {status} ({what})", **info)
            return TransientError(f"temporary Meta error ({ref}, HTTP {status}): {message}", **info)
        return MetaError(f"Meta refused the {what} request ({ref}): {message}", **info)
