"""The Graph API sandbox: stands in for Meta in tests, benchmarks and the demo.

    from ads.sandbox import SandboxData, serve_sandbox
    with serve_sandbox(SandboxData(seed=42, days=90)) as sandbox:
        client = MetaClient("sandbox-token", graph_url=sandbox.url)

`flask --app wsgi ads sandbox --port 8765` serves it in the foreground (`run_sandbox`).
"""

from ads.sandbox.data import DEFAULT_TOKEN, AccountSpec, SandboxData
from ads.sandbox.server import RunningSandbox, create_sandbox_app, run_sandbox, serve_sandbox

__all__ = [
    "DEFAULT_TOKEN",
    "AccountSpec",
    "RunningSandbox",
    "SandboxData",
    "create_sandbox_app",
    "run_sandbox",
    "serve_sandbox",
]
