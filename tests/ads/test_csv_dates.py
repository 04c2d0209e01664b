"""CSV dates: each file's date format is detected from its rows; a row in another format, or in
an order nothing in the file settles, is a bad row with the reason, never a guessed date."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from ads.csv_import import import_csv
from ads.models import SpendFact
from core.extensions import db

HEADER = "Day,Campaign,Campaign ID,Currency code,Cost\n"


def _google(rows: list[str], above: str = "", **kwargs):
    data = (above + HEADER + "".join(f"{day},Brand,1,EUR,1.00\n" for day in rows)).encode()
    result = import_csv("google_ads", data, filename="report.csv", **kwargs)
    db.session.commit()
    return result


def _days() -> set[date]:
    return set(db.session.scalars(select(SpendFact.day)))


def test_a_slash_date_among_iso_dates_is_a_bad_row_not_a_guess():
    """Issue 11: a Google Ads export row dated 05/11/2026 among ISO dates."""
    result = _google(["2026-11-03", "2026-11-04", "05/11/2026", "2026-11-06"])

    assert (result.inserted, result.rejected) == (3, 1)
    (error,) = result.errors
    assert (error.row, error.column) == (4, "Day")
    assert "'05/11/2026' is not written like this file's other dates" in error.problem
    assert "'2026-11-03'" in error.problem
    assert _days() == {date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 6)}


def test_locale_dates_with_one_iso_row_keep_the_file_format():
    result = _google(['"Nov 3, 2026"', '"Nov 4, 2026"', "2026-11-05"])

    assert (result.inserted, result.rejected) == (2, 1)
    assert "not written like this file's other dates (e.g. 'Nov 3, 2026')" in (
        result.errors[0].problem
    )


def test_dotted_locale_dates_are_day_first():
    result = _google(["05.11.2026", "06.11.2026"])

    assert result.rejected == 0 and _days() == {date(2026, 11, 5), date(2026, 11, 6)}


def test_a_file_of_only_ambiguous_slash_dates_imports_nothing_and_says_why():
    result = _google(["05/11/2026", "06/11/2026", "07/07/2026"])

    # 07/07 reads the same either way; 05/11 and 06/11 do not.
    assert (result.inserted, result.rejected) == (1, 2)
    assert _days() == {date(2026, 7, 7)}
    problem = result.errors[0].problem
    assert "'05/11/2026' could be 05 Nov 2026 or 11 May 2026" in problem
    assert "choose the date order" in problem


def test_a_day_above_twelve_settles_the_order_for_the_whole_file():
    result = _google(["05/11/2026", "25/11/2026"])

    assert result.rejected == 0 and _days() == {date(2026, 11, 5), date(2026, 11, 25)}


def test_a_row_in_the_other_order_is_a_bad_row():
    result = _google(["25/11/2026", "26/11/2026", "11/27/2026"])

    assert (result.inserted, result.rejected) == (2, 1)
    problem = result.errors[0].problem
    assert "'11/27/2026' is month/day, but this file's dates are day/month" in problem
    assert "e.g. '25/11/2026'" in problem


@pytest.mark.parametrize(
    ("range_line", "expected"),
    [
        ('"November 1, 2026 - November 30, 2026"\n', {date(2026, 11, 5), date(2026, 11, 6)}),
        ('"May 1, 2026 - June 30, 2026"\n', {date(2026, 5, 11), date(2026, 6, 11)}),
    ],
)
def test_the_reports_date_range_settles_the_order(range_line, expected):
    result = _google(["05/11/2026", "06/11/2026"], above="Campaign report\n" + range_line)

    assert result.rejected == 0, result.errors
    assert _days() == expected


def test_a_range_that_fits_both_readings_settles_nothing():
    result = _google(
        ["05/11/2026", "06/11/2026"],
        above='Campaign report\n"January 1, 2026 - December 31, 2026"\n',
    )

    assert result.inserted == 0 and result.rejected == 2


def test_the_chosen_order_settles_it_and_refuses_what_cannot_be_in_it():
    result = _google(["05/11/2026", "06/11/2026", "11/25/2026"], date_order="dmy")

    assert (result.inserted, result.rejected) == (2, 1)
    assert _days() == {date(2026, 11, 5), date(2026, 11, 6)}
    assert "as chosen for this import" in result.errors[0].problem


def test_a_date_column_named_in_another_language_is_day_first():
    data = "Tag,Kampagne,Kampagnen-ID,Währungscode,Kosten\n05/11/2026,Marke,1,EUR,1.00\n"

    result = import_csv("google_ads", data.encode())

    assert result.rejected == 0 and _days() == {date(2026, 11, 5)}


def test_linkedin_english_exports_are_month_first():
    data = (
        '"Start Date (in UTC)","Campaign Name","Campaign ID","Currency","Total Spent"\n'
        '"11/5/2026","Decision Makers","612345001","GBP","10.00"\n'
    )

    result = import_csv("linkedin_ads", data.encode())

    assert result.rejected == 0 and _days() == {date(2026, 11, 5)}


def test_tiktok_slash_dates_are_not_guessed():
    data = "Date,Campaign name,Campaign ID,Currency,Cost\n05/11/2026,Spark,1,USD,1.00\n"

    result = import_csv("tiktok_ads", data.encode())

    assert result.inserted == 0 and "could be" in result.errors[0].problem


def test_the_upload_form_offers_the_date_order(client, login_as):
    login_as("marketer")
    data = (HEADER + "05/11/2026,Brand,1,EUR,1.00\n").encode()

    page = client.post(
        "/ads/import",
        data={"platform": "google_ads", "date_order": "mdy", "file": (io.BytesIO(data), "r.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    assert page.status_code == 200
    assert "Month first: 05/11/2026 is May 11" in page.get_data(as_text=True)
    assert _days() == {date(2026, 5, 11)}


def test_the_cli_takes_a_date_order(app, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "05/11/2026,Brand,1,EUR,1.00\n")
    runner = app.test_cli_runner()

    undecided = runner.invoke(args=["ads", "import-csv", "--platform", "google_ads", str(path)])
    assert "could be 05 Nov 2026 or 11 May 2026" in undecided.output

    decided = runner.invoke(
        args=["ads", "import-csv", "--platform", "google_ads", "--date-order", "dmy", str(path)]
    )
    assert decided.exit_code == 0, decided.output
    assert _days() == {date(2026, 11, 5)}
