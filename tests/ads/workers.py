"""Real RQ worker processes for the sync tests, and their work horses.

`flask --app wsgi worker` forks a work horse per job; RQ puts the horse in a process group of
its own (setpgrp), so killing the worker's group leaves the horse running, as it would on a
server. `horse_of` finds it by that: the worker's child that leads its own group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

import config
from config import BASE_DIR


def worker_env(database_url: str, redis_url: str, sandbox_url: str, **extra: str) -> dict:
    return {
        **os.environ,
        "FLIGHTDECK_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "META_GRAPH_URL": sandbox_url,
        "META_POLL_INTERVAL": "0.02",
        "META_PAGE_SIZE": "40",
        # The worker must hold the same key the web process encrypted the token with.
        "SECRET_KEY": config.TestConfig.SECRET_KEY,
        "FLIGHTDECK_ENCRYPTION_KEY": config.TestConfig.FLIGHTDECK_ENCRYPTION_KEY,
        **extra,
    }


def worker_cmd(*extra: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "-q", "default", *extra]


def start_worker(env: dict, log: Path | None = None, *extra: str) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed in stop()
    proc = subprocess.Popen(
        worker_cmd(*extra),
        cwd=BASE_DIR,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as under a supervisor
    )
    proc._log = out  # type: ignore[attr-defined]
    return proc


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # state, ppid, pgrp, ...


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def horse_of(worker_pid: int, timeout: float = 30.0) -> int:
    """The work horse the worker forked for its current job."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in children(worker_pid):
            fields = _stat(pid)
            if fields and int(fields[2]) == pid and alive(pid):
                return pid
        time.sleep(0.02)
    raise AssertionError(f"worker {worker_pid} has no work horse")


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def wait_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while alive(pid):
        assert time.monotonic() < deadline, f"process {pid} is still alive"
        time.sleep(0.02)


def stop(proc: subprocess.Popen, *, horses: list[int] = ()) -> None:
    """SIGKILL the worker's group, its horses (own groups) and wait for all of them."""
    found = [p for p in children(proc.pid) if (f := _stat(p)) and int(f[2]) == p]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in [*horses, *found]:
        kill(pid)
        wait_gone(pid)
    proc.wait(timeout=30)
    if proc._log is not subprocess.DEVNULL:  # type: ignore[attr-defined]
        proc._log.close()  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own (no persistence): it can be stopped and restarted,
    losing everything, without touching the shared one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        conn = Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                conn.ping()
                break
            except RedisConnectionError:
                assert time.monotonic() < deadline, "private redis-server did not start"
                time.sleep(0.05)
        conn.close()
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def release_app(app) -> None:
    """What a test's own app holds, let go (inside its app context): background jobs waited
    for, the session, pooled database and Redis connections."""
    from core.extensions import db
    from core.jobs import wait_for_jobs

    wait_for_jobs(app, timeout=120)
    db.session.remove()
    db.engine.dispose()
    for conn in app.extensions.get("flightdeck_redis", {}).values():
        conn.close()
