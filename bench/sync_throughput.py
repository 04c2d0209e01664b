"""Meta sync throughput: `ads.sync.start_sync` over 365 days of 200 ads beside a raw COPY.

The Graph API sandbox (10 campaigns × 4 ad sets × 5 ads = 200 ads, 365 days) runs in its own
process (`python -c "...run_sandbox(...)"`), so its JSON generation does not share this
process's CPU time or GIL: the measurement is the client side (facebook-business over HTTP,
row parsing, upserts, a commit per page) plus the sandbox's answer latency.

One fresh PostgreSQL database (bench.common.fresh_database + bench_app) serves the run; each
sync runs in a fresh child process (`python -m bench.sync_throughput --child ...`) on an
emptied spend_facts, so its memory belongs to that sync alone: the peak RSS during the sync
(sampled every 20 ms) above the RSS just before it, for a 90-day and a 365-day window, shows
memory is flat in the number of rows (the sync holds one page at a time). `ru_maxrss` is
reported too.

The 365-day sync runs BENCH_SYNC_REPEAT times (3), the best counts. Reference, same run: the
very rows the 365-day sync stored, dumped with COPY TO, then the table TRUNCATEd and the rows
loaded by `COPY spend_facts FROM STDIN` (psycopg), best of 5.
Goal: sync rows/s ≥ 0.30 × COPY rows/s.

Where the time goes: when the ratio is below the goal (or BENCH_SYNC_STAGES=1), one more
365-day child times the sync's stages with wall-clock wrappers (HTTP round trips, the SDK's
JSON decoding and object building, row parsing, the upsert, the commits) and prints them as a
second table; that run is not the headline number. Beside it, plain GETs of the same pages
with nothing decoded give the ceiling this sandbox on this machine sets for any client.

Knobs: BENCH_SYNC_TRACEMALLOC=1 also compares tracemalloc peaks (two slow extra runs);
BENCH_SYNC_PROFILE=1 adds a cProfile of the 365-day sync (top functions printed);
BENCH_SYNC_DAYS (365) and BENCH_SYNC_SMALL_DAYS (90) change the two windows.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import os
import pstats
import queue
import resource
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import requests
from sqlalchemy import text

from bench.common import bench_app, fresh_database
from config import Config

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_SYNC_DB", "flightdeck_bench_sync")  # one per concurrent bench
ACCOUNT = "act_1001"
END = date(2026, 3, 31)  # the sandbox's "today": fixed, so the numbers are reproducible
SIZES = {"campaigns": 10, "adsets_per_campaign": 4, "ads_per_adset": 5, "days": 365}
SEED = 42
DAYS = int(os.environ.get("BENCH_SYNC_DAYS", "365"))
SMALL_DAYS = int(os.environ.get("BENCH_SYNC_SMALL_DAYS", "90"))
# The app's default page size unless asked for another.
PAGE_SIZE = int(os.environ.get("BENCH_SYNC_PAGE_SIZE") or Config.META_PAGE_SIZE)
GOAL = 0.30
COPY_REPEAT = 5
SYNC_REPEAT = int(os.environ.get("BENCH_SYNC_REPEAT", "3"))
COPY_COLUMNS = (
    "account_id, platform_campaign_id, level, object_id, adset_id, object_name, day,"
    " attribution_setting, currency, spend_minor, impressions, clicks, reach, purchases, leads,"
    " conversions, conversion_value_minor, updated_at, sync_run_id"
)
SANDBOX_CODE = (
    "import datetime, sys; from ads.sandbox import run_sandbox; "
    "run_sandbox(port=int(sys.argv[1]), seed={seed}, end_date=datetime.date({y}, {m}, {d}), "
    "**{sizes!r})"
)


# -- the sandbox, in its own process -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def sandbox_process(*, memo_rows: bool = True):
    port = _free_port()
    sizes = {**SIZES, "memo_rows": memo_rows}
    code = SANDBOX_CODE.format(seed=SEED, y=END.year, m=END.month, d=END.day, sizes=sizes)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # one redacted log line per request
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with requests.Session() as s:
            s.trust_env = False
            for _ in range(200):
                if proc.poll() is not None:
                    raise RuntimeError(f"the sandbox exited with {proc.returncode}")
                try:
                    s.get(f"{url}/v26.0/{ACCOUNT}", timeout=1)  # any answer means it is up
                    break
                except requests.ConnectionError:
                    time.sleep(0.05)
            else:
                raise RuntimeError("the sandbox did not start")
        os.environ["BENCH_SANDBOX_PID"] = str(proc.pid)  # children report its CPU time
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- one sync, in a child process ------------------------------------------------------------------


def _cpu_s(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu_s() -> float:
    """CPU seconds of every PostgreSQL process on this machine (backends, WAL writer...)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() != "postgres":
                        continue
            except OSError:
                continue
            total += _cpu_s(entry)
    return total


