"""The layouts of the Google Ads, TikTok Ads and LinkedIn daily campaign CSV exports.

Which columns each platform writes (by their aliases), which columns tell one platform's export
from another's, how the bytes are decoded (BOM, UTF-16, UTF-8, cp1252), and where the header row
is among the title and metadata lines above it, with which delimiter.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from core.money import known_currencies

PLATFORM_LABELS = {
    "google_ads": "Google Ads",
    "tiktok_ads": "TikTok Ads",
    "linkedin_ads": "LinkedIn Ads",
}
HOW_TO_EXPORT = {
    "google_ads": "In Google Ads open Campaigns, add Segment → Time → Day, then Download → CSV.",
    "tiktok_ads": "In TikTok Ads Manager export the campaign report broken down by day.",
    "linkedin_ads": "In Campaign Manager export Campaign Performance with a daily time breakdown.",
}
HEADER_SCAN_LINES = 30
DELIMITERS = (",", "\t", ";")

# Header cells are compared after norm(): lower case, letters and digits only, so "Impr." is
# "impr" and "Start Date (in UTC)" is "startdateinutc". A trailing "(USD)" is read as the
# currency of the column and dropped first. The first alias a file has wins.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "google_ads": {
        "day": ("day", "date"),
        "spend": ("cost", "spend"),
        "campaign": ("campaign", "campaignname"),
        "campaign_id": ("campaignid",),
        "status": ("campaignstatus", "campaignstate", "status"),
        "currency": ("currencycode", "currency"),
        "account_id": ("customerid", "accountid"),
        "account_name": ("account", "accountname", "customername"),
        "impressions": ("impr", "impressions"),
        "clicks": ("clicks",),
        "conversions": ("conversions", "conv", "allconv", "allconversions"),
        "conversion_value": (
            "convvalue",
            "conversionvalue",
            "totalconvvalue",
            "allconvvalue",
            "allconversionvalue",
        ),
    },
    "tiktok_ads": {
        "day": ("date", "byday", "day", "statdate", "time"),
        "spend": ("cost", "totalcost", "spend"),
        "campaign": ("campaignname", "campaign"),
        "campaign_id": ("campaignid",),
        "status": ("primarystatus", "campaignstatus", "status"),
        "currency": ("currency", "currencycode"),
        "account_id": ("advertiserid", "accountid"),
        "account_name": ("advertisername", "accountname", "account"),
        "impressions": ("impressions", "impression"),
        "clicks": ("clicksdestination", "clicks", "clicksall"),
        "conversions": ("conversions", "purchases", "completepayment", "purchase"),
        "conversion_value": (
            "totalcompletepayment",
            "completepaymentvalue",
            "totalcompletepaymentvalue",
            "totalpurchasevalue",
            "purchasevalue",
            "conversionvalue",
            "totalconversionvalue",
        ),
        "reach": ("reach",),
    },
    "linkedin_ads": {
        "day": ("startdateinutc", "startdate", "date", "day"),
        "spend": (
            "totalspent",
            "totalspentinlocalcurrency",
            "amountspent",
            "spend",
            "cost",
        ),
        "campaign": ("campaignname", "campaign"),
        "campaign_id": ("campaignid",),
        "status": ("campaignstatus", "status"),
        "currency": ("currency", "currencycode"),
        "account_id": ("accountid",),
        "account_name": ("accountname", "account"),
        "impressions": ("impressions",),
        "clicks": ("clicks",),
        "conversions": ("conversions", "totalconversions", "conversionspostclick"),
        "conversion_value": ("totalconversionvalue", "conversionvalue"),
        "leads": ("leads",),
        "reach": ("reach",),
    },
}
# Columns only one platform's exports have: they tell a file given for the wrong platform.
SIGNATURES: dict[str, frozenset[str]] = {
    "google_ads": frozenset(
        {"impr", "convvalue", "allconvvalue", "customerid", "currencycode", "avgcpc", "costconv"}
        | {"campaignstate", "searchimprshare", "interactions", "convrate", "campaignreport"}
    ),
    "tiktok_ads": frozenset(
        {"clicksdestination", "ctrdestination", "cpcdestination", "totalcompletepayment", "byday"}
        | {"completepayment", "completepaymentvalue", "advertiserid", "advertisername"}
        | {"totalcost", "primarystatus", "totalpurchasevalue"}
    ),
    "linkedin_ads": frozenset(
        {"startdateinutc", "enddateinutc", "totalspent", "campaigngroupname", "campaigngroupid"}
        | {"totalconversionvalue", "conversionspostclick", "conversionsviewthrough"}
        | {"totalengagements", "campaignperformancereportinutc", "campaignperformancereport"}
    ),
    "meta_ads": frozenset({"reportingstarts", "reportingends", "adsetname", "resultindicator"}),
}
FOREIGN_LABELS = {**PLATFORM_LABELS, "meta_ads": "Meta Ads"}
COLUMN_LABELS = {"day": "Date", "spend": "Cost", "campaign": "Campaign", "currency": "Currency"}

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_HEADER_CURRENCY = re.compile(r"\(\s*([A-Za-z]{3})\s*\)\s*$")
_BINARY_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"\x1f\x8b", "a gzip archive"),
)


def norm(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower())


class FileProblem(ValueError):
    def __init__(self, message: str, encoding: str = "", header_row: int | None = None) -> None:
        super().__init__(message)
        self.encoding = encoding
        self.header_row = header_row


# --- decoding and layout ------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding used: by BOM, else UTF-16 by its zero bytes, else UTF-8, cp1252."""
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise FileProblem(f"This is {what}, not a CSV file. Download the report as CSV.")
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        sample = data[:4000]
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if len(sample) >= 4 and odd > len(sample) // 4 and even == 0:
            candidates = ["utf-16-le"]
        elif len(sample) >= 4 and even > len(sample) // 4 and odd == 0:
            candidates = ["utf-16-be"]
        else:
            # latin-1 decodes anything: binary content is caught by the control-character check.
            candidates = ["utf-8", "cp1252", "latin-1"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-16":
            encoding = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
            text = text.lstrip("\ufeff")
        if "\x00" in text or _control_share(text) > 0.01:
            raise FileProblem("This is not a text CSV file (it contains binary data).", encoding)
        return text, encoding
    raise FileProblem("The file's text encoding could not be read (expected UTF-8 or UTF-16).")


def _control_share(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    return bad / len(sample)


def read_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number of the record's first line, cells), counting lines as a spreadsheet does."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    last = 0
    for cells in reader:
        yield last + 1, cells
        last = reader.line_num


@dataclass
class Layout:
    delimiter: str
    header_index: int  # records before the header
    header_line: int
    header: list[str]
    columns: dict[str, int]
    header_currency: str | None
    meta_account: str | None
    decimal_comma: bool = False
    day_first: bool = False


def _match_header(cells: list[str], aliases: dict[str, tuple[str, ...]]):
    positions: dict[str, int] = {}
    currency = None
    for index, cell in enumerate(cells):
        label = cell.strip().lstrip("\ufeff")
        found = _HEADER_CURRENCY.search(label)
        if found and found.group(1).upper() in known_currencies():
            currency = currency or found.group(1).upper()
            label = label[: found.start()]
        positions.setdefault(norm(label), index)
    columns = {}
    for name, names in aliases.items():
        for alias in names:
            if alias in positions:
                columns[name] = positions[alias]
                break
    return columns, currency, set(positions)


def _scan(text: str, platform: str) -> tuple[Layout | None, set[str], int | None]:
    """The best header row in the first lines, the normalised cells seen up to it, and the line
    of a campaign header that lacks a date column (a report without the day segment)."""
    best: tuple[int, Layout, set[str]] | None = None
    seen_all: set[str] = set()
    undated = None
    for delimiter in DELIMITERS:
        try:
            head = list(islice(read_records(text, delimiter), HEADER_SCAN_LINES))
        except csv.Error:
            continue
        seen: set[str] = set()
        for index, (line, cells) in enumerate(head):
            columns, currency, names = _match_header(cells, ALIASES[platform])
            seen |= names
            seen.add(norm(" ".join(cells)))
            if "day" in columns and "spend" in columns:
                score = len(columns)
                if best is None or score > best[0]:
                    meta = _meta_account(head[:index])
                    layout = Layout(delimiter, index, line, cells, columns, currency, meta)
                    best = (score, layout, set(seen))
                break
            if "spend" in columns and ("campaign" in columns or "campaign_id" in columns):
                undated = undated or line
        seen_all |= seen
    if best is None:
        return None, seen_all, undated
    return best[1], best[2], None


_META_ACCOUNT = re.compile(r"^\s*account(?:\s*id)?\s*:\s*(.+)$", re.IGNORECASE)


def _meta_account(records: list[tuple[int, list[str]]]) -> str | None:
    """LinkedIn writes "Account: 50999999" above the header."""
    for _line, cells in records:
        found = _META_ACCOUNT.match(" ".join(c.strip() for c in cells if c.strip()))
        if found:
            value = found.group(1).strip()
            digits = re.search(r"\((\d+)\)\s*$", value)
            if digits:
                return digits.group(1)
            if value.isdigit():
                return value
    return None


def find_layout(text: str, platform: str) -> Layout:
    layout, seen, undated = _scan(text, platform)
    label = PLATFORM_LABELS[platform]
    if layout is None or not seen & SIGNATURES[platform]:
        for other, signature in SIGNATURES.items():
            if other == platform or not seen & signature:
                continue
            if other == "meta_ads":
                raise FileProblem(
                    "This looks like a Meta Ads export: Meta ad accounts are synced, not imported."
                )
            if _scan(text, other)[0] is not None:
                raise FileProblem(
                    f"This looks like a {FOREIGN_LABELS[other]} export, not {label}: "
                    f"choose {FOREIGN_LABELS[other]} as the platform."
                )
    if layout is None and undated:
        raise FileProblem(
            f"The header on line {undated} has no date column, so the rows are totals for the "
            f"whole date range, not days. {HOW_TO_EXPORT[platform]}",
            header_row=undated,
        )
    if layout is None:
        day_names = " or ".join(a.title() for a in ALIASES[platform]["day"][:2])
        raise FileProblem(
            f"No {label} header row in the first {HEADER_SCAN_LINES} lines: expected a date column "
            f"({day_names}) and a cost column. {HOW_TO_EXPORT[platform]}"
        )
    if "campaign" not in layout.columns and "campaign_id" not in layout.columns:
        raise FileProblem(
            f"The header on line {layout.header_line} has no campaign column (Campaign or "
            f"Campaign ID): only daily campaign reports can be imported. {HOW_TO_EXPORT[platform]}",
            header_row=layout.header_line,
        )
    return layout
