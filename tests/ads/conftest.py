"""The Graph API sandbox on a real loopback port, and a MetaClient pointed at it.

One sandbox serves the whole session (werkzeug, threaded, in a daemon thread); every test starts
with no faults armed, restatement off and zeroed counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import requests

from ads.meta import MetaClient
from ads.sandbox import DEFAULT_TOKEN, RunningSandbox, SandboxData, serve_sandbox

END = date(2026, 3, 31)  # the sandbox's "today": fixed, so every number is reproducible
DAYS = 75
# A token that looks real, to prove it never leaks into error text.
SECRET_TOKEN = "EAAGm0PX4ZCpsBAOsecretTOKENvalue0123456789"


@pytest.fixture(autouse=True)
def _app_context(request: pytest.FixtureRequest) -> Iterator[None]:
    """The suite-wide app context (tests/conftest.py), except for modules that say
    `NEEDS_APP = False`: the connector and sandbox tests need no database, so a broken or
    absent database must not stop them."""
    if getattr(request.module, "NEEDS_APP", True):
        request.getfixturevalue("_app_context")  # the parent fixture of the same name
    yield


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
    data = SandboxData(
        seed=7,
        end_date=END,
        days=DAYS,
        campaigns=3,
        adsets_per_campaign=2,
        ads_per_adset=2,
        tokens=frozenset({DEFAULT_TOKEN, SECRET_TOKEN}),
        async_polls=3,
    )
    with serve_sandbox(data) as running:
        yield running


@pytest.fixture
def sandbox(sandbox_server: RunningSandbox) -> Iterator[RunningSandbox]:
    sandbox_server.state.reset()
    yield sandbox_server
    sandbox_server.state.reset()


@pytest.fixture
def meta(sandbox: RunningSandbox) -> Iterator[MetaClient]:
    with MetaClient(DEFAULT_TOKEN, graph_url=sandbox.url, timeout=10, poll_interval=0.01) as c:
        yield c


@pytest.fixture
def secret_token() -> str:
    return SECRET_TOKEN


@pytest.fixture
def graph(sandbox: RunningSandbox) -> Iterator[Callable[..., requests.Response]]:
    """`graph("act_1001/insights", level="ad", ...)`: a plain GET to the sandbox's Graph API
    (with the sandbox token unless given; no proxy from the environment)."""
    with requests.Session() as session:
        session.trust_env = False

        def get(path: str, *, method: str = "GET", **params: Any) -> requests.Response:
            params.setdefault("access_token", DEFAULT_TOKEN)
            url = path if path.startswith("http") else f"{sandbox.url}/v26.0/{path}"
            if method == "POST":
                token = {"access_token": params.pop("access_token")}
                return session.post(url, params=token, data=params, timeout=10)
            return session.request(method, url, params=params, timeout=10)

        yield get
