"""Redis down, Redis restarted (its jobs lost), PostgreSQL refusing connections mid-page: the
pages still render, nothing half-started is left behind, lost jobs are queued again, and the
interrupted sync ends on the sandbox's truth."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from datetime import timedelta

import pytest
from redis import Redis
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from ads import services, sync
from ads.models import SyncRun
from ads.sandbox import DEFAULT_TOKEN
from ads.sync_runs import reconcile
from config import BASE_DIR
from core.extensions import db
from core.types import utcnow
from tests.ads.conftest import END
from tests.ads.test_sync import ACCOUNT, db_totals, truth
from tests.ads.test_sync_lifecycle import fresh, wait_for
from tests.ads.workers import (
    PrivateRedis,
    free_port,
    release_app,
    start_worker,
    stop,
    worker_cmd,
    worker_env,
)
from tests.conftest import login, make_app

SINCE = END - timedelta(days=59)


def app_on(database_url: str, redis: str, sandbox, **extra):
    return make_app(
        database_url,
        REDIS_URL=redis,
        META_GRAPH_URL=sandbox.url,
        META_POLL_INTERVAL=0.01,
        **extra,
    )


@pytest.fixture
def redis_down(database_url, sandbox, users):
    """An app whose Redis is not there (a port nobody listens on)."""
    application = app_on(database_url, f"redis://127.0.0.1:{free_port()}/0", sandbox)
    with application.app_context():
        yield application
        release_app(application)


def test_with_redis_down_pages_render_and_sync_now_starts_nothing(redis_down, sandbox):
    account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    # A run its worker stopped beating, and whose job Redis can no longer be asked about.
    dead = SyncRun(
        account_id=account.id,
        kind="meta_sync",
        status="running",
        since=SINCE,
        until=END,
        job_id=f"sync-account-{account.id}-run-1",
        heartbeat_at=utcnow() - timedelta(minutes=5),
    )
    db.session.add(dead)
    db.session.commit()
    client = redis_down.test_client()
    login(client, "marketer@example.test")

    page = client.get(f"/ads/accounts/{account.id}")
    assert page.status_code == 200
    assert fresh(dead.id).status == "failed"  # closed on sight, Redis or not
    pressed = client.post(
        f"/ads/accounts/{account.id}/sync",
        data={"since": str(SINCE), "until": str(END)},
        follow_redirects=True,
    )
    html = pressed.get_data(as_text=True)
    assert pressed.status_code == 200 and pressed.request.path == f"/ads/accounts/{account.id}"
    assert "The job queue is unavailable (Redis does not answer)" in html
    assert db.session.scalar(select(func.count(SyncRun.id))) == 1  # nothing new written
    assert client.get(f"/ads/runs/{dead.id}").status_code == 200

    runner = redis_down.test_cli_runner()
    queued = runner.invoke(args=["ads", "sync", "--account-id", ACCOUNT, "--enqueue"])
    assert queued.exit_code == 2 and "--inline" in queued.output
    assert "Traceback" not in queued.output
    here = runner.invoke(
        args=["ads", "sync", "--account-id", ACCOUNT, "--since", str(SINCE), "--until", str(END)]
        + ["--inline"]
    )
    assert here.exit_code == 0, here.output
    assert db_totals(account.id, SINCE, END) == truth(sandbox, SINCE, END)


def test_a_job_lost_in_a_redis_restart_is_queued_again_by_the_reconciler(
    database_url, sandbox, tmp_path
):
    redis = PrivateRedis().start()
    application = app_on(database_url, redis.url, sandbox, SYNC_STALE_SECONDS=1)
    try:
        with application.app_context():
            account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
            db.session.commit()
            run = sync.start_sync(account.id, SINCE, END)
            assert run.status == "queued"
            redis.restart()  # no persistence: the queue comes back empty
            assert reconcile() == {"closed": [], "requeued": []}  # fresh: someone may hold it
            time.sleep(1.2)
            assert reconcile() == {"closed": [], "requeued": [run.id]}
            assert reconcile() == {"closed": [], "requeued": []}  # queued once, not twice

            # A retrying run whose scheduled retry was lost comes back at its retry time.
            other = services.connect_meta_account("act_1002", DEFAULT_TOKEN, currency="EUR")
            db.session.commit()
            retrying = SyncRun(
                account_id=other.id,
                kind="meta_sync",
                status="retrying",
                since=SINCE,
                until=END,
                job_id=f"sync-account-{other.id}-run-x-retry-1",
                heartbeat_at=utcnow() - timedelta(minutes=5),
                next_retry_at=utcnow() + timedelta(minutes=10),
            )
            db.session.add(retrying)
            db.session.commit()
            assert reconcile()["requeued"] == [retrying.id]
            conn = Redis.from_url(redis.url)
            assert ScheduledJobRegistry("default", connection=conn).get_job_ids() == [
                retrying.job_id
            ]
            conn.close()

            done = subprocess.run(
                worker_cmd("--burst"),
                cwd=BASE_DIR,
                env=worker_env(database_url, redis.url, sandbox.url),
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            finished = fresh(run.id)
            assert (finished.status, finished.error) == ("succeeded", ""), done.stderr[-3000:]
            assert db_totals(account.id, SINCE, END) == truth(sandbox, SINCE, END)
            release_app(application)
    finally:
        redis.stop()


class TcpProxy:
    """A TCP relay the test can cut: open connections reset, new ones refused, until
    `restore()` listens again on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        if self._listener is not None:
            # shutdown() first: a bare close() leaves the thread blocked in accept() holding
            # the socket, and it would go on accepting.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.start()


def test_postgresql_refusing_connections_mid_page_the_run_retries_and_ends_exact(
    database_url, redis_url, sandbox, tmp_path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL server to cut off")
    target = make_url(database_url)
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432)).start()
    via_proxy = target.set(port=proxy.port).render_as_string(hide_password=False)
    application = app_on(database_url, redis_url, sandbox)
    worker = None
    with application.app_context():
        try:
            account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
            db.session.commit()
            slow = {"count": "always", "seconds": 0.1, "match": "insights"}
            sandbox.state.set_faults({"slow": slow})
            run = sync.start_sync(account.id, SINCE, END)
            env = worker_env(via_proxy, redis_url, sandbox.url, META_PAGE_SIZE="10")
            env["SYNC_RETRY_BASE_SECONDS"] = "1"
            worker = start_worker(env, tmp_path / "worker.log")
            wait_for(lambda: fresh(run.id).pages >= 3, "three pages")
            proxy.cut()  # PostgreSQL is gone for the worker: resets, then refusals
            time.sleep(3)
            proxy.restore()
            done = wait_for(lambda: fresh(run.id).is_final and fresh(run.id), "the run", 120)
        finally:
            if worker is not None:
                stop(worker)
            proxy.cut()
        log = (tmp_path / "worker.log").read_text()
        assert (done.status, done.error) == ("succeeded", ""), log[-3000:]
        assert done.attempts >= 2 and "database connection failed" in log
        assert db_totals(account.id, SINCE, END) == truth(sandbox, SINCE, END)
        assert done.rows_inserted == truth(sandbox, SINCE, END)["rows"]
        release_app(application)
