"""Issue 12, item 1: uploads cannot exhaust memory.

Each scenario runs in a child Python process (the real app, the real upload path: the file is
streamed to disk and imported by the job, inline) and reports its peak RSS (the kernel's
high-water mark of the child, /proc/self/status VmHWM): it stays under 200 MB, the app's own
~160 MB included. Zips are capped
by their real unpacked size and ratio, lines by length, imports by rows, each with a clear
message; a roster preview is computed once and stored, so viewing it never reads the file.

The ad CSV scenario lowers the byte caps to 24 MB so the suite stays quick; memory does not
grow with the file (rows are spooled a bucket at a time), which `make bench` shows for a
200 MB file (bench/csv_import_memory.py).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ads.csv_import import import_csv
from ads.models import SpendFact
from config import BASE_DIR
from core.extensions import db
from core.uploads import Limits, Source, UploadProblem, store_upload, upload_dir
from influencers.imports import import_roster
from influencers.orders import import_orders

PEAK_MB = 200
MB = 1024 * 1024

CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, os.getcwd())
import logging; logging.disable(logging.WARNING)
scenario, database_url, upload_dir, path = sys.argv[1:5]
overrides = json.loads(sys.argv[5])
os.environ["TEST_DATABASE_URL"] = database_url
# The app as a server runs it (no test libraries loaded): its own memory is the baseline.
from config import TestConfig
from core.app import create_app
app = create_app(type("ChildConfig", (TestConfig,), {"UPLOAD_DIR": upload_dir, **overrides}))

def peak_mb():
    # VmHWM, the peak RSS of this process image: ru_maxrss would also count the parent's
    # memory at fork time (Linux keeps it across exec), here the whole test suite's.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

with app.app_context():
    from core.extensions import db
    from core.models import User
    user = db.session.query(User).filter_by(role=sys.argv[6]).first()
    baseline = peak_mb()
    began = time.perf_counter()
    out = {}
    if scenario == "ads":
        from ads.csv_jobs import queue_import
        with open(path, "rb") as stream:
            run = queue_import(stream, os.path.basename(path), platform="google_ads",
                account_id=None, currency=None, date_order=None, user_id=user.id)
        out = {"status": run.status, "message": (run.details or {}).get("message") or run.error,
               "rows": run.rows_inserted}
    elif scenario == "roster":
        from influencers import import_jobs
        from influencers.models import InfluencerUpload
        with open(path, "rb") as stream:
            upload = import_jobs.store(stream, os.path.basename(path), "roster", user.id)
        import_jobs.queue_preview(upload, None, "EUR")
        upload = db.session.get(InfluencerUpload, upload.id)
        out["preview"] = upload.preview["result"]
        out["problems"] = upload.preview["mapping_problems"]
        if sys.argv[7] == "import":
            import_jobs.queue_import(upload, {int(k): v for k, v in upload.mapping.items()}, "EUR")
            upload = db.session.get(InfluencerUpload, upload.id)
            out["result"] = upload.result
    out.update(peak_mb=peak_mb(), baseline_mb=baseline, seconds=time.perf_counter() - began)
    print("RESULT " + json.dumps(out))
"""


def _child(scenario, database_url, upload_dir, path, overrides=None, role="marketer", then=""):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            scenario,
            database_url,
            str(upload_dir),
            str(path),
            json.dumps(overrides or {}),
            role,
            then,
        ],
        cwd=BASE_DIR,
        env={**os.environ, "PYTHONPATH": str(BASE_DIR)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])
    print(f"{scenario} {Path(path).name}: peak {out['peak_mb']:.0f} MB", end=" ")
    print(f"(app alone {out['baseline_mb']:.0f} MB), {out['seconds']:.1f} s")
    return out


