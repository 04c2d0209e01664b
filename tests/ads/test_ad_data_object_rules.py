"""Object rules for ad data: spend moves onto or off a Flightdeck campaign only by its owner or
an admin, whether through the mapping on the account page or through a CSV import."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from ads import services
from ads.csv_import import import_csv
from ads.models import AdAccount, PlatformCampaign, SpendFact, SyncRun
from core.extensions import db
from tests import factories


@pytest.fixture
def owned(users):
    """Two campaigns: one the marketer owns, one another marketer owns."""
    other = factories.UserFactory(role="marketer", email="other@example.test")
    mine = factories.CampaignFactory(name="Mine Spring", owner=users["marketer"])
    theirs = factories.CampaignFactory(name="Theirs Autumn", owner=other)
    db.session.commit()
    return mine, theirs, other


def _account_with(pc_name: str, campaign_id: int | None = None) -> PlatformCampaign:
    account = AdAccount(platform="google_ads", external_id="123-456-7890", currency="EUR")
    db.session.add(account)
    db.session.flush()
    pc = services.upsert_platform_campaign(account, "555", pc_name)
    if campaign_id is not None:
        services.map_manually(pc, campaign_id)
    db.session.add(
        SpendFact(
            account_id=account.id,
            platform_campaign_id=pc.id,
            level="campaign",
            object_id="555",
            day=date(2026, 3, 1),
            currency="EUR",
            spend_minor=50_000,
        )
    )
    db.session.commit()
    return pc


def _spend_on(campaign_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(SpendFact.spend_minor), 0))
            .join(PlatformCampaign, PlatformCampaign.id == SpendFact.platform_campaign_id)
            .where(PlatformCampaign.campaign_id == campaign_id)
        )
    )


def _map(client, pc_id: int, choice: str):
    return client.post(
        f"/ads/platform-campaigns/{pc_id}/mapping",
        data={"campaign_id": choice},
        follow_redirects=True,
    )


# --- the account page -------------------------------------------------------------------------


@pytest.mark.parametrize("choice", ["none", "", "mine"])
def test_a_marketer_cannot_unmap_or_move_spend_off_someone_elses_campaign(
    client, login_as, owned, choice
):
    mine, theirs, _other = owned
    pc = _account_with(f"Autumn [FD-{theirs.id}]")
    assert (pc.campaign_id, pc.mapping_source) == (theirs.id, "tag")
    login_as("marketer")

    page = _map(client, pc.id, str(mine.id) if choice == "mine" else choice)

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "which you may not edit" in text
    db.session.expire_all()
    assert db.session.get(PlatformCampaign, pc.id).campaign_id == theirs.id
    assert _spend_on(theirs.id) == 50_000 and _spend_on(mine.id) == 0


def test_a_marketer_cannot_map_spend_onto_someone_elses_campaign(client, login_as, owned):
    mine, theirs, _other = owned
    pc = _account_with("Unrelated name")
    login_as("marketer")

    page = _map(client, pc.id, str(theirs.id))

    assert "only to campaigns you own" in page.get_data(as_text=True)
    assert _spend_on(theirs.id) == 0
    # Their own campaign is fine, and only their own campaigns are offered.
    page = _map(client, pc.id, str(mine.id))
    assert "mapping saved" in page.get_data(as_text=True)
    assert _spend_on(mine.id) == 50_000
    options = client.get(f"/ads/accounts/{pc.account_id}").get_data(as_text=True)
    assert "Mine Spring</option>" in options and "Theirs Autumn</option>" not in options


def test_automatic_on_a_name_pointing_elsewhere_holds_the_spend_back(client, login_as, owned):
    _mine, theirs, other = owned
    pc = _account_with(f"Autumn [FD-{theirs.id}]")
    services.map_manually(pc, None)
    pc.campaign_id, pc.mapping_source = None, "manual"  # unmapped by hand earlier
    db.session.commit()
    login_as("marketer")

    page = _map(client, pc.id, "")

    assert "stays unmapped" in page.get_data(as_text=True)
    db.session.expire_all()
    held = db.session.get(PlatformCampaign, pc.id)
    assert (held.campaign_id, held.mapping_source) == (None, "held")
    # The account page says why; a later remap (a campaign created) does not map it.
    page = client.get(f"/ads/accounts/{pc.account_id}").get_data(as_text=True)
    assert "Held back" in page and "Theirs Autumn" in page
    assert services.remap_all() == 0
    assert _spend_on(theirs.id) == 0


def test_the_owner_or_an_admin_may_map_held_spend(client, login_as, owned, users):
    _mine, theirs, other = owned
    pc = _account_with(f"Autumn [FD-{theirs.id}]")
    pc.campaign_id, pc.mapping_source = None, "held"
    db.session.commit()
    login_as("admin")

    page = _map(client, pc.id, "")

    assert "mapping saved" in page.get_data(as_text=True)
    assert _spend_on(theirs.id) == 50_000
    db.session.expire_all()
    assert db.session.get(PlatformCampaign, pc.id).mapping_source == "tag"


def test_admin_may_move_any_spend(client, login_as, owned):
    mine, theirs, _other = owned
    pc = _account_with(f"Autumn [FD-{theirs.id}]")
    login_as("admin")

    _map(client, pc.id, str(mine.id))

    assert _spend_on(mine.id) == 50_000 and _spend_on(theirs.id) == 0


# --- imports ----------------------------------------------------------------------------------


def _tagged_file(campaign_id: int, cost: str = "10.00") -> bytes:
    return (
        "Date,Campaign name,Campaign ID,Currency,Cost\n"
        f"2026-03-01,Spring [FD-{campaign_id}],555,EUR,{cost}\n"
        f"2026-03-02,Spring [FD-{campaign_id}],555,EUR,{cost}\n"
        "2026-03-01,Unrelated,556,EUR,1.00\n"
    ).encode()


def test_an_import_tag_pointing_at_someone_elses_campaign_is_held_unmapped(owned, users):
    _mine, theirs, _other = owned

    result = import_csv("tiktok_ads", _tagged_file(theirs.id), user_id=users["marketer"].id)
    db.session.commit()

    assert result.status == "succeeded", result.message
    assert _spend_on(theirs.id) == 0
    pc = db.session.scalar(select(PlatformCampaign).where(PlatformCampaign.external_id == "555"))
    assert (pc.campaign_id, pc.mapping_source) == (None, "held")
    assert any("Theirs Autumn" in note and "unmapped" in note for note in result.notes)
    assert "Theirs Autumn" in result.message  # the reason is in the report


def test_an_import_onto_a_campaign_mapped_to_someone_else_rejects_those_rows(owned, users):
    _mine, theirs, other = owned
    # The owner's own import maps it.
    first = import_csv("tiktok_ads", _tagged_file(theirs.id), user_id=other.id)
    db.session.commit()
    assert first.status == "succeeded" and _spend_on(theirs.id) == 2000

    # Another marketer re-imports the same campaign with other numbers.
    result = import_csv(
        "tiktok_ads", _tagged_file(theirs.id, "999.00"), user_id=users["marketer"].id
    )
    db.session.commit()

    assert _spend_on(theirs.id) == 2000  # unchanged
    assert result.rejected == 2 and result.status == "partial"
    assert {e.row for e in result.errors} == {2, 3}
    assert all("which you may not edit" in e.problem for e in result.errors)
    assert db.session.get(SyncRun, result.run_id).rows_rejected == 2


def test_the_cli_imports_as_the_system_unless_a_user_is_given(app, owned, users, tmp_path):
    mine, theirs, _other = owned
    path = tmp_path / "tagged.csv"
    path.write_bytes(_tagged_file(theirs.id))
    runner = app.test_cli_runner()

    as_user = runner.invoke(
        args=[
            "ads",
            "import-csv",
            "--platform",
            "tiktok_ads",
            "--as-user",
            users["marketer"].email,
            str(path),
        ]
    )
    assert as_user.exit_code == 0, as_user.output
    assert _spend_on(theirs.id) == 0 and "unmapped" in as_user.output

    db.session.execute(
        PlatformCampaign.__table__.update().values(mapping_source="none")
    )  # forget the hold, as if never imported by a user
    db.session.commit()
    system = runner.invoke(args=["ads", "import-csv", "--platform", "tiktok_ads", str(path)])
    assert system.exit_code == 0, system.output
    assert _spend_on(theirs.id) == 2000

    unknown = runner.invoke(
        args=[
            "ads",
            "import-csv",
            "--platform",
            "tiktok_ads",
            "--as-user",
            "nobody@x.test",
            str(path),
        ]
    )
    assert unknown.exit_code != 0 and "No active user" in unknown.output


def test_held_spend_stays_unmapped_until_mapped_by_hand_even_by_its_owners_import(owned, users):
    _mine, theirs, other = owned
    import_csv("tiktok_ads", _tagged_file(theirs.id), user_id=users["marketer"].id)
    db.session.commit()

    result = import_csv("tiktok_ads", _tagged_file(theirs.id), user_id=other.id)
    db.session.commit()

    # The owner's own import does not lift the hold: someone else's rows are in it.
    assert _spend_on(theirs.id) == 0
    assert any("stays unmapped" in note and "You may map it" in note for note in result.notes)
