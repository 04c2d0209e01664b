"""Roster, orders and metrics uploads are previewed and imported by jobs: with Redis the page
returns at once and follows a real RQ worker; the preview is stored once per mapping; an
import writes once, with its report, and a dead queue is said so."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

import config
from config import BASE_DIR
from core.extensions import db
from influencers.models import AttributedOrder, Influencer, InfluencerUpload
from tests.conftest import login, make_app

ROSTER = "Creator,Instagram,Instagram followers\nAnna Runs,anna.runs,12000\nBad,bad handle!,1\n"
WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "-q", "default"]


@pytest.fixture
def coordinator(users) -> str:
    return users["coordinator"].email


@pytest.fixture
def queued(coordinator, database_url, redis_url, tmp_path):
    application = make_app(database_url, REDIS_URL=redis_url, UPLOAD_DIR=str(tmp_path))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def _work(database_url: str, redis_url: str, upload_dir: Path) -> None:
    env = {
        **os.environ,
        "FLIGHTDECK_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "UPLOAD_DIR": str(upload_dir),
        "SECRET_KEY": config.TestConfig.SECRET_KEY,
        "FLIGHTDECK_ENCRYPTION_KEY": config.TestConfig.FLIGHTDECK_ENCRYPTION_KEY,
    }
    done = subprocess.run(
        WORKER, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    db.session.expire_all()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_roster_is_previewed_and_imported_by_a_real_worker(
    queued, coordinator, database_url, redis_url, tmp_path
):
    client = queued.test_client()
    assert login(client, coordinator).status_code == 302
    posted = client.post(
        "/influencers/import",
        data={"file": (io.BytesIO(ROSTER.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 302
    page_url = posted.headers["Location"]
    waiting = client.get(page_url).get_data(as_text=True)
    assert "Reading the file for the preview" in waiting and 'role="progressbar"' in waiting
    upload = db.session.scalar(select(InfluencerUpload))
    status = client.get(f"/influencers/import/{upload.id}/status").get_json()
    assert (status["stage"], status["status"], status["final"]) == ("preview", "queued", False)

    _work(database_url, redis_url, tmp_path)

    preview = client.get(page_url).get_data(as_text=True)
    assert 'data-count="created">1<' in preview and 'data-count="rejected">1<' in preview
    assert _count(Influencer) == 0  # a dry run
    mapping = {"col_0": "name", "col_1": "instagram.handle", "col_2": "instagram.followers"}
    importing = client.post(page_url, data=mapping | {"action": "import"})
    assert "Importing the roster" in importing.get_data(as_text=True)
    assert _count(Influencer) == 0

    _work(database_url, redis_url, tmp_path)

    result = client.get(page_url).get_data(as_text=True)
    assert "Roster imported" in result and "bad handle!" in result
    assert _count(Influencer) == 1
    upload = db.session.get(InfluencerUpload, upload.id)
    assert upload.imported and list(tmp_path.glob("*.upload")) == []
    assert client.get(f"/influencers/import/{upload.id}/status").get_json()["final"]


def test_a_preview_for_an_older_mapping_never_overwrites_a_newer_one(
    queued, coordinator, database_url, redis_url, tmp_path
):
    client = queued.test_client()
    assert login(client, coordinator).status_code == 302
    page_url = client.post(
        "/influencers/import",
        data={"file": (io.BytesIO(ROSTER.encode()), "roster.csv")},
        content_type="multipart/form-data",
    ).headers["Location"]
    _work(database_url, redis_url, tmp_path)  # the guessed mapping's preview
    first = {"col_0": "name", "col_1": "instagram.handle"}
    second = first | {"col_2": "instagram.followers"}
    client.post(page_url, data=first | {"action": "preview"})
    client.post(page_url, data=second | {"action": "preview"})
    client.post(page_url, data=second | {"action": "preview"})  # asked twice: queued once

    _work(database_url, redis_url, tmp_path)

    upload = db.session.scalar(select(InfluencerUpload))
    assert upload.status == "done"
    assert upload.preview["mapping"] == {"0": "name", "1": "instagram.handle"} | {
        "2": "instagram.followers"
    }


def test_orders_are_imported_by_a_real_worker(
    queued, coordinator, database_url, redis_url, tmp_path
):
    from tests.influencers.test_influencer_attribution import ORDERS

    client = queued.test_client()
    assert login(client, coordinator).status_code == 302
    page = client.post(
        "/influencers/orders/import",
        data={"file": (io.BytesIO(ORDERS.encode()), "orders.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Importing orders.csv" in page and _count(AttributedOrder) == 0
    upload = db.session.scalar(select(InfluencerUpload))

    _work(database_url, redis_url, tmp_path)

    result = client.get(f"/influencers/orders/import?upload={upload.id}").get_data(as_text=True)
    assert 'data-count="unattributed">' in result and 'id="import-result"' in result
    assert db.session.get(InfluencerUpload, upload.id).status == "done"


def test_with_the_queue_down_the_upload_says_so(database_url, coordinator, tmp_path):
    down = make_app(database_url, REDIS_URL="redis://127.0.0.1:1/0", UPLOAD_DIR=str(tmp_path))
    with down.app_context():
        client = down.test_client()
        assert login(client, coordinator).status_code == 302
        page = client.post(
            "/influencers/deliverables/metrics-import",
            data={"file": (io.BytesIO(b"deliverable_id,likes\n1,5\n"), "metrics.csv")},
            content_type="multipart/form-data",
        ).get_data(as_text=True)
        assert "job queue is unavailable" in page
        db.session.remove()
        db.engine.dispose()


def test_someone_elses_upload_and_its_status_are_refused(client, users, login_as):
    upload = InfluencerUpload(created_by_id=users["admin"].id, filename="x.csv", kind="orders")
    db.session.add(upload)
    db.session.commit()
    login_as("coordinator")
    assert client.get(f"/influencers/import/{upload.id}/status").status_code == 403
    assert client.get(f"/influencers/orders/import?upload={upload.id}").status_code == 403


def test_an_import_whose_worker_died_can_be_run_again(client, users, login_as, app):
    from datetime import timedelta

    from core.types import utcnow
    from influencers import import_jobs

    login_as("coordinator")
    page_url = client.post(
        "/influencers/import",
        data={"file": (io.BytesIO(ROSTER.encode()), "roster.csv")},
        content_type="multipart/form-data",
    ).headers["Location"]
    upload = db.session.scalar(select(InfluencerUpload))
    # As a worker killed mid-import leaves it: running, silent for an hour, nothing stored.
    upload.stage, upload.status = "import", "running"
    upload.job_id = f"influencer-upload-{upload.id}-import"
    upload.heartbeat_at = utcnow() - timedelta(hours=1)
    db.session.commit()

    page = client.get(page_url).get_data(as_text=True)
    assert "Interrupted" in page
    assert client.get(f"/influencers/import/{upload.id}/status").get_json()["final"]
    db.session.expire_all()
    assert db.session.get(InfluencerUpload, upload.id).status == "running"  # a GET changes nothing
    assert import_jobs.interrupted(db.session.get(InfluencerUpload, upload.id))

    mapping = {"col_0": "name", "col_1": "instagram.handle", "col_2": "instagram.followers"}
    again = client.post(page_url, data=mapping | {"action": "import"}).get_data(as_text=True)
    assert "Roster imported" in again and _count(Influencer) == 1