def _rss_kb() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class _RssSampler:
    """Peak current RSS while a block runs (sampled every 20 ms by a thread)."""

    def __init__(self) -> None:
        self.peak = _rss_kb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_kb())

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_kb())


class _Stages:
    """Wall-clock time inside chosen functions (monkeypatched for one child run)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._undo: list[tuple[object, str, object]] = []

    def wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)
        self.seconds.setdefault(label, 0.0)
        self.calls.setdefault(label, 0)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        self._undo.append((owner, name, original))
        setattr(owner, name, timed)

    def undo(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)


def _instrument() -> _Stages:
    from facebook_business.adobjects.abstractobject import AbstractObject
    from facebook_business.api import Cursor, FacebookResponse
    from sqlalchemy.orm import Session

    from ads import meta, services, sync_pull

    stages = _Stages()
    stages.wrap(
        requests.Session, "send", "HTTP round trips (prefetch thread: overlaps what follows)"
    )
    stages.wrap(FacebookResponse, "json", "SDK json.loads (first pages, twice per response)")
    stages.wrap(meta, "loads", "orjson decoding of later pages (loading thread)")
    stages.wrap(Cursor, "build_objects_from_response", "SDK builds the page's row list")
    stages.wrap(AbstractObject, "export_all_data", "SDK export_all_data() (first pages only)")
    stages.wrap(
        sync_pull, "_prepare", "prepare a page: parse, fact tuples, COPY text (loading thread)"
    )
    stages.wrap(sync_pull, "_fact_rows", "_fact_rows (pages with a campaign not seen before)")
    stages.wrap(sync_pull, "facts_exist", "is the chunk new? (one indexed SELECT per chunk)")
    stages.wrap(services, "_copy_facts", "COPY of a page of new facts")
    stages.wrap(services, "upsert_facts", "upsert_facts (pages with stored keys)")
    stages.wrap(Session, "commit", "commits (one per page)")
    stages.wrap(queue.Queue, "get", "main thread waits for the next page (+ urllib3 pool gets)")
    stages.wrap(meta.MetaClient, "_report_run", "async report runs: submit + poll (incl. HTTP)")
    return stages


def child(url: str, sandbox_url: str, days: int, mode: str) -> dict:
    """Sync `days` days ending END into an empty spend_facts; report time and memory.

    mode: "time" (bare), "tracemalloc", "profile" (cProfile) or "stages" (wall-clock wrappers).
    """
    from ads import services, sync
    from ads.models import AdAccount
    from ads.sandbox import DEFAULT_TOKEN
    from core.audit import acting_as
    from core.extensions import db

    app = bench_app(
        url,
        META_GRAPH_URL=sandbox_url,
        META_POLL_INTERVAL=0.005,
        META_PAGE_SIZE=PAGE_SIZE,
        META_TIMEOUT=120.0,
        REDIS_URL=None,
    )
    since = END - timedelta(days=days - 1)
    with app.app_context(), acting_as("bench"):
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE spend_facts, restatements, sync_runs RESTART IDENTITY"))
        account = db.session.scalar(db.select(AdAccount).where(AdAccount.external_id == ACCOUNT))
        if account is None:
            account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
        account.synced_through = None
        db.session.commit()
        account_id = account.id
        # Warm up (imports, connection pool, the SDK's lazy bits) on a window we then drop.
        sync.start_sync(account_id, END, END)
        db.session.commit()  # no transaction of ours may hold a lock TRUNCATE waits for
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE spend_facts, restatements RESTART IDENTITY"))
        db.session.expire_all()

        profiler = cProfile.Profile() if mode == "profile" else None
        stages = _instrument() if mode == "stages" else None
        if mode == "tracemalloc":
            tracemalloc.start()
        rss_before = _rss_kb()
        sandbox_pid = os.environ.get("BENCH_SANDBOX_PID", "0")
        cpu_before = (_cpu_s(), _cpu_s(sandbox_pid), _postgres_cpu_s())
        with _RssSampler() as sampler:
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            run = sync.start_sync(account_id, since, END)
            if profiler:
                profiler.disable()
            seconds = time.perf_counter() - start
        cpu_after = (_cpu_s(), _cpu_s(sandbox_pid), _postgres_cpu_s())
        cpu = [round(b - a, 2) for a, b in zip(cpu_before, cpu_after, strict=True)]
        traced_peak = tracemalloc.get_traced_memory()[1] if mode == "tracemalloc" else None
        tracemalloc.stop()
        if stages:
            stages.undo()
        assert run.status == "succeeded", run.error
        rows = db.session.execute(text("SELECT count(*) FROM spend_facts")).scalar_one()
        spend = db.session.execute(text("SELECT sum(spend_minor) FROM spend_facts")).scalar_one()
        result = {
            "days": days,
            "rows": rows,
            "spend_minor": int(spend or 0),
            "pages": run.pages,
            "requests": run.requests,
            "seconds": seconds,
            "cpu_s": dict(zip(("sync process", "sandbox", "postgresql"), cpu, strict=True)),
            "rss_before_kb": rss_before,
            "rss_peak_kb": sampler.peak,
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "traced_peak_kb": traced_peak // 1024 if traced_peak is not None else None,
        }
        if stages:
            result["stages"] = stages.seconds
            result["stage_calls"] = stages.calls
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(35)
            stats.sort_stats("tottime").print_stats(25)
            result["profile"] = out.getvalue()
        db.session.remove()
        db.engine.dispose()
    return result


def _run_child(url: str, sandbox_url: str, days: int, mode: str = "time") -> dict:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.sync_throughput",
            "--child",
            url,
            sandbox_url,
            str(days),
            mode,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"sync child ({days} days, {mode}) failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the reference: COPY of the same rows ----------------------------------------------------------


def _copy_reference(url: str) -> tuple[float, int]:
    """Dump what the sync stored; TRUNCATE, then time COPY FROM STDIN of it (best of 5)."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        buf = bytearray()
        with conn.cursor() as cur:
            with cur.copy(f"COPY spend_facts ({COPY_COLUMNS}) TO STDOUT") as copy:
                for block in copy:
                    buf += block
            cur.execute("SELECT count(*) FROM spend_facts")
            rows = cur.fetchone()[0]
        conn.commit()
        payload = bytes(buf)

        timings: list[float] = []
        for _ in range(COPY_REPEAT):
            with conn.cursor() as cur:
                cur.execute("TRUNCATE spend_facts RESTART IDENTITY")
                conn.commit()
                start = time.perf_counter()
                with cur.copy(f"COPY spend_facts ({COPY_COLUMNS}) FROM STDIN") as copy:
                    for i in range(0, len(payload), 1 << 20):
                        copy.write(payload[i : i + (1 << 20)])
                conn.commit()
                timings.append(time.perf_counter() - start)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM spend_facts")
            assert cur.fetchone()[0] == rows
    return min(timings), rows


