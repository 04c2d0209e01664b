"""A name-only export imported before the export of the same days with the Campaign ID column:
the campaign keyed by its name is adopted by its id, so its spend is counted once."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from ads import services
from ads.csv_import import import_csv
from ads.models import PlatformCampaign, Restatement, SpendFact, SyncRun
from core.extensions import db
from tests import factories

DATA = Path(__file__).parent / "data"
ACCOUNT = "123-000-0000"
NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30", "format": "csv"}
# google_ads_campaigns_by_day.csv, campaign by campaign (EUR).
FILE_SPEND = {
    "21034567801": Decimal("394.81"),
    "21034567802": Decimal("2800.11"),
    "21034567803": Decimal("245.52"),
    "21034567804": Decimal("0.00"),
}


def _with_ids() -> bytes:
    return (DATA / "google_ads_campaigns_by_day.csv").read_bytes()


def _names_only() -> bytes:
    """The same report of the same days, exported without the Campaign ID column."""
    lines = list(csv.reader(io.StringIO(_with_ids().decode())))
    drop = lines[2].index("Campaign ID")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [cell for i, cell in enumerate(line) if i != drop or len(line) <= drop] for line in lines
    )
    return out.getvalue().encode()


def _run(data: bytes, **kwargs):
    result = import_csv("google_ads", data, filename="report.csv", account_id=ACCOUNT, **kwargs)
    db.session.commit()
    return result


def _exported(client, login_as) -> dict[str, tuple[str, Decimal, str]]:
    """The performance download as finance sees it: id → (name, spend, Flightdeck campaign)."""
    login_as("finance")
    response = client.get("/performance/export", query_string=NOVEMBER)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[-1]["platform"] == "TOTAL"
    return {
        r["platform_campaign_id"]: (
            r["platform_campaign_name"],
            Decimal(r["spend"]),
            r["flightdeck_campaign"],
        )
        for r in rows[:-1]
    }


def _spend_total() -> int:
    return db.session.scalar(select(func.sum(SpendFact.spend_minor)))


def test_the_id_export_after_the_name_only_one_counts_each_campaign_once(client, login_as):
    names = _run(_names_only())
    assert names.inserted == 7
    assert db.session.scalar(select(func.count(PlatformCampaign.id))) == 4

    ids = _run(_with_ids())

    assert (ids.inserted, ids.updated, ids.unchanged) == (0, 0, 7)
    assert "“Brand | Search | DE” was imported before without its campaign id" in ids.message
    assert "2 days now belong to campaign id 21034567801 and are counted once" in ids.message
    exported = _exported(client, login_as)
    assert {k: spend for k, (_name, spend, _fd) in exported.items()} == FILE_SPEND
    assert exported["21034567802"][0] == "Generic | Running Shoes, Men"
    assert _spend_total() == 344044
    notes = db.session.get(SyncRun, ids.run_id).details["notes"]
    assert len(notes) == 4 and ids.notes == notes


def test_reimporting_either_file_afterwards_changes_nothing(client, login_as):
    _run(_names_only())
    _run(_with_ids())

    names_again = _run(_names_only())
    ids_again = _run(_with_ids())

    assert (names_again.inserted, names_again.updated, names_again.unchanged) == (0, 0, 7)
    assert (ids_again.inserted, ids_again.updated, ids_again.unchanged) == (0, 0, 7)
    assert names_again.notes == ids_again.notes == []
    assert set(db.session.scalars(select(PlatformCampaign.external_id))) == set(FILE_SPEND)
    assert {k: s for k, (_n, s, _fd) in _exported(client, login_as).items()} == FILE_SPEND
    assert db.session.scalar(select(func.count(Restatement.id))) == 0


def test_a_manual_mapping_of_the_name_keyed_campaign_is_kept(client, login_as, users):
    launch = factories.CampaignFactory(name="Autumn Launch", owner=users["marketer"])
    _run(_names_only())
    brand = db.session.scalar(
        select(PlatformCampaign).where(PlatformCampaign.external_id == "Brand | Search | DE")
    )
    services.map_manually(brand, launch.id)
    db.session.commit()
    row_id = brand.id

    _run(_with_ids())

    adopted = db.session.get(PlatformCampaign, row_id)
    assert adopted.external_id == "21034567801"  # the same row, re-keyed
    assert (adopted.campaign_id, adopted.mapping_source) == (launch.id, "manual")
    assert _exported(client, login_as)["21034567801"] == (
        "Brand | Search | DE",
        Decimal("394.81"),
        "Autumn Launch",
    )


def test_a_day_the_id_export_reports_otherwise_is_a_restatement_of_the_adopted_campaign():
    _run(_names_only())
    later = _with_ids().replace(b"201.76", b"205.00")  # Brand, 3 Nov: attribution caught up

    result = _run(later)

    assert (result.updated, result.unchanged) == (1, 6)
    (restated,) = db.session.scalars(select(Restatement))
    assert (restated.object_id, restated.day) == ("21034567801", date(2026, 11, 3))
    assert (restated.field, restated.old_value, restated.new_value) == ("spend_minor", 20176, 20500)
    pc = db.session.get(PlatformCampaign, restated.platform_campaign_id)
    assert pc.external_id == "21034567801"
    assert _spend_total() == 344044 - 20176 + 20500


def test_restatements_of_the_name_keyed_campaign_move_to_its_id():
    _run(_names_only())
    _run(_names_only().replace(b"201.76", b"205.00"))  # a later name-only re-export

    _run(_with_ids().replace(b"201.76", b"205.00"))

    (restated,) = db.session.scalars(select(Restatement))
    pc = db.session.get(PlatformCampaign, restated.platform_campaign_id)
    assert (restated.object_id, pc.external_id) == ("21034567801", "21034567801")
    assert (restated.old_value, restated.new_value) == (20176, 20500)


def test_a_long_name_keyed_by_its_hash_is_adopted():
    name = "Always-on prospecting | Lookalike 1% | Germany - Austria - Switzerland | Q4"
    _run(f"Day,Campaign,Currency code,Cost\n2026-11-03,{name},EUR,10.00\n".encode())
    assert len(db.session.scalar(select(PlatformCampaign.external_id))) == 64

    result = _run(
        f"Day,Campaign,Campaign ID,Currency code,Cost\n2026-11-03,{name},888,EUR,10.00\n".encode()
    )

    assert result.unchanged == 1
    assert db.session.execute(
        select(PlatformCampaign.external_id, PlatformCampaign.name)
    ).all() == [("888", name)]


def test_a_renamed_campaign_is_adopted_by_the_name_its_days_had():
    _run(
        b"Day,Campaign,Currency code,Cost\n"
        b"2026-11-03,Winter Teaser,EUR,10.00\n"
        b"2026-11-04,Winter Teaser,EUR,12.00\n"
    )

    result = _run(
        b"Day,Campaign,Campaign ID,Currency code,Cost\n"
        b"2026-11-03,Winter Teaser,777,EUR,10.00\n"
        b"2026-11-04,Winter Teaser,777,EUR,12.00\n"
        b"2026-11-05,Winter Sale,777,EUR,15.00\n"
    )

    assert (result.inserted, result.unchanged) == (1, 2)
    (pc,) = db.session.scalars(select(PlatformCampaign))
    assert (pc.external_id, pc.name) == ("777", "Winter Sale")
    assert _spend_total() == 3700


def test_a_double_count_stored_before_is_merged_by_the_next_id_export(users):
    """An account imported name-only and with ids before this fix has the campaign twice:
    the next id export merges the name-keyed one into it, and a day both had is stored once."""
    launch = factories.CampaignFactory(name="Autumn Launch", owner=users["marketer"])
    _run(_names_only())
    account = services.csv_account("google_ads", ACCOUNT, "EUR")
    by_id = services.upsert_platform_campaign(account, "21034567801", "Brand | Search | DE")
    services.upsert_facts(
        account,
        [
            services.FactRow(by_id.id, "campaign", "21034567801", day, "", "EUR", 19305)
            for day in (date(2026, 11, 4), date(2026, 11, 9))
        ],
        None,
    )
    by_name = db.session.scalar(
        select(PlatformCampaign).where(PlatformCampaign.external_id == "Brand | Search | DE")
    )
    services.map_manually(by_name, launch.id)
    db.session.commit()
    assert _spend_total() == 344044 + 2 * 19305  # the double count

    result = _run(_with_ids())

    assert "its 2 days now belong to campaign id 21034567801" in result.message
    brand = db.session.scalar(
        select(PlatformCampaign).where(PlatformCampaign.external_id == "21034567801")
    )
    assert (brand.id, brand.campaign_id, brand.mapping_source) == (by_id.id, launch.id, "manual")
    assert db.session.get(PlatformCampaign, by_name.id) is None
    days = db.session.execute(
        select(SpendFact.day, SpendFact.spend_minor)
        .where(SpendFact.platform_campaign_id == brand.id)
        .order_by(SpendFact.day)
    ).all()
    assert [tuple(d) for d in days] == [
        (date(2026, 11, 3), 20176),
        (date(2026, 11, 4), 19305),
        (date(2026, 11, 9), 19305),
    ]
    assert _spend_total() == 344044 + 19305  # 9 Nov is in neither file


def test_a_name_two_ids_share_is_not_merged_and_the_report_says_so():
    _run(b"Day,Campaign,Currency code,Cost\n2026-11-03,Retargeting,EUR,10.00\n")
    data = (
        b"Day,Campaign,Campaign ID,Currency code,Cost\n"
        b"2026-11-03,Retargeting,501,EUR,6.00\n"
        b"2026-11-03,Retargeting,502,EUR,4.00\n"
    )

    result = _run(data)
    again = _run(data)

    assert result.inserted == 2 and again.unchanged == 2
    ids = set(db.session.scalars(select(PlatformCampaign.external_id)))
    assert ids == {"Retargeting", "501", "502"}
    for run in (result, again):
        assert (
            "“Retargeting” was imported before without its campaign id, and 2 campaigns have "
            "that name (ids 501, 502): it is kept apart" in run.message
        )
    assert result.status == "succeeded"


def test_a_name_only_export_of_a_name_two_ids_share_says_it_is_kept_apart():
    _run(
        b"Day,Campaign,Campaign ID,Currency code,Cost\n"
        b"2026-11-03,Retargeting,501,EUR,6.00\n"
        b"2026-11-03,Retargeting,502,EUR,4.00\n"
    )

    result = _run(b"Day,Campaign,Currency code,Cost\n2026-11-04,Retargeting,EUR,10.00\n")

    assert result.inserted == 1
    assert "“Retargeting” is the name of 2 campaigns of account 123-000-0000" in result.message
    assert "Export the report with the Campaign ID column" in result.message


def test_the_import_page_and_log_show_what_was_merged(client, login_as):
    _run(_names_only())
    login_as("marketer")

    page = client.post(
        "/ads/import",
        data={
            "platform": "google_ads",
            "account_id": ACCOUNT,
            "file": (io.BytesIO(_with_ids()), "with-ids.csv"),
        },
        content_type="multipart/form-data",
    )

    assert page.status_code == 200
    assert "now belong to campaign id 21034567803" in page.get_data(as_text=True)
    run_id = db.session.scalar(select(func.max(SyncRun.id)))
    log = client.get(f"/ads/runs/{run_id}").get_data(as_text=True)
    assert "Campaigns merged or kept apart" in log
    assert "“PMax | Winter Sale” was imported before without its campaign id" in log
