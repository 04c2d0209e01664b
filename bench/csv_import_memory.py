"""Ad CSV import of a 200 MB export: peak memory and time, beside pandas reading the same file.

A Google Ads daily campaign report (2,000 campaigns × 6 segment rows a day, so about 200,000
campaign-days from ~1.2 million rows) is written to a temporary directory. A fresh child
process (`python -m bench.csv_import_memory --child ...`) then imports it the way an upload is
imported (`ads.csv_jobs.queue_import`: streamed to the upload directory, the job run inline)
into a fresh PostgreSQL database, and reports its peak RSS (VmHWM), the RSS of the app
alone before the import, and the wall time; a second child imports the same file again (every
row unchanged). Reference, same file: `pandas.read_csv` in its own child (time and peak RSS).

Goal (issue 16): the import's peak RSS ≤ 300 MB for a 200 MB file (the 200 MB cap of issue 12
is measured on the largest allowed roster and a 24 MB export in
tests/security/test_12_01_bounded_uploads.py). Knobs: BENCH_IMPORT_MB (200),
BENCH_IMPORT_AGAIN=0 skips the second import.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import bench_app, fresh_database

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "flightdeck_bench_imports"
GOAL_MB = 300
CAMPAIGNS = 2000


def write_export(path: Path, size_mb: int) -> tuple[int, int]:
    """The export, streamed to disk; (data rows, campaign-days)."""
    target = size_mb * 1024 * 1024
    rows = written = 0
    start = date(2024, 1, 1)
    with open(path, "w", newline="") as out:
        out.write('Campaign report\n"January 1, 2024 - December 31, 2026"\n')
        out.write(
            "Day,Campaign,Campaign ID,Campaign status,Network (with search partners),Device,"
            "Currency code,Cost,Impr.,Clicks,Avg. CPC,CTR,Conversions,Conv. value,Customer ID,"
            "Account\n"
        )
        while written < target:
            campaign = rows % CAMPAIGNS
            step = rows // CAMPAIGNS
            day, segment = start + timedelta(days=step // 6), step % 6
            network = ("Google search", "Search partners")[segment % 2]
            device = ("Computers", "Mobile phones", "Tablets")[segment // 2]
            cost = (rows * 7919) % 500_000 / 100
            line = (
                f"{day},Campaign {campaign} | Search,{9_000_000 + campaign},Enabled,{network},"
                f'{device},EUR,"{cost:,.2f}",{rows % 99_991},{rows % 997},1.23,2.50%,'
                f"{rows % 50}.00,{rows % 9_973}.00,123-456-7890,Stride EU\n"
            )
            out.write(line)
            written += len(line)
            rows += 1
    per_day = CAMPAIGNS * 6
    days = (rows // per_day) * CAMPAIGNS + min(rows % per_day, CAMPAIGNS)
    return rows, days


def _child(args: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.csv_import_memory", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _peak_mb() -> float:
    """This process image's peak RSS (VmHWM): ru_maxrss keeps the parent's at fork time."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_import(url: str, path: str, upload_dir: str) -> None:
    import logging

    logging.disable(logging.WARNING)
    from config import TestConfig
    from core.app import create_app

    os.environ["TEST_DATABASE_URL"] = url
    app = create_app(type("BenchConfig", (TestConfig,), {"UPLOAD_DIR": upload_dir}))
    with app.app_context():
        from ads.csv_jobs import queue_import
        from core.extensions import db

        db.session.execute(db.text("SELECT 1"))
        baseline = _peak_mb()
        began = time.perf_counter()
        with open(path, "rb") as stream:
            run = queue_import(
                stream,
                "export.csv",
                platform="google_ads",
                account_id=None,
                currency=None,
                date_order=None,
                user_id=None,
            )
        seconds = time.perf_counter() - began
        result = {
            "status": run.status,
            "inserted": run.rows_inserted,
            "unchanged": run.rows_unchanged,
            "rejected": run.rows_rejected,
            "message": (run.details or {}).get("message", run.error)[:300],
        }
    print(
        "RESULT "
        + json.dumps(result | {"seconds": seconds, "peak_mb": _peak_mb(), "app_mb": baseline})
    )


def child_pandas(path: str) -> None:
    import pandas as pd

    baseline = _peak_mb()
    began = time.perf_counter()
    frame = pd.read_csv(path, skiprows=2, thousands=",")
    seconds = time.perf_counter() - began
    rows = len(frame)
    print(
        "RESULT "
        + json.dumps({"rows": rows, "seconds": seconds, "peak_mb": _peak_mb(), "app_mb": baseline})
    )


def main() -> dict:
    size_mb = int(os.environ.get("BENCH_IMPORT_MB", "200"))
    url = fresh_database(DB_NAME)
    bench_app(url)  # the schema, by the migrations
    with tempfile.TemporaryDirectory(prefix="flightdeck-bench-import-") as tmp:
        path = Path(tmp) / "export.csv"
        uploads = Path(tmp) / "uploads"
        uploads.mkdir()
        rows, days = write_export(path, size_mb)
        mb = path.stat().st_size / 1024 / 1024
        first = _child(["--child", "import", url, str(path), str(uploads)])
        again = None
        if os.environ.get("BENCH_IMPORT_AGAIN", "1") != "0":
            again = _child(["--child", "import", url, str(path), str(uploads)])
        pandas = _child(["--child", "pandas", str(path)])
    assert first["status"] == "succeeded" and first["inserted"] == days, first
    result = {
        "file_mb": round(mb, 1),
        "rows": rows,
        "campaign_days": days,
        "import_s": round(first["seconds"], 1),
        "import_rows_per_s": round(rows / first["seconds"]),
        "import_peak_rss_mb": round(first["peak_mb"], 1),
        "import_app_alone_rss_mb": round(first["app_mb"], 1),
        "pandas_read_csv_s": round(pandas["seconds"], 2),
        "pandas_peak_rss_mb": round(pandas["peak_mb"], 1),
        "import_vs_pandas_time": round(first["seconds"] / pandas["seconds"], 1),
        "goal_peak_rss_mb": GOAL_MB,
        "within_goal": first["peak_mb"] <= GOAL_MB,
    }
    if again is not None:
        assert again["unchanged"] == days, again
        result |= {
            "reimport_s": round(again["seconds"], 1),
            "reimport_peak_rss_mb": round(again["peak_mb"], 1),
        }
    print(" | ".join(f"{k}={v}" for k, v in result.items()))
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        if sys.argv[2] == "import":
            child_import(*sys.argv[3:6])
        else:
            child_pandas(sys.argv[3])
    else:
        main()