def _fetch_floor(sandbox_url: str, days: int) -> tuple[float, int]:
    """Plain GETs of the same pages (same chunks, page size and fields), nothing parsed: the
    fastest any client could take these rows from this sandbox on this machine."""
    from ads.meta import SYNC_FIELDS
    from ads.sandbox import DEFAULT_TOKEN
    from ads.sync_pull import chunks_of as _chunks

    rows = 0
    start = time.perf_counter()
    with requests.Session() as s:
        s.trust_env = False
        for chunk in _chunks(END - timedelta(days=days - 1), END):
            params = {
                "access_token": DEFAULT_TOKEN,
                "level": "ad",
                "time_increment": 1,
                "time_range": json.dumps({"since": str(chunk.since), "until": str(chunk.until)}),
                "fields": ",".join(str(f) for f in SYNC_FIELDS),
                "limit": PAGE_SIZE,
            }
            while True:
                response = s.get(f"{sandbox_url}/v26.0/{ACCOUNT}/insights", params=params)
                response.raise_for_status()
                body = response.content
                rows += body.count(b'"date_start"')
                # Read only the trailing `"paging": {...}`: decoding the rows is the client's work.
                at = body.rfind(b',"paging":')
                paging = json.loads(b"{" + body[at + 1 :])["paging"] if at > 0 else {}
                if "next" not in paging:
                    break
                params["after"] = paging["cursors"]["after"]
    return time.perf_counter() - start, rows


