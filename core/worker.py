"""The RQ worker behind `flask --app wsgi worker`, built to outlive a Redis outage.

RQ's own worker retries while it waits for a job, but gives up in three places: the heartbeat
it writes every 30 s while a job runs, any Redis call between jobs, and its scheduler process.
Here:

- a running job keeps running while Redis is away (its heartbeats are skipped, not fatal);
- the scheduler process (delayed jobs: sync retries) backs off and carries on;
- whatever still stops the work loop, `run_worker` waits for Redis with back-off and starts a
  fresh worker in the same process, until SIGTERM/SIGINT;
- after every reconnection the worker registers itself again (Redis may have restarted empty)
  and queues a run of the reconcilers registered in `core.jobs.RECONCILERS`, as it also does on
  start and every WORKER_RECONCILE_SECONDS (core/reconcile.py);
- its work horse and scheduler never outlive it: a SIGKILLed worker takes them along.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
from contextlib import suppress
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, Worker, worker_registration
from rq.callbacks import execute_failure_callback
from rq.job import Job
from rq.scheduler import RQScheduler

from core.jobs import WorkHorseKilled, redis_connection
from core.reconcile import ReconcilerThread, queue_reconcile

log = logging.getLogger("flightdeck.worker")

REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError)


class Backoff:
    """1, 2, 4 … seconds, capped; `reset()` after a success."""

    def __init__(self, cap: float, first: float = 1.0) -> None:
        self.first, self.cap, self.current = first, max(cap, first), first

    def next(self) -> float:
        value = self.current
        self.current = min(self.cap, self.current * 2)
        return value

    def reset(self) -> None:
        self.current = self.first


def describe(conn: Redis) -> str:
    kwargs = conn.connection_pool.connection_kwargs
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


def die_with_parent(parent_pid: int | None) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    if parent_pid and os.getppid() != parent_pid:
        os._exit(1)  # the parent died before the request took effect


class ResilientScheduler(RQScheduler):
    """RQ's scheduler process, whose loop waits out a Redis outage instead of dying with it."""

    max_backoff = 60.0
    parent_pid = 0

    def start(self):
        self.parent_pid = os.getpid()
        return super().start()

    def work(self) -> None:
        self._install_signal_handlers()
        backoff = Backoff(self.max_backoff)
        born = False
        while not self._stop_requested:
            if self.parent_pid and os.getppid() != self.parent_pid:
                # The worker was killed (SIGKILL skips its teardown): do not outlive it.
                self.log.warning("Scheduler: its worker is gone; stopping")
                break
            try:
                if not born:
                    self.register_birth()
                    born = True
                if self.should_reacquire_locks:
                    self.acquire_locks()
                self.heartbeat()
                self.enqueue_scheduled_jobs()
            except REDIS_ERRORS as exc:
                wait = backoff.next()
                self.log.warning("Scheduler: Redis unreachable (%s); retrying in %.0f s", exc, wait)
                self._sleep(wait)
                continue
            if backoff.current != backoff.first:
                self.log.info("Scheduler: Redis is back")
                backoff.reset()
            self._sleep(self.interval)
        with suppress(*REDIS_ERRORS):  # its locks expire by themselves when Redis is away
            self.stop()

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop_requested and time.monotonic() < deadline:
            time.sleep(min(0.5, seconds))


