"""What a running sandbox remembers: its data, armed faults, report runs and request counters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ads.sandbox.data import AccountSpec, SandboxData
from ads.sandbox.faults import Faults, GraphError, unsupported
from ads.sandbox.insights import InsightsPager, InsightsQuery

RUNNING = ("Job Not Started", "Job Started", "Job Running")


def appsecret_proof(app_secret: str, token: str) -> str:
    """HMAC-SHA256(app_secret, token), hex: what Meta expects in `appsecret_proof`."""
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


@dataclass
class ReportRun:
    id: str
    query: InsightsQuery
    outcome: str  # "Job Completed", or "Job Failed"/"Job Skipped" when a fault said so
    polls: int = 0
    status: str = ""


class SandboxState:
    def __init__(self, data: SandboxData) -> None:
        self.data = data
        self.faults = Faults()
        self._lock = threading.Lock()
        self._runs: dict[str, ReportRun] = {}
        self._seq = 0
        self._traces = 0
        self._counts: Counter[str] = Counter()
        self._accounts: Counter[str] = Counter()
        self._pagers: dict[InsightsQuery, InsightsPager] = {}

    def pager(self, query: InsightsQuery) -> InsightsPager:
        """The query's pager, kept for its next pages (an account's ads never change)."""
        with self._lock:
            pager = self._pagers.get(query)
            if pager is None:
                if len(self._pagers) >= 32:
                    self._pagers.pop(next(iter(self._pagers)))
                pager = self._pagers[query] = InsightsPager(self.data, query)
            return pager

    # -- faults ----------------------------------------------------------------------------------

    def set_faults(self, config: Mapping[str, Any]) -> None:
        """Arm faults; `restate` (true/false or {"days": N}) switches restated numbers on/off."""
        config = dict(config)
        restate = config.pop("restate", None)
        self.faults.set(config)
        if restate is None:
            return
        if isinstance(restate, Mapping):
            days = int(restate.get("days", self.data.restate_days))
            if days < 1:
                raise ValueError("restate: days must be at least 1")
            self.data.restate_days = days
            restate = restate.get("on", True)
        if not isinstance(restate, bool):
            raise ValueError('restate: true, false or {"days": N}')
        self.data.restated = restate

    def reset_faults(self) -> None:
        self.faults.clear()
        self.data.restated = False

    # -- requests --------------------------------------------------------------------------------

    def authenticate(self, params: Mapping[str, str]) -> None:
        token = params.get("access_token")
        if not token:
            raise GraphError("An access token is required to request this resource.", 104)
        if token not in self.data.tokens:
            if token.startswith("EAA"):  # Meta echoes a token it cannot parse
                raise GraphError(f"Malformed access token {token}", 190)
            raise GraphError("Invalid OAuth access token - Cannot parse access token", 190)
        if self.data.app_secret:
            proof = params.get("appsecret_proof")
            if not proof:
                raise GraphError(
                    "API calls from the server require an appsecret_proof argument",
                    100,
                    type_="GraphMethodException",
                )
            if not hmac.compare_digest(proof, appsecret_proof(self.data.app_secret, token)):
                raise GraphError(
                    "Invalid appsecret_proof provided in the API argument",
                    100,
                    type_="GraphMethodException",
                )

    def resolve(self, endpoint: str, node: str) -> tuple[AccountSpec | None, ReportRun | None]:
        """The account (and report run) a request is about; unknown ones answer 100/33."""
        if endpoint in ("report_status", "report_results"):
            with self._lock:
                run = self._runs.get(node)
            if run is None:
                raise unsupported(node)
            return run.query.account, run
        account = self.data.account(node) if node.startswith("act_") else None
        if account is None:
            raise unsupported(node)
        return account, None

    def new_run(self, query: InsightsQuery, outcome: str) -> ReportRun:
        with self._lock:
            self._seq += 1
            run = ReportRun(f"6{self._seq:011d}", query, outcome)
            self._runs[run.id] = run
            self._counts["report_runs"] += 1
        return run

    def poll(self, run: ReportRun) -> tuple[str, int]:
        """One status poll. Completes after `data.async_polls` polls; the poll before says
        "Job Running" at 100%, as Meta sometimes does."""
        with self._lock:
            run.polls += 1
            needed = max(1, self.data.async_polls)
            if run.polls >= needed:
                run.status = run.outcome
                return run.status, 100 if run.outcome == "Job Completed" else 0
            if run.polls == 1 and needed > 2:
                run.status = "Job Not Started"
                return run.status, 0
            run.status = "Job Running"
            return run.status, min(100, round(100 * run.polls / (needed - 1)))

    def trace_id(self) -> str:
        with self._lock:
            self._traces += 1
            seq = self._traces
        digest = hashlib.blake2b(f"trace{seq}".encode(), digest_size=16).digest()
        return "A" + base64.urlsafe_b64encode(digest).decode()[:22]

    # -- counters --------------------------------------------------------------------------------

    def count(self, endpoint: str, account: AccountSpec | None, failed: bool) -> int:
        """Record one served request; returns the account's request count so far."""
        with self._lock:
            self._counts["requests"] += 1
            self._counts[f"endpoint:{endpoint}"] += 1
            if failed:
                self._counts["errors"] += 1
            if account is None:
                return 0
            self._accounts[account.id] += 1
            return self._accounts[account.id]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._counts["requests"],
                "errors": self._counts["errors"],
                "report_runs": self._counts["report_runs"],
                "by_endpoint": {
                    k.removeprefix("endpoint:"): v
                    for k, v in sorted(self._counts.items())
                    if k.startswith("endpoint:")
                },
                "by_account": dict(sorted(self._accounts.items())),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._counts.clear()
            self._accounts.clear()

    def reset(self) -> None:
        """Faults off, restatement off, counters zero: a fresh sandbox over the same data."""
        self.reset_faults()
        self.reset_stats()