# -- the benchmark ---------------------------------------------------------------------------------


def _truth(days: int) -> dict:
    from ads.sandbox import SandboxData

    data = SandboxData(seed=SEED, end_date=END, **SIZES)
    t = data.totals(ACCOUNT, END - timedelta(days=days - 1), END)
    return {"rows": t["rows"], "spend_minor": int(t["spend"].scaleb(2))}


def _stage_table(stages: dict, total: float, rows: int) -> list[str]:
    """Seconds inside each wrapped function. They overlap: the prefetch thread's HTTP and
    JSON decoding run while the main thread stores the page before, and parsing is counted
    inside _fact_rows too, so the column does not add up to the total."""
    lines = [
        f"| Where a {rows:,}-row sync spends its time ({total:.1f} s wall, instrumented;"
        " stages overlap) | s | % of wall |",
        "|---|---|---|",
    ]
    for label, seconds in sorted(stages["stages"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {label} | {seconds:.2f} | {100 * seconds / total:.0f} |")
    return lines


def main() -> dict:
    url = fresh_database(DB_NAME)
    bench_app(url)  # the schema, once (children find it up to date)
    profile = os.environ.get("BENCH_SYNC_PROFILE") == "1"
    traced = os.environ.get("BENCH_SYNC_TRACEMALLOC") == "1"
    with sandbox_process(memo_rows=False) as sandbox_url:
        # The sandbox generating every row as it is asked, on the same two cores as the sync.
        on_demand = _run_child(url, sandbox_url, DAYS)
    with sandbox_process() as sandbox_url:
        # Every page asked for once before any timing: the measured syncs are then served from
        # the sandbox's memory, as Meta's servers cost this machine nothing.
        for days in (SMALL_DAYS, DAYS):
            _fetch_floor(sandbox_url, days)
        small = _run_child(url, sandbox_url, SMALL_DAYS)
        if traced:
            small_mem = _run_child(url, sandbox_url, SMALL_DAYS, "tracemalloc")
            big_mem = _run_child(url, sandbox_url, DAYS, "tracemalloc")
        prof = _run_child(url, sandbox_url, DAYS, "profile") if profile else None
        # Best of SYNC_REPEAT, as the reference is a best of COPY_REPEAT (a shared box is noisy).
        runs = [_run_child(url, sandbox_url, DAYS) for _ in range(SYNC_REPEAT)]
        big = min(runs, key=lambda r: r["seconds"])
        for run, days in ((small, SMALL_DAYS), (big, DAYS)):
            got = {"rows": run["rows"], "spend_minor": run["spend_minor"]}
            assert got == _truth(days), f"{days}-day sync disagrees with the sandbox: {got}"
        copy_s, copy_rows = _copy_reference(url)  # the rows the 365-day sync just stored
        assert copy_rows == big["rows"]
        # Below the goal (or when asked): time the stages of one more sync.
        ratio = (big["rows"] / big["seconds"]) / (copy_rows / copy_s)
        stages = None
        if ratio < GOAL or os.environ.get("BENCH_SYNC_STAGES") == "1":
            stages = _run_child(url, sandbox_url, DAYS, "stages")
        floor_s, floor_rows = _fetch_floor(sandbox_url, DAYS)
        assert floor_rows == big["rows"], (floor_rows, big["rows"])

    sync_rps = big["rows"] / big["seconds"]
    copy_rps = copy_rows / copy_s
    ratio = sync_rps / copy_rps

    def mb(kb: int | None) -> float:
        return round((kb or 0) / 1024, 1)

    growth_small = mb(small["rss_peak_kb"] - small["rss_before_kb"])
    growth_big = mb(big["rss_peak_kb"] - big["rss_before_kb"])
    result = {
        "rows": big["rows"],
        "pages": big["pages"],
        "requests": big["requests"],
        "sync_s": round(big["seconds"], 2),
        "sync_s_all": [round(r["seconds"], 2) for r in runs],
        "cpu_s_during_sync": big["cpu_s"],
        "sync_rows_per_s": round(sync_rps),
        "copy_s": round(copy_s, 3),
        "copy_rows_per_s": round(copy_rps),
        "ratio": round(ratio, 3),
        "goal": GOAL,
        f"rows_{SMALL_DAYS}d": small["rows"],
        f"sync_rows_per_s_{SMALL_DAYS}d": round(small["rows"] / small["seconds"]),
        f"rss_growth_mb_{SMALL_DAYS}d": growth_small,
        f"rss_growth_mb_{DAYS}d": growth_big,
        f"maxrss_mb_{SMALL_DAYS}d": mb(small["maxrss_kb"]),
        f"maxrss_mb_{DAYS}d": mb(big["maxrss_kb"]),
        "sandbox_fetch_only_s": round(floor_s, 2),
        "sandbox_ceiling_ratio": round((floor_rows / floor_s) / copy_rps, 3),
        "on_demand_sandbox_sync_s": round(on_demand["seconds"], 2),
        "on_demand_sandbox_cpu_s": on_demand["cpu_s"],
        "on_demand_sandbox_ratio": round((on_demand["rows"] / on_demand["seconds"]) / copy_rps, 3),
    }
    memory = f"RSS +{growth_small} vs +{growth_big} MB"
    if traced:
        result[f"traced_peak_mb_{SMALL_DAYS}d"] = mb(small_mem["traced_peak_kb"])
        result[f"traced_peak_mb_{DAYS}d"] = mb(big_mem["traced_peak_kb"])
        memory += (
            f"; tracemalloc {mb(small_mem['traced_peak_kb'])} vs {mb(big_mem['traced_peak_kb'])} MB"
        )
    if stages is not None:
        result["stages_s"] = {k: round(v, 2) for k, v in stages["stages"].items()}
        result["stages_total_s"] = round(stages["seconds"], 2)
    if prof is not None:
        print(prof["profile"])
        result["profiled_sync_s"] = round(prof["seconds"], 2)
    print(
        "| Meta sync, rows | sync rows/s | COPY rows/s | ratio (goal ≥ 0.30) |"
        f" peak memory {SMALL_DAYS} d vs {DAYS} d |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| {big['rows']:,} ({DAYS} d × 200 ads, {big['pages']} pages) | {sync_rps:,.0f}"
        f" ({big['seconds']:.1f} s) | {copy_rps:,.0f} ({copy_s:.2f} s) | {ratio:.2f}"
        f"{'' if ratio >= GOAL else ' (below goal)'} | {memory}"
        f" ({small['rows']:,} vs {big['rows']:,} rows) |"
    )
    cpu = ", ".join(f"{who} {seconds:.1f} s" for who, seconds in big["cpu_s"].items())
    print(f"\nCPU time during the {big['seconds']:.1f} s sync (2 cores): {cpu}.")
    od_cpu = ", ".join(f"{who} {sec:.1f} s" for who, sec in on_demand["cpu_s"].items())
    print(
        f"With a sandbox generating each row as asked (not from memory): {on_demand['seconds']:.1f}"
        f" s, {result['on_demand_sandbox_ratio']:.2f}× COPY (CPU: {od_cpu})."
    )
    print(
        f"Plain GETs of the same {floor_rows:,} rows from the sandbox's memory, nothing decoded:"
        f" {floor_s:.1f} s = {floor_rows / floor_s:,.0f} rows/s, i.e. at most"
        f" {result['sandbox_ceiling_ratio']:.2f}× COPY for any client of this sandbox here."
    )
    if stages is not None:
        print()
        print("\n".join(_stage_table(stages, stages["seconds"], stages["rows"])))
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, db_url, graph_url, n_days, how = sys.argv
        print(json.dumps(child(db_url, graph_url, int(n_days), how)))
    else:
        main()
