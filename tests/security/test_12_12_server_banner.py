"""Issue 12.12: gunicorn started with the shipped config sends no `Server: gunicorn` banner."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, *config: str) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "FLIGHTDECK_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "banner-test-" + "k" * 40,
        "FLIGHTDECK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "REDIS_URL": "",
    }
    args = [str(GUNICORN), *config, "--bind", f"127.0.0.1:{port}", "--workers", "1", "wsgi:app"]
    proc = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stderr.close()


def headers_of(port: int, path: str) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def test_the_shipped_config_drops_the_server_banner(app, database_url):
    with gunicorn(database_url, "--config", "gunicorn.conf.py") as port:
        for path in ("/healthz", "/login", "/no-such-page", "/static/app.css"):
            status, headers = headers_of(port, path)
            assert status < 500, (path, status)
            assert "server" not in headers, (path, headers.get("server"))
            assert headers["x-content-type-options"] == "nosniff"  # the app's own headers stay


def test_without_it_gunicorn_announces_itself(app, database_url):
    """The check above can fail: plain gunicorn does send the banner."""
    with gunicorn(database_url, "--config", "/dev/null") as port:
        _, headers = headers_of(port, "/healthz")
    assert headers.get("server", "").startswith("gunicorn")


def test_the_readme_starts_gunicorn_with_the_config():
    readme = (ROOT / "README.md").read_text()
    assert "gunicorn -c gunicorn.conf.py wsgi:app" in readme
