"""Roster CSV import: mapping, duplicates by handle, bad cells, encodings, empty and huge files,
the web preview flow and the CLI."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEntry
from core.uploads import upload_dir
from influencers.imports import import_roster, preview_roster
from influencers.models import Influencer, InfluencerHandle, InfluencerRate, InfluencerUpload
from tests.matrix_influencers import make_influencer

WIDE = (
    "Name,Instagram,Instagram followers,Instagram engagement,TikTok,TikTok followers,"
    "Niche,Country,Language,Email,Rate post,Rate reel,Currency\n"
    'Anna Runs,@Anna.Runs,"12,400",3.2%,annaruns,48k,running; fitness,DE,de,'
    'anna@example.com,450,"1,200.00",EUR\n'
    "Ben Lifts,https://www.instagram.com/ben.lifts/,9.1k,2.75,,,fitness,Germany,German,"
    "ben@example.com,300,,EUR\n"
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def by_handle(platform: str, handle: str) -> Influencer:
    h = db.session.scalar(
        select(InfluencerHandle).where(
            InfluencerHandle.platform == platform, InfluencerHandle.handle == handle
        )
    )
    return h.influencer


def test_wide_roster_is_mapped_and_imported(users):
    result = import_roster(WIDE.encode(), filename="roster.csv")
    db.session.commit()
    assert (result.created, result.updated, result.rejected) == (2, 0, 0), result.errors
    anna = by_handle("instagram", "anna.runs")
    assert anna.name == "Anna Runs" and anna.country == "DE" and anna.language == "de"
    assert anna.niches == ["fitness", "running"]
    assert {(h.platform, h.handle, h.followers) for h in anna.handles} == {
        ("instagram", "anna.runs", 12_400),
        ("tiktok", "annaruns", 48_000),
    }
    assert anna.handle_on("instagram").engagement_rate == Decimal("3.2000")
    assert {r.deliverable_type: r.amount_minor for r in anna.rates} == {
        "post": 45_000,
        "reel": 120_000,
    }
    ben = by_handle("instagram", "ben.lifts")  # a profile URL becomes the handle
    assert ben.country == "DE" and ben.language == "de"
    assert ben.handle_on("instagram").followers == 9_100
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert entry.changes["created"] == [None, 2]


def test_known_handles_update_instead_of_duplicating(users):
    existing = make_influencer("Anna R.", handles=[("tiktok", "annaruns", 10_000, None)])
    db.session.commit()
    result = import_roster(WIDE.encode())
    db.session.commit()
    assert (result.created, result.updated) == (1, 1)
    assert count(Influencer) == 2
    db.session.refresh(existing)
    assert existing.name == "Anna Runs"
    assert existing.handle_on("tiktok").followers == 48_000
    assert existing.handle_on("instagram").handle == "anna.runs"  # the new handle joins her

    again = import_roster(WIDE.encode())
    db.session.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert count(Influencer) == 2 and count(InfluencerHandle) == 3


def test_duplicates_inside_one_file_merge():
    data = "name,instagram,instagram_followers\nCara,@cara,100\nCara Cooks,CARA,250\n"
    result = import_roster(data.encode())
    assert (result.created, result.updated, result.rejected) == (1, 1, 0)
    assert count(Influencer) == 1
    cara = by_handle("instagram", "cara")
    assert cara.name == "Cara Cooks" and cara.handle_on("instagram").followers == 250


def test_bad_cells_reject_their_row_with_reasons_and_keep_the_rest():
    data = (
        "name,instagram,instagram_followers,instagram_engagement,country,email,rate_post,currency\n"
        "Good One,good.one,1000,2.5,FR,good@example.com,100,EUR\n"
        "Bad Followers,bad.f,lots,2,FR,,,\n"
        'Bad Rate,bad.r,10,250,Atlantis,not-an-email,"12,5",EUR\n'
        ",nameless,10,1,,,,\n"
        "No Handle,,,,,,,\n"
        "Yen Person,yen.p,10,1,JP,,12.5,JPY\n"
    )
    result = import_roster(data.encode())
    db.session.commit()
    assert (result.created, result.rejected, result.rows) == (1, 5, 6)
    problems = {(e.row, e.column): e.problem for e in result.errors}
    assert "is not a number" in problems[(3, "instagram_followers")]
    assert "0 to 100" in problems[(4, "instagram_engagement")]
    assert "not a country" in problems[(4, "country")]
    assert "not an email" in problems[(4, "email")]
    assert "not a number" in problems[(4, "rate_post")]
    assert "needs a name" in problems[(5, "—")]
    assert "no platform handle" in problems[(6, "—")]
    assert "0 decimal places" in problems[(7, "rate_post")]
    assert [i.name for i in db.session.scalars(select(Influencer))] == ["Good One"]
    assert result.created + result.updated + result.unchanged + result.rejected == result.rows


def test_handles_that_belong_to_two_influencers_are_refused():
    make_influencer("Ann", handles=[("instagram", "ann", 1, None)])
    make_influencer("Bob", handles=[("tiktok", "bob", 1, None)])
    db.session.commit()
    result = import_roster(b"name,instagram,tiktok\nMix,ann,bob\n")
    assert result.rejected == 1 and "different influencers" in result.errors[0].problem
    assert by_handle("instagram", "ann").name == "Ann"


def test_one_handle_per_row_layout():
    data = (
        "name,platform,handle,followers,engagement_rate\n"
        "Dee,Instagram,@dee,1.5M,1.1\nDee,YouTube,@DeeTV,200000,\nEve,Myspace,eve,1,1\n"
    )
    result = import_roster(data.encode())
    assert (result.created, result.updated, result.rejected) == (1, 1, 1)
    dee = by_handle("youtube", "deetv")
    assert {h.platform for h in dee.handles} == {"instagram", "youtube"}
    assert dee.handle_on("instagram").followers == 1_500_000
    assert "not a platform" in result.errors[0].problem


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8-sig", b""),
        ("utf-16", b""),  # with a BOM, as Excel's "Unicode text" writes it
        ("utf-16-le", b""),  # no BOM at all
        ("cp1252", b""),
    ],
)
def test_encodings(encoding, prefix):
    text = "name;instagram;niche\nZoë Müller;zoe.m;café ☕ culture\nRené François;rene.f;€uro\n"
    if encoding == "cp1252":
        text = text.replace(" ☕", "")
    result = import_roster(prefix + text.encode(encoding))
    assert (result.created, result.rejected) == (2, 0), result.errors
    assert by_handle("instagram", "zoe.m").name == "Zoë Müller"
    assert by_handle("instagram", "rene.f").name == "René François"
    assert by_handle("instagram", "rene.f").niches == ["€uro"]


def test_empty_and_header_only_files():
    for data in (b"", b"   \r\n\r\n", b"\xef\xbb\xbf"):
        result = import_roster(data)
        assert not result.read_anything and "empty" in result.problem
    result = import_roster(b"name,instagram\n")
    assert result.read_anything and result.rows == 0 and result.created == 0
    unmapped = import_roster(b"foo,bar\n1,2\n")
    assert "handle" in unmapped.problem
    assert count(Influencer) == 0


def test_fifty_thousand_rows_in_reasonable_time():
    lines = ["name,instagram,instagram_followers,instagram_engagement,tiktok,country,niche"]
    lines += [
        f"Creator {n},creator.{n},{1000 + n},{n % 100}.5,tt{n},DE,fitness" for n in range(50_000)
    ]
    data = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    result = import_roster(data, filename="big.csv")
    db.session.commit()
    first = time.perf_counter() - started
    assert (result.created, result.rejected) == (50_000, 0)
    assert count(InfluencerHandle) == 100_000
    started = time.perf_counter()
    again = import_roster(data, filename="big.csv")
    db.session.commit()
    second = time.perf_counter() - started
    assert (again.created, again.unchanged) == (0, 50_000)
    assert count(Influencer) == 50_000
    assert first < 60 and second < 60, (first, second)


# --- the web flow ---------------------------------------------------------------------------


def test_upload_preview_mapping_and_import(client, login_as):
    login_as("coordinator")
    data = "Creator,Gram,Fans\nAnna Runs,anna.runs,12000\nBroken,bad handle!,10\n"
    response = client.post(
        "/influencers/import",
        data={"file": (__import__("io").BytesIO(data.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    # "Gram" is not guessed (nor "Fans"): the mapping asks for a handle column.
    assert "Map at least one handle column" in page
    assert count(Influencer) == 0
    mapping = {"col_0": "name", "col_1": "instagram.handle", "col_2": "instagram.followers"}
    page = client.post(preview_url, data=mapping | {"action": "preview"}).get_data(as_text=True)
    assert 'data-count="created">1<' in page and 'data-count="rejected">1<' in page
    assert "bad handle!" in page
    assert count(Influencer) == 0  # the preview is a dry run
    page = client.post(preview_url, data=mapping | {"action": "import"}).get_data(as_text=True)
    assert "Roster imported" in page and 'data-count="created">1<' in page
    assert by_handle("instagram", "anna.runs").handle_on("instagram").followers == 12_000
    # The file is gone once imported; the page keeps the result, and never imports twice.
    upload = db.session.scalar(select(InfluencerUpload))
    assert upload.imported and not (upload_dir() / upload.path).exists()
    again = client.post(preview_url, data=mapping | {"action": "import"}).get_data(as_text=True)
    assert "Roster imported" in again and count(Influencer) == 1


def test_an_upload_is_private_to_its_uploader(app, client, users, login_as):
    upload = InfluencerUpload(created_by_id=users["admin"].id, filename="x.csv", kind="roster")
    db.session.add(upload)
    db.session.commit()
    login_as("coordinator")
    assert client.get(f"/influencers/import/{upload.id}").status_code == 403
    response = client.post(f"/influencers/import/{upload.id}", data={"action": "import"})
    assert response.status_code == 403


def test_preview_of_an_empty_file_says_so(client, login_as):
    login_as("coordinator")
    response = client.post(
        "/influencers/import",
        data={"file": (__import__("io").BytesIO(b""), "empty.csv")},
        content_type="multipart/form-data",
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The file is empty." in page


# --- the CLI --------------------------------------------------------------------------------


def test_cli_import_roster(app, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "roster.csv"
    path.write_bytes(b"name,instagram,instagram_followers\nAnna,anna,10\nBad,b,many\n")
    dry = runner.invoke(args=["influencers", "import-roster", "--dry-run", str(path)])
    assert "Dry run" in dry.output and "1 created" in dry.output and count(Influencer) == 0
    result = runner.invoke(args=["influencers", "import-roster", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert "row 3, instagram_followers: “many” is not a number" in result.output
    again = runner.invoke(args=["influencers", "import-roster", str(path)])
    assert "0 created, 0 updated, 1 unchanged, 1 rejected" in again.output

    mapped = tmp_path / "mapped.csv"
    mapped.write_text("who,gram\nCara,cara\n")
    options = ["--map", "who=name", "--map", "gram=instagram.handle"]
    result = runner.invoke(args=["influencers", "import-roster", *options, str(mapped)])
    assert "1 created" in result.output, result.output

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = runner.invoke(args=["influencers", "import-roster", str(empty)])
    assert result.exit_code == 1 and "The file is empty." in result.output


def test_preview_counts_match_the_import():
    preview = preview_roster(WIDE.encode())
    assert (preview.result.created, preview.result.rejected) == (2, 0)
    assert preview.mapping[0] == "name" and preview.mapping[1] == "instagram.handle"
    assert count(Influencer) == 0
    assert count(InfluencerRate) == 0


def test_generic_numbers_follow_a_single_platform_or_are_refused():
    one = preview_roster(b"name,instagram,followers,er\nAnna,anna,10k,3\n")
    assert set(one.mapping.values()) == {"name", "instagram.handle", "instagram.followers"} | {
        "instagram.engagement"
    }
    two = preview_roster(b"name,instagram,tiktok,followers\nAnna,anna,annat,10k\n")
    assert two.mapping_problems and "Platform and a Handle" in two.mapping_problems[0]
    result = import_roster(b"name,instagram,tiktok,followers\nAnna,anna,annat,10k\n")
    assert "Platform and a Handle" in result.problem and count(Influencer) == 0


def test_garbage_files_are_reported_not_crashed_on():
    import random

    rng = random.Random(7)
    blobs = [
        bytes(rng.randrange(256) for _ in range(5000)),
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        b'name,instagram\n"unterminated,quote\n',
        b"name,instagram\n" + b"x" * 200_000 + b",y\n",
        b"name,blog\nLong," + b"a" * 150 + b".com\n",
        ("name,instagram,niche\nN,n," + ";".join(f"tag{i}" for i in range(200)) + "\n").encode(),
    ]
    for blob in blobs:
        result = import_roster(blob)
        assert result.problem or result.rejected == result.rows, result.message
    db.session.commit()
    assert count(Influencer) == 0