def _google_ads_export(path: Path, size: int) -> int:
    """A Google Ads daily campaign report of about `size` bytes, written as a stream: 500
    campaigns, 6 segment rows per campaign-day. Returns the number of campaign-days."""
    rows = 0
    with open(path, "w", newline="") as out:
        out.write('Campaign report\n"January 1, 2024 - December 31, 2026"\n')
        out.write(
            "Day,Campaign,Campaign ID,Network (with search partners),Device,Currency code,"
            "Cost,Impr.,Clicks,Conversions,Conv. value,Customer ID\n"
        )
        written = 0
        while written < size:
            campaign, day = rows % 500, date(2024, 1, 1) + timedelta(days=(rows // 500) // 6)
            segment = (rows // 500) % 6
            network = ("Google search", "Search partners")[segment % 2]
            device = ("Computers", "Mobile phones", "Tablets")[segment // 2]
            line = (
                f"{day},Campaign {campaign},{9_000_000 + campaign},{network},{device},EUR,"
                f"{(rows * 7919) % 100000 / 100:.2f},{rows % 9973},{rows % 97},1.00,12.50,"
                "123-456-7890\n"
            )
            out.write(line)
            written += len(line)
            rows += 1
    return (rows // 3000) * 500 + min(rows % 3000, 500)


@pytest.fixture
def uploads(tmp_path) -> Path:
    directory = tmp_path / "uploads"
    directory.mkdir()
    return directory


def test_the_largest_allowed_ad_export_imports_in_bounded_memory(
    users, database_url, uploads, tmp_path
):
    cap = 24 * MB
    csv_path = tmp_path / "report.csv"
    facts = _google_ads_export(csv_path, cap - MB // 2)
    zipped = tmp_path / "report.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(csv_path, "report.csv")
    overrides = {"UPLOAD_MAX_BYTES": cap, "UPLOAD_MAX_UNZIPPED_BYTES": cap}

    out = _child("ads", database_url, uploads, zipped, overrides)

    assert out["status"] == "succeeded", out["message"]
    assert out["peak_mb"] < PEAK_MB, out
    assert out["rows"] == facts
    assert db.session.scalar(select(func.count(SpendFact.id))) == facts
    assert list(uploads.iterdir()) == []  # the stored upload is deleted once imported


def test_a_zip_bomb_is_refused_before_it_inflates(users, database_url, uploads, tmp_path):
    """Issue 12: 0.55 MB of zip inflating to 250 MB of text reached 2.2 GB."""
    bomb = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("report.csv", "w", force_zip64=True) as member,
    ):
        member.write(b"Day,Campaign,Campaign ID,Currency code,Cost\n")
        chunk = b"2026-03-01,Brand,1,EUR,1.00\n" * 40_000
        for _ in range(250 * MB // len(chunk)):
            member.write(chunk)
    assert bomb.stat().st_size < 2 * MB

    out = _child("ads", database_url, uploads, bomb)

    assert out["status"] == "failed"
    assert "zip bomb" in out["message"] or "more than" in out["message"], out["message"]
    assert out["peak_mb"] < PEAK_MB, out
    assert db.session.scalar(select(func.count(SpendFact.id))) == 0


def test_a_file_with_no_line_ends_is_refused_in_bounded_memory(
    users, database_url, uploads, tmp_path
):
    flat = tmp_path / "flat.csv"
    with open(flat, "wb") as out:
        out.write(b"Day,Campaign,Cost,")
        for _ in range(48):
            out.write(b"x" * MB)

    out = _child("ads", database_url, uploads, flat)

    assert out["status"] == "failed" and "longer than" in out["message"], out["message"]
    assert out["peak_mb"] < PEAK_MB, out


def test_a_huge_roster_preview_is_refused_once_and_stored(users, database_url, uploads, tmp_path):
    """Issue 12: a 32 MB roster of `a,b` rows cost +1.8 GB and 19 s on every preview view."""
    roster = tmp_path / "roster.csv"
    with open(roster, "wb") as out:
        out.write(b"a,b\n")
        line = b"a,b\n" * 65536
        for _ in range(32 * MB // len(line)):
            out.write(line)

    out = _child("roster", database_url, uploads, roster, role="coordinator")

    assert "more than 100,000 rows" in out["preview"]["problem"]
    assert out["peak_mb"] < PEAK_MB, out


def test_the_largest_allowed_roster_previews_and_imports_in_bounded_memory(
    users, database_url, uploads, tmp_path
):
    roster = tmp_path / "roster.csv"
    with open(roster, "w") as out:
        out.write("name,instagram,instagram_followers,instagram_engagement,tiktok,country,niche\n")
        for n in range(100_000):  # ROSTER_MAX_ROWS
            out.write(f"Creator {n},creator.{n},{1000 + n},{n % 100}.5,tt{n},DE,fitness\n")

    out = _child("roster", database_url, uploads, roster, role="coordinator", then="import")

    assert out["preview"]["created"] == 100_000 and not out["problems"]
    assert out["result"]["created"] == 100_000, out["result"]
    assert out["peak_mb"] < PEAK_MB, out


def test_the_preview_page_never_reads_the_file_again(client, login_as, tmp_path, app):
    login_as("coordinator")
    data = b"Creator,Gram,Fans\nAnna Runs,anna.runs,12000\n"
    response = client.post(
        "/influencers/import",
        data={"file": (io.BytesIO(data), "roster.csv")},
        content_type="multipart/form-data",
    )
    from influencers.models import InfluencerUpload

    upload = db.session.scalar(select(InfluencerUpload))
    stored = upload_dir() / upload.path
    stored.unlink()  # gone: a page that re-read it would fail

    for _ in range(3):
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Anna Runs" in page and "Map at least one handle column" in page


# --- caps with clear messages, in the process --------------------------------------------------


def test_each_import_has_a_row_cap_with_a_clear_message():
    lines = "Date,Campaign name,Campaign ID,Currency,Cost\n" + "2026-03-01,A,1,USD,1.00\n" * 11
    result = import_csv("tiktok_ads", lines.encode(), limits=Limits(max_rows=10))
    assert result.status == "failed" and "more than 10 rows" in result.message
    assert db.session.scalar(select(func.count(SpendFact.id))) == 0

    roster = b"name,instagram\n" + b"".join(b"N%d,h%d\n" % (n, n) for n in range(11))
    assert "more than 10 rows" in import_roster(roster, limits=Limits(max_rows=10)).problem

    orders = b"order_id,date,amount,currency,promo_code\n" + b"1,2026-03-01,1,EUR,X\n" * 11
    assert "more than 10 rows" in import_orders(orders, limits=Limits(max_rows=10)).problem


def test_an_upload_over_the_size_cap_is_refused_and_leaves_nothing(app, tmp_path):
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path)
    try:
        with pytest.raises(UploadProblem, match="larger than 1 MB"):
            store_upload(io.BytesIO(b"x" * (MB + 1)), "ads-csv", Limits(max_bytes=MB))
        assert list(tmp_path.iterdir()) == []
        kept = store_upload(io.BytesIO(b"x" * MB), "ads-csv", Limits(max_bytes=MB))
        assert kept.stat().st_size == MB
    finally:
        app.config["UPLOAD_DIR"] = before


def test_a_request_larger_than_the_cap_gets_a_clear_413(client, login_as, app):
    login_as("marketer")
    before = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    try:
        response = client.post(
            "/ads/import",
            data={"platform": "google_ads", "file": (io.BytesIO(b"x" * 200_000), "big.csv")},
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = before
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)


def test_a_zip_that_lies_about_its_size_stores_nothing():
    """Sizes that do not match the content: the read stops, the import fails whole."""
    text = b"Day,Campaign,Campaign ID,Currency code,Cost\n" + b"2026-03-01,B,1,EUR,1.00\n" * 5000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("report.csv", text)
    data = out.getvalue()
    # Shrink the declared sizes (local header and central directory) to 1,000 bytes.
    real = len(text).to_bytes(4, "little")
    data = data.replace(real, (1000).to_bytes(4, "little"))

    result = import_csv("google_ads", Source(data=data))

    assert result.status == "failed"
    assert db.session.scalar(select(func.count(SpendFact.id))) == 0