class FlaskWorker(Worker):
    """An RQ worker whose work horses run each job inside the Flask app context."""

    app: Flask
    on_reconnect: Any = None  # called (no arguments) when Redis answers again after an outage
    stop_event: threading.Event | None = None  # set on SIGTERM/SIGINT: run_worker must not restart
    _redis_lost_at: float | None = None

    def perform_job(self, job: Job, queue: Queue, execution: Any) -> bool:  # type: ignore[override]
        from core.extensions import db

        with self.app.app_context():
            # The horse is a fork: never reuse the parent's pooled database connections.
            db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()

    def handle_work_horse_killed(self, job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
        """The horse died without a word (SIGKILL, OOM): its job's failure callback says so
        now, as RQ only does for a job it finds abandoned much later."""
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        from core.extensions import db

        sig = os.WTERMSIG(ret_val) if ret_val and os.WIFSIGNALED(ret_val) else None
        how = f"killed by signal {sig}" if sig else f"exited with status {ret_val}"
        exc = WorkHorseKilled(f"the process running it was {how}")
        with self.app.app_context():
            try:
                execute_failure_callback(job, self.death_penalty_class, WorkHorseKilled, exc, None)
            except Exception:
                self.log.exception("failure callback for killed job %s raised", job.id)
            finally:
                db.session.remove()

    def request_stop(self, signum: int, frame: Any) -> None:
        # RQ stops an idle worker by raising out of its loop without a flag to read afterwards.
        if self.stop_event is not None:
            self.stop_event.set()
        super().request_stop(signum, frame)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        # In the forked horse: never outlive the worker. A SIGKILLed worker skips its teardown,
        # and an orphaned horse would go on writing beside the job that replaces it.
        die_with_parent(self.pid)
        super().main_work_horse(job, queue)

    # --- Redis outages ------------------------------------------------------------------

    def _lost(self, exc: Exception) -> None:
        if self._redis_lost_at is None:
            self._redis_lost_at = time.monotonic()
            log.warning("Worker %s: Redis at %s unreachable: %s", self.name, self.where, exc)

    def _back(self) -> None:
        if self._redis_lost_at is None:
            return
        away = time.monotonic() - self._redis_lost_at
        self._redis_lost_at = None
        log.info("Worker %s: Redis at %s is back after %.0f s", self.name, self.where, away)
        if self.on_reconnect is not None:
            self.on_reconnect()

    @property
    def where(self) -> str:
        return describe(self.connection)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        try:
            super().heartbeat(timeout, pipeline)
            if pipeline is None:
                self._register_again_if_forgotten()
        except REDIS_ERRORS as exc:
            self._lost(exc)
            raise
        if pipeline is None:
            self._back()

    def _register_again_if_forgotten(self) -> None:
        """A Redis restarted without its data forgot this worker: register it again, so
        `/healthz`, `rq info` and the sync's liveness checks see it."""
        if self.birth_date is None or self.connection.sismember(self.redis_workers_keys, self.key):
            return
        with self.connection.pipeline() as pipe:
            pipe.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, pipe)
            pipe.expire(self.key, self.worker_ttl + 60)
            pipe.execute()
        log.info("Worker %s: registered again (Redis had forgotten it)", self.name)

    def maintain_heartbeats(self, job: Job, execution: Any) -> None:
        # RQ lets this error end the whole worker 30 s into an outage, orphaning the horse.
        # The job keeps running; its heartbeat resumes when Redis answers.
        try:
            super().maintain_heartbeats(job, execution)
        except REDIS_ERRORS as exc:
            self._lost(exc)
            log.warning("Worker %s: job %s keeps running without a heartbeat", self.name, job.id)
            return
        self._back()

    def monitor_work_horse(self, job: Job, queue: Queue, execution: Any) -> None:
        backoff = Backoff(self.max_connection_wait_time)
        while True:
            try:
                super().monitor_work_horse(job, queue, execution)
                return
            except REDIS_ERRORS as exc:
                self._lost(exc)
                if self._horse_running():
                    time.sleep(backoff.next())
                    continue
                self._horse_pid = 0
                self.executions.pop(getattr(execution, "id", None), None)
                # RQ's registry cleanup marks the job abandoned (its failure callbacks run) and
                # the reconcilers repair any run it leaves open.
                log.error(
                    "Worker %s: job %s ended while Redis was unreachable; its outcome was not "
                    "recorded",
                    self.name,
                    job.id,
                )
                return

    def _horse_running(self) -> bool:
        if not self._horse_pid:
            return False
        try:
            pid, _status = os.waitpid(self._horse_pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return pid == 0

    def _pubsub_exception_handler(self, exc: Exception, pubsub: Any, pubsub_thread: Any) -> None:
        # RQ retries every 2 s forever, logging each time; back off like everything else.
        if not isinstance(exc, REDIS_ERRORS):
            raise exc
        backoff = getattr(self, "_pubsub_backoff", None) or Backoff(self.max_connection_wait_time)
        self._pubsub_backoff = backoff
        wait = backoff.next()
        log.debug("Worker %s: command channel lost (%s); retrying in %.0f s", self.name, exc, wait)
        time.sleep(wait)

    def _start_scheduler(
        self, burst: bool = False, logging_level: Any = "INFO", *args: Any
    ) -> None:
        """RQ's own, with the scheduler that survives Redis outages."""
        self.scheduler = ResilientScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            serializer=self.serializer,
        )
        self.scheduler.max_backoff = self.max_connection_wait_time
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return  # another worker's scheduler holds them; maintenance retries later
        if burst:
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
                self.scheduler.register_death()
        else:
            self.scheduler.start()

    def release_without_redis(self) -> None:
        """What RQ's teardown skips when Redis is down: stop the command-channel thread and
        the scheduler process (neither needs Redis to stop)."""
        thread = getattr(self, "pubsub_thread", None)
        if thread is not None:
            thread.stop()
            thread.join(timeout=1)
            self.pubsub_thread = None
        if self.scheduler is not None:
            with suppress(OSError):
                self.stop_scheduler()


