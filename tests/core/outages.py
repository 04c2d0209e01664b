"""Real outages for tests: a closed port, a TCP proxy that can be cut, a private redis-server.

Nothing here stops the shared PostgreSQL or Redis: a test points the app at a port nobody
listens on, at a proxy it cuts, or at a redis-server of its own that it kills and restarts.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable

from flask import Flask
from redis import Redis
from sqlalchemy.engine import make_url

from config import TestConfig
from core.app import create_app
from tests.conftest import IsolatedClient


def free_port() -> int:
    """A port nothing listens on (bound and released; nobody else is told about it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_with_database(url: str, **overrides) -> Flask:
    """An app whose database is `url` (the suite's config otherwise), env left untouched."""

    class OutageConfig(TestConfig):
        def __init__(self) -> None:
            super().__init__()
            self.SQLALCHEMY_DATABASE_URI = url

    for name, value in overrides.items():
        setattr(OutageConfig, name, value)
    application = create_app(OutageConfig)
    application.test_client_class = IsolatedClient
    return application


def refused_database_urls() -> dict[str, str]:
    """A PostgreSQL URL on a closed port and a SQLite file in a directory that does not exist:
    both refuse every connection for real."""
    return {
        "postgresql": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/flightdeck",
        "sqlite": "sqlite:////nonexistent-flightdeck-dir/flightdeck.db",
    }


def wait_until(check: Callable[[], object], timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except Exception:  # the thing waited for may raise until it is ready
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server; `cut()` drops every connection and refuses new
    ones (the port stays the same), `restore()` accepts again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    @classmethod
    def for_url(cls, url: str) -> TcpProxy:
        parsed = make_url(url)
        return cls(parsed.host or "127.0.0.1", parsed.port or 5432)

    def url_through(self, url: str) -> str:
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(False)

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class PrivateRedis:
    """A redis-server of the test's own on a free port, nothing persisted: `kill()` loses
    everything, as a Redis restarted without persistence does."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        assert self.binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: self.client().ping(), 10, f"redis-server on port {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def client(self) -> Redis:
        return Redis.from_url(self.url, socket_connect_timeout=1)


def stop_process(process: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM, then SIGKILL if it does not stop in time; returns the exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.returncode