def make_worker(
    app: Flask, queues: list[str] | None = None, name: str | None = None
) -> FlaskWorker:
    conn = redis_connection(app)
    if conn is None:
        raise WorkerError("REDIS_URL is not set: jobs run inline, there is nothing to work on.")
    names = queues or list(app.config["RQ_QUEUES"])
    worker = FlaskWorker(
        [Queue(n, connection=conn) for n in names],
        connection=conn,
        name=name,
        job_monitoring_interval=int(app.config["WORKER_MONITOR_SECONDS"]),
    )
    worker.max_connection_wait_time = float(app.config["WORKER_MAX_BACKOFF_SECONDS"])
    worker.app = app
    return worker


# --- the supervised loop ----------------------------------------------------------------


class RedisTracebacks(logging.Filter):
    """RQ logs a full traceback when Redis vanishes mid-loop; one line says as much."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, REDIS_ERRORS):
            record.msg = f"{record.getMessage()} (Redis unreachable: {exc})"
            record.args = ()
            record.exc_info = record.exc_text = None
        return True


def quiet_redis_tracebacks() -> None:
    rq_log = logging.getLogger("rq.worker")
    if not any(isinstance(f, RedisTracebacks) for f in rq_log.filters):
        rq_log.addFilter(RedisTracebacks())


class WorkerError(RuntimeError):
    """The worker cannot start: no REDIS_URL, or Redis unreachable in burst mode."""


def wait_for_redis(conn: Redis, stop: threading.Event, backoff: Backoff, wait: bool) -> bool:
    """True once Redis answers; False if asked to stop first."""
    down_since = None
    while not stop.is_set():
        try:
            conn.ping()
        except REDIS_ERRORS as exc:
            if not wait:
                raise WorkerError(f"Redis at {describe(conn)} is unreachable: {exc}") from None
            down_since = down_since or time.monotonic()
            delay = backoff.next()
            log.warning(
                "Redis at %s unreachable (%s); retrying in %.0f s", describe(conn), exc, delay
            )
            stop.wait(delay)
            continue
        if down_since is not None:
            away = time.monotonic() - down_since
            log.info("Redis at %s is back after %.0f s", describe(conn), away)
        return True
    return False


def run_worker(
    app: Flask,
    queues: list[str] | None = None,
    name: str | None = None,
    burst: bool = False,
    with_schedule: bool = True,
) -> None:
    """Work until SIGTERM/SIGINT (or, with `burst`, until the queues are empty)."""
    conn = redis_connection(app)
    if conn is None:
        raise WorkerError("REDIS_URL is not set: jobs run inline, there is nothing to work on.")
    stop = threading.Event()
    backoff = Backoff(float(app.config["WORKER_MAX_BACKOFF_SECONDS"]))

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("Worker: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    quiet_redis_tracebacks()
    reconciler = None
    previous: FlaskWorker | None = None
    try:
        while True:
            # Between two workers RQ's handlers are not installed: stop cleanly on a signal.
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
            if not wait_for_redis(conn, stop, backoff, wait=not burst):
                return
            if previous is not None:
                with suppress(*REDIS_ERRORS):
                    previous.register_death()  # its own teardown could not reach Redis
            if reconciler is None and not burst:
                reconciler = ReconcilerThread(
                    app,
                    stop,
                    float(app.config["WORKER_RECONCILE_SECONDS"]),
                    queue_reconcile(conn, (queues or list(app.config["RQ_QUEUES"]))[0]),
                )
                reconciler.start()
                if with_schedule:
                    from core.schedule import start_schedule_thread

                    start_schedule_thread(app, stop)
            elif reconciler is not None:
                reconciler.kick()
            worker = make_worker(app, queues, name=name)
            worker.stop_event = stop
            if reconciler is not None:
                worker.on_reconnect = reconciler.kick
            started = time.monotonic()
            try:
                worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
            except REDIS_ERRORS as exc:
                log.warning("Worker %s: could not sign off in Redis: %s", worker.name, exc)
            finally:
                worker.release_without_redis()
            if burst or worker._stop_requested or stop.is_set():
                return
            previous = worker
            if time.monotonic() - started > 60:
                backoff.reset()
            log.warning(
                "Worker %s stopped working (Redis unreachable?); starting again", worker.name
            )
    finally:
        stop.set()
