"""Import the daily campaign CSV exports of Google Ads, TikTok Ads and LinkedIn Campaign Manager.

Files are read the way the platforms write them: title and metadata lines above the header,
UTF-8 / UTF-8 with BOM / UTF-16 (Google's "Excel CSV") / cp1252, `,` `;` or tab separated,
numbers like `1,234.56`, `1.234,56`, `$12.00`, `--`, and trailing `Total` rows. Rows of one
(account, campaign, day) within a file (segmented exports) are summed, so the stored facts are
the same however often the same file is imported.

Transaction: `import_csv` flushes and never commits. The caller (the upload view, the CLI)
commits once, so accounts, platform campaigns, facts and the `SyncRun` ledger row land together.
The writes for the rows run inside a SAVEPOINT: if the database refuses any of them, all are
rolled back and only the failed run row is left for the caller to commit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import islice

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ads.models import AdAccount, RunStatus, SyncRun
from ads.services import (
    FactRow,
    UpsertCounts,
    csv_account,
    minor,
    upsert_facts,
    upsert_platform_campaign,
)
from core.extensions import db
from core.money import known_currencies
from core.types import utcnow

log = logging.getLogger(__name__)

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
BATCH_ROWS = 1000
MAX_ERRORS = 1000
MAX_ID_LENGTH = 64  # AdAccount.external_id, PlatformCampaign.external_id, SpendFact.object_id
MAX_COUNT = 2**63 - 1
MAX_AMOUNT = Decimal(10) ** 15
DELIMITERS = (",", "\t", ";")

# Header cells are compared after _norm(): lower case, letters and digits only, so "Impr." is
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


def _norm(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower())


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: the line number as a spreadsheet shows it, the file's column name, why."""

    row: int
    column: str
    problem: str


@dataclass
class ImportResult:
    run_id: int | None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
    message: str = ""
    encoding: str = ""
    status: str = RunStatus.FAILED.value
    error_count: int = 0
    header_row: int | None = None


class _FileProblem(ValueError):
    def __init__(self, message: str, encoding: str = "", header_row: int | None = None) -> None:
        super().__init__(message)
        self.encoding = encoding
        self.header_row = header_row


# --- decoding and layout ------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding used: by BOM, else UTF-16 by its zero bytes, else UTF-8, cp1252."""
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise _FileProblem(f"This is {what}, not a CSV file. Download the report as CSV.")
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
            raise _FileProblem("This is not a text CSV file (it contains binary data).", encoding)
        return text, encoding
    raise _FileProblem("The file's text encoding could not be read (expected UTF-8 or UTF-16).")


def _control_share(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    return bad / len(sample)


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number of the record's first line, cells), counting lines as a spreadsheet does."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    last = 0
    for cells in reader:
        yield last + 1, cells
        last = reader.line_num


@dataclass
class _Layout:
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
        positions.setdefault(_norm(label), index)
    columns = {}
    for name, names in aliases.items():
        for alias in names:
            if alias in positions:
                columns[name] = positions[alias]
                break
    return columns, currency, set(positions)


def _scan(text: str, platform: str) -> tuple[_Layout | None, set[str], int | None]:
    """The best header row in the first lines, the normalised cells seen up to it, and the line
    of a campaign header that lacks a date column (a report without the day segment)."""
    best: tuple[int, _Layout, set[str]] | None = None
    seen_all: set[str] = set()
    undated = None
    for delimiter in DELIMITERS:
        try:
            head = list(islice(_records(text, delimiter), HEADER_SCAN_LINES))
        except csv.Error:
            continue
        seen: set[str] = set()
        for index, (line, cells) in enumerate(head):
            columns, currency, names = _match_header(cells, ALIASES[platform])
            seen |= names
            seen.add(_norm(" ".join(cells)))
            if "day" in columns and "spend" in columns:
                score = len(columns)
                if best is None or score > best[0]:
                    meta = _meta_account(head[:index])
                    layout = _Layout(delimiter, index, line, cells, columns, currency, meta)
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


def _layout(text: str, platform: str) -> _Layout:
    layout, seen, undated = _scan(text, platform)
    label = PLATFORM_LABELS[platform]
    if layout is None or not seen & SIGNATURES[platform]:
        for other, signature in SIGNATURES.items():
            if other == platform or not seen & signature:
                continue
            if other == "meta_ads":
                raise _FileProblem(
                    "This looks like a Meta Ads export: Meta ad accounts are synced, not imported."
                )
            if _scan(text, other)[0] is not None:
                raise _FileProblem(
                    f"This looks like a {FOREIGN_LABELS[other]} export, not {label}: "
                    f"choose {FOREIGN_LABELS[other]} as the platform."
                )
    if layout is None and undated:
        raise _FileProblem(
            f"The header on line {undated} has no date column, so the rows are totals for the "
            f"whole date range, not days. {HOW_TO_EXPORT[platform]}",
            header_row=undated,
        )
    if layout is None:
        day_names = " or ".join(a.title() for a in ALIASES[platform]["day"][:2])
        raise _FileProblem(
            f"No {label} header row in the first {HEADER_SCAN_LINES} lines: expected a date column "
            f"({day_names}) and a cost column. {HOW_TO_EXPORT[platform]}"
        )
    if "campaign" not in layout.columns and "campaign_id" not in layout.columns:
        raise _FileProblem(
            f"The header on line {layout.header_line} has no campaign column (Campaign or "
            f"Campaign ID): only daily campaign reports can be imported. {HOW_TO_EXPORT[platform]}",
            header_row=layout.header_line,
        )
    return layout


# --- cell parsing -------------------------------------------------------------------------------

_NONE = frozenset({"", "-", "--", "—", "–", "−", "n/a", "na", "null", "none", "nan", "(none)"})
_DIGITS = re.compile(r"\d+")
_PLAIN = re.compile(r"\d+(?:\.\d+)?")
_SIGNS = "$€£¥₹₩₽₺₪₫฿₱₦₴₲₵₡₸¢"
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")  # spaces and apostrophes group thousands
# sign, currency before ("$", "USD", "R$", "-€"), digits, currency or "%" after ("€", "kr.").
_AFFIXED = re.compile(
    rf"(?P<s1>[+\-−]?)(?P<pre>[^\W\d_]{{0,3}}\.?[{_SIGNS}]?)(?P<s2>[+\-−]?)(?P<num>[\d.,]+)"
    rf"(?P<post>[{_SIGNS}]?[^\W\d_]{{0,3}}\.?)(?P<s3>-?)%?"
)
_LOCAL_SYMBOLS = frozenset({"kr", "zł", "kč", "ft", "lei", "lv", "rm", "rp", "r", "fr", "us", "c"})
_LOCAL_SYMBOLS |= {"a", "nz", "hk", "s", "mx", "sfr", "chf", "tl", "din", "eur", "usd"}
_DOT_DECIMAL = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")  # 1,234.56
_COMMA_DECIMAL = re.compile(r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")  # 1.234,56


def _clean(raw: str) -> tuple[bool, str] | None:
    """(negative, digits and separators), None for an empty cell ("--", "-", blank).

    Raises ValueError when anything but a currency sign or code, a sign or "%" is around.
    """
    text = raw.strip()
    if text.lower() in _NONE:
        return None
    text = _SPACES.sub("", text)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    found = _AFFIXED.fullmatch(text)
    if found is None:
        raise ValueError(f"'{_short(raw)}' is not a number")
    for affix in ("pre", "post"):
        letters = found.group(affix).strip(_SIGNS + ".")
        currency_code = letters.upper() in known_currencies()
        if letters and not currency_code and letters.lower() not in _LOCAL_SYMBOLS:
            raise ValueError(f"'{_short(raw)}' is not a number")
    signs = found.group("s1") + found.group("s2") + found.group("s3")
    if len(signs) > 1:
        raise ValueError(f"'{_short(raw)}' is not a number")
    return negative or signs in ("-", "−"), found.group("num")


def _number(raw: str, decimal_comma: bool) -> Decimal:
    """A metric cell as a Decimal; `--`, `-` and blank are 0. Raises ValueError with the reason.

    "1,234" and "1.234" are ambiguous; `decimal_comma` (decided per file) settles them.
    """
    if _DIGITS.fullmatch(raw) or (not decimal_comma and _PLAIN.fullmatch(raw)):
        return Decimal(raw)
    if not decimal_comma and _DOT_DECIMAL.fullmatch(raw):
        return Decimal(raw.replace(",", ""))
    cleaned = _clean(raw)
    if cleaned is None:
        return Decimal(0)
    negative, text = cleaned
    dot = _DOT_DECIMAL.fullmatch(text) is not None
    comma = _COMMA_DECIMAL.fullmatch(text) is not None
    if comma and (decimal_comma or not dot):
        text = text.replace(".", "").replace(",", ".")
    elif dot:
        text = text.replace(",", "")
    else:
        raise ValueError(f"'{_short(raw)}' is not a number")
    value = Decimal(text)
    return -value if negative else value


def _short(raw: str) -> str:
    raw = raw.strip()
    return raw if len(raw) <= 40 else raw[:37] + "..."


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TIME_PART = re.compile(r"[ tT]\d{1,2}:\d{2}.*$")
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})")
_WEEKDAY = r"(?:[a-z]+\.?,?\s+)?"
_MONTH_FIRST = re.compile(_WEEKDAY + r"([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
_DAY_FIRST = re.compile(_WEEKDAY + r"(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]{3,9})\.?[\s,-]+(\d{4})")


def _date(raw: str, day_first: bool) -> date:
    text = _TIME_PART.sub("", raw.strip().lower()).strip()
    try:
        if found := _ISO_DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text):
            year, month, day = (int(g) for g in found.groups())
        elif found := _NUMERIC_DATE.fullmatch(text):
            first, sep, second, year_text = found.groups()
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            if sep == "." or day_first:
                day, month = int(first), int(second)
            else:
                month, day = int(first), int(second)
        elif (found := _MONTH_FIRST.fullmatch(text)) and found.group(1) in _MONTHS:
            month, day, year = _MONTHS[found.group(1)], int(found.group(2)), int(found.group(3))
        elif (found := _DAY_FIRST.fullmatch(text)) and found.group(2) in _MONTHS:
            day, month, year = int(found.group(1)), _MONTHS[found.group(2)], int(found.group(3))
        else:
            raise ValueError
        value = date(year, month, day)
    except ValueError:
        raise ValueError(f"'{_short(raw)}' is not a date") from None
    if not 2000 <= value.year <= 2100:
        raise ValueError(f"'{_short(raw)}' is not a plausible report date")
    return value


def _day_first(values: list[str]) -> bool:
    """Slash dates are M/D/YYYY (US exports) unless a value only makes sense as D/M/YYYY."""
    month_first = day_first = False
    for raw in values:
        found = _NUMERIC_DATE.fullmatch(_TIME_PART.sub("", raw.strip()).strip())
        if found and found.group(2) != ".":
            first, second = int(found.group(1)), int(found.group(3))
            day_first |= first > 12
            month_first |= second > 12
    return day_first and not month_first


def _decimal_comma(values: list[str], delimiter: str) -> bool:
    """Whether amounts use a decimal comma: what the unambiguous amounts say, else `;` means yes."""
    comma = dot = 0
    for raw in values:
        if "," not in raw and "." not in raw:
            continue
        try:
            cleaned = _clean(raw)
        except ValueError:
            continue
        if cleaned is None:
            continue
        is_dot = _DOT_DECIMAL.fullmatch(cleaned[1]) is not None
        is_comma = _COMMA_DECIMAL.fullmatch(cleaned[1]) is not None
        dot += is_dot and not is_comma
        comma += is_comma and not is_dot
        if comma + dot >= 1000:  # plenty of evidence
            break
    if comma or dot:
        return comma > dot
    return delimiter == ";"


# --- rows -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    line: int
    account: str
    account_name: str
    object_id: str
    name: str
    status: str
    day: date
    currency: str
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    value: Decimal
    reach: int
    leads: int


@dataclass(slots=True)
class _Fact:
    currency: str
    spend: Decimal = Decimal(0)
    impressions: int = 0
    clicks: int = 0
    conversions: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    reach: int = 0
    leads: int = 0


@dataclass
class _Group:
    """Everything one ad account gets from the file."""

    currency: str
    name: str = ""
    campaigns: dict[str, tuple[date, str, str]] = field(default_factory=dict)  # latest name
    facts: dict[tuple[str, date], _Fact] = field(default_factory=dict)


@dataclass
class _Parsed:
    encoding: str
    layout: _Layout
    rows: list[_Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rejected_lines: set[int] = field(default_factory=set)
    data_rows: int = 0
    skipped_totals: list[int] = field(default_factory=list)
    skipped_other: list[int] = field(default_factory=list)
    currency_column: str = "Currency"


def _object_id(name: str) -> str:
    """Campaign name as the object id when the export has no id column (ids are 64 chars max)."""
    if len(name) <= MAX_ID_LENGTH:
        return name
    return name[:47] + "~" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:16]


class _RowReader:
    """Turns one record into a `_Row` or a list of `RowError`s."""

    def __init__(self, layout: _Layout, account_id: str, currency: str | None) -> None:
        self.layout = layout
        self.cols = layout.columns
        self.header = layout.header
        self.default_account = layout.meta_account or account_id
        self.default_currency = layout.header_currency or currency
        self.currencies = known_currencies()
        self.amount_fields = [
            k for k in ("spend", "conversion_value", "conversions") if k in self.cols
        ]
        self.count_fields = [
            k for k in ("impressions", "clicks", "reach", "leads") if k in self.cols
        ]

    def cell(self, cells: list[str], name: str) -> str:
        index = self.cols.get(name)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def column(self, name: str) -> str:
        index = self.cols.get(name)
        if index is None:
            return COLUMN_LABELS.get(name, name)
        return self.header[index].strip().lstrip("\ufeff") or COLUMN_LABELS.get(name, name)

    def is_total(self, cells: list[str]) -> bool:
        if not any(c[:8].lstrip()[:5].lower() == "total" for c in cells):
            return False
        firsts = [c for c in cells if c.strip()][:1]
        for text in (*firsts, *(self.cell(cells, n) for n in ("day", "campaign", "campaign_id"))):
            if text.strip().lower().startswith("total"):
                try:
                    _date(self.cell(cells, "day"), self.layout.day_first)
                except ValueError:
                    return True
                return False
        return False

    def read(self, line: int, cells: list[str]) -> _Row | list[RowError]:
        problems: list[RowError] = []

        def problem(name: str, text: str) -> None:
            problems.append(RowError(line, self.column(name), text))

        day = None
        raw_day = self.cell(cells, "day")
        if not raw_day:
            problem("day", "the date is missing")
        else:
            try:
                day = _date(raw_day, self.layout.day_first)
            except ValueError as exc:
                problem("day", str(exc))
        name = self.cell(cells, "campaign")
        # '123 and ="123" are how people keep a spreadsheet from mangling long ids.
        campaign_id = self.cell(cells, "campaign_id")
        if campaign_id.startswith('="') and campaign_id.endswith('"'):
            campaign_id = campaign_id[2:-1]
        campaign_id = campaign_id.lstrip("'")
        if "campaign_id" in self.cols:
            if not campaign_id or campaign_id.lower() in _NONE:
                problem("campaign_id", "the campaign id is missing")
            elif re.fullmatch(r"\d(?:[.,]\d+)?e\+?\d+", campaign_id.lower()):
                problem(
                    "campaign_id",
                    f"'{campaign_id}' was turned into scientific notation by a spreadsheet: "
                    "export the report again and import it without re-saving it",
                )
            elif len(campaign_id) > MAX_ID_LENGTH:
                problem("campaign_id", f"the campaign id is longer than {MAX_ID_LENGTH} characters")
            object_id = campaign_id
        else:
            if not name or name.lower() in _NONE:
                problem("campaign", "the campaign name is missing")
            object_id = _object_id(name)
        account = self.cell(cells, "account_id")
        if account.lower() in _NONE:
            account = self.default_account
        if len(account) > MAX_ID_LENGTH:
            problem("account_id", f"the account id is longer than {MAX_ID_LENGTH} characters")
        currency = self.cell(cells, "currency").upper()
        if currency.lower() in _NONE:
            currency = self.default_currency
        if not currency:
            problem("currency", "no currency: the file has none, so choose the account currency")
        elif currency not in self.currencies:
            problem("currency", f"'{_short(currency)}' is not an ISO 4217 currency code")
        comma = self.layout.decimal_comma
        amounts = dict.fromkeys(("spend", "conversion_value", "conversions"), Decimal(0))
        for key in self.amount_fields:
            raw = self.cell(cells, key)
            try:
                amount = amounts[key] = _number(raw, comma)
            except ValueError as exc:
                problem(key, str(exc))
                continue
            # Conversions and their value may be negative (Google retracts conversions); spend not.
            if amount < 0 and key == "spend":
                problem(key, f"negative spend ({_short(raw)})")
            elif abs(amount) >= MAX_AMOUNT:
                problem(key, f"{_short(raw)} is too large")
        counts = dict.fromkeys(("impressions", "clicks", "reach", "leads"), 0)
        for key in self.count_fields:
            raw = self.cell(cells, key)
            if raw.isdigit() and len(raw) < 19:
                counts[key] = int(raw)
                continue
            try:
                value = _number(raw, comma)
            except ValueError as exc:
                problem(key, str(exc))
                continue
            if value != value.to_integral_value():
                problem(key, f"'{_short(raw)}' is not a whole number")
            elif value < 0:
                problem(key, f"negative value ({_short(raw)})")
            elif value > MAX_COUNT:
                problem(key, f"{_short(raw)} is too large")
            else:
                counts[key] = int(value)
        if problems:
            return problems
        return _Row(
            line=line,
            account=account,
            account_name=self.cell(cells, "account_name"),
            object_id=object_id,
            name=name or campaign_id,
            status=self.cell(cells, "status"),
            day=day,
            currency=currency,
            spend=amounts["spend"],
            impressions=counts["impressions"],
            clicks=counts["clicks"],
            conversions=amounts["conversions"],
            value=amounts["conversion_value"],
            reach=counts["reach"],
            leads=counts["leads"],
        )


def _parse(platform: str, data: bytes, account_id: str, currency: str | None) -> _Parsed:
    if not data.strip():
        raise _FileProblem("The file is empty.")
    text, encoding = _decode(data)
    if not text.strip():
        raise _FileProblem("The file is empty.", encoding)
    try:
        layout = _layout(text, platform)
    except _FileProblem as exc:
        exc.encoding = encoding
        raise
    parsed = _Parsed(encoding, layout)
    try:
        records = list(islice(_records(text, layout.delimiter), layout.header_index + 1, None))
    except csv.Error as exc:
        raise _FileProblem(
            f"The file is not valid CSV: {exc}.", encoding, layout.header_line
        ) from None
    cols = layout.columns
    layout.day_first = _day_first([c[cols["day"]] for _, c in records if len(c) > cols["day"]])
    money = [cols[k] for k in ("spend", "conversion_value") if k in cols]
    layout.decimal_comma = _decimal_comma(
        [c[i] for _, c in records for i in money if i < len(c)], layout.delimiter
    )
    reader = _RowReader(layout, account_id, currency)
    header_norm = [_norm(c) for c in layout.header]
    parsed.currency_column = reader.column("currency")
    for line, cells in records:
        filled = [c for c in cells if c.strip()]
        if not filled:
            continue
        if reader.is_total(cells):
            parsed.skipped_totals.append(line)
            continue
        repeated = _norm(cells[0]) == header_norm[0] and [_norm(c) for c in cells] == header_norm
        if len(filled) == 1 or repeated:
            parsed.skipped_other.append(line)  # a note line, or the header repeated
            continue
        parsed.data_rows += 1
        outcome = reader.read(line, cells)
        if isinstance(outcome, list):
            parsed.errors.extend(outcome)
            parsed.rejected_lines.add(line)
        else:
            parsed.rows.append(outcome)
    return parsed


def _group(parsed: _Parsed, platform: str) -> dict[str, _Group]:
    """Sum rows per (account, campaign, day); one currency per account (as on every platform)."""
    accounts = sorted({row.account for row in parsed.rows})
    known = (
        dict(
            db.session.execute(
                select(AdAccount.external_id, AdAccount.currency).where(
                    AdAccount.platform == platform, AdAccount.external_id.in_(accounts)
                )
            ).all()
        )
        if accounts
        else {}
    )
    groups: dict[str, _Group] = {}
    for row in parsed.rows:
        group = groups.get(row.account)
        if group is None:
            group = groups[row.account] = _Group(known.get(row.account, row.currency))
        if row.currency != group.currency:
            parsed.errors.append(
                RowError(
                    row.line,
                    parsed.currency_column,
                    f"account {row.account} reports in {group.currency}, this row in "
                    f"{row.currency}: give this export its own account id",
                )
            )
            parsed.rejected_lines.add(row.line)
            continue
        group.name = group.name or row.account_name
        seen = group.campaigns.get(row.object_id)
        if seen is None or row.day >= seen[0]:
            group.campaigns[row.object_id] = (row.day, row.name, row.status)
        fact = group.facts.get((row.object_id, row.day))
        if fact is None:
            fact = group.facts[(row.object_id, row.day)] = _Fact(row.currency)
        fact.spend += row.spend
        fact.impressions += row.impressions
        fact.clicks += row.clicks
        fact.conversions += row.conversions
        fact.value += row.value
        # Reach is people, not events: segment rows overlap, so keep the largest.
        fact.reach = max(fact.reach, row.reach)
        fact.leads += row.leads
    return {key: group for key, group in groups.items() if group.facts}


# --- storing ------------------------------------------------------------------------------------


def _store(platform: str, groups: dict[str, _Group], run_id: int) -> tuple[UpsertCounts, list]:
    counts = UpsertCounts()
    accounts = []
    with db.session.begin_nested():
        for external_id, group in sorted(groups.items()):
            account = csv_account(platform, external_id, group.currency, group.name[:200])
            campaign_pk = {
                object_id: upsert_platform_campaign(account, object_id, name, status).id
                for object_id, (_day, name, status) in sorted(group.campaigns.items())
            }
            rows = [
                FactRow(
                    platform_campaign_id=campaign_pk[object_id],
                    level="campaign",
                    object_id=object_id,
                    day=day,
                    attribution_setting="",
                    currency=fact.currency,
                    spend_minor=minor(fact.spend, fact.currency),
                    impressions=fact.impressions,
                    clicks=fact.clicks,
                    reach=fact.reach,
                    # Google reports fractional conversions (data-driven attribution); the
                    # column is an integer, so the day's sum is rounded once, half-even.
                    purchases=_whole(fact.conversions),
                    leads=fact.leads,
                    conversions=_whole(fact.conversions),
                    conversion_value_minor=minor(fact.value, fact.currency),
                    object_name=group.campaigns[object_id][1],
                )
                for (object_id, day), fact in sorted(group.facts.items())
            ]
            for start in range(0, len(rows), BATCH_ROWS):
                counts.add(upsert_facts(account, rows[start : start + BATCH_ROWS], run_id))
            account.last_synced_at = utcnow()
            accounts.append(account)
        db.session.flush()
    return counts, accounts


def _whole(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


# --- entry point ------------------------------------------------------------------------------


def import_csv(
    platform: str,
    data: bytes,
    *,
    filename: str = "",
    account_id: str | None = None,
    currency: str | None = None,
    user_id: int | None = None,
) -> ImportResult:
    """Import one daily campaign export; never raises for bad input.

    `account_id` and `currency` are used only when the file has no account / currency column.
    Good rows are stored, bad rows are reported as `RowError`s (line, column, problem) and
    recorded with the counts on a `SyncRun` (kind "csv_import"). A file-level problem (empty,
    binary, no header, another platform's export) stores nothing but the failed run row.
    Flushes, does not commit: the caller commits once, so the import is one transaction.
    """
    run = SyncRun(
        kind="csv_import",
        status=RunStatus.RUNNING.value,
        source_name=(filename or "")[:300],
        started_by_id=user_id,
        details={"platform": platform},
    )
    db.session.add(run)
    db.session.flush()
    try:
        parsed = _parse_arguments_and_file(platform, data, account_id, currency)
    except _FileProblem as exc:
        return _finish_failed(run, str(exc), exc.encoding, exc.header_row)
    groups = _group(parsed, platform)
    counts, accounts = UpsertCounts(), []
    if groups:
        try:
            counts, accounts = _store(platform, groups, run.id)
        except (SQLAlchemyError, ValueError) as exc:
            log.exception("CSV import %s refused by the database", run.id)
            return _finish_failed(
                run,
                f"The database refused this import ({type(exc).__name__}); nothing from the file "
                "was stored.",
                parsed.encoding,
                parsed.layout.header_line,
            )
    return _finish(run, platform, parsed, groups, counts, accounts)


def _parse_arguments_and_file(
    platform: str, data: bytes, account_id: str | None, currency: str | None
) -> _Parsed:
    if platform not in PLATFORM_LABELS:
        raise _FileProblem(f"Unknown platform {platform!r}: choose {', '.join(PLATFORM_LABELS)}.")
    if not isinstance(data, bytes | bytearray):
        raise _FileProblem("No file was uploaded.")
    account_id = (account_id or "").strip() or f"{platform}-default"
    if len(account_id) > MAX_ID_LENGTH:
        raise _FileProblem(f"The account id is longer than {MAX_ID_LENGTH} characters.")
    if currency:
        currency = currency.strip().upper()
        if currency not in known_currencies():
            raise _FileProblem(f"{_short(currency)} is not an ISO 4217 currency code.")
    try:
        return _parse(platform, bytes(data), account_id, currency or None)
    except _FileProblem:
        raise
    except Exception as exc:  # a parser bug must not become a 500 or a partial write
        log.exception("CSV import could not parse the file")
        raise _FileProblem(f"The file could not be read ({type(exc).__name__}).") from None


def _finish_failed(run: SyncRun, message: str, encoding: str, header_row: int | None):
    run.status = RunStatus.FAILED.value
    run.error = message
    run.details = {**run.details, "encoding": encoding, "header_row": header_row, "errors": []}
    run.finished_at = utcnow()
    db.session.flush()
    return ImportResult(
        run_id=run.id, message=message, encoding=encoding, header_row=header_row, status=run.status
    )


def _finish(run, platform, parsed: _Parsed, groups, counts: UpsertCounts, accounts) -> ImportResult:
    errors = sorted(parsed.errors, key=lambda e: e.row)
    rejected = len(parsed.rejected_lines)
    stored = counts.inserted + counts.updated + counts.unchanged
    if not stored:
        status = RunStatus.FAILED.value
    elif rejected:
        status = RunStatus.PARTIAL.value
    else:
        status = RunStatus.SUCCEEDED.value
    days = [day for group in groups.values() for (_obj, day) in group.facts]
    message = _message(platform, parsed, rejected, stored, counts, days, groups)
    run.status = status
    run.error = "" if status == RunStatus.SUCCEEDED.value else message
    run.account_id = accounts[0].id if len(accounts) == 1 else None
    run.since, run.until = (min(days), max(days)) if days else (None, None)
    run.rows_inserted, run.rows_updated = counts.inserted, counts.updated
    run.rows_unchanged, run.rows_restated = counts.unchanged, counts.restated
    run.rows_rejected = rejected
    run.progress = 100
    run.details = {
        "platform": platform,
        "encoding": parsed.encoding,
        "header_row": parsed.layout.header_line,
        "delimiter": parsed.layout.delimiter,
        "decimal_comma": parsed.layout.decimal_comma,
        "rows_read": parsed.data_rows,
        "skipped_total_rows": parsed.skipped_totals[:MAX_ERRORS],
        "skipped_other_rows": parsed.skipped_other[:MAX_ERRORS],
        "accounts": sorted(groups),
        "errors": [
            {"row": e.row, "column": e.column, "problem": e.problem} for e in errors[:MAX_ERRORS]
        ],
        "error_count": len(errors),
    }
    run.finished_at = utcnow()
    db.session.flush()
    return ImportResult(
        run_id=run.id,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rejected=rejected,
        errors=errors[:MAX_ERRORS],
        message=message,
        encoding=parsed.encoding,
        status=status,
        error_count=len(errors),
        header_row=parsed.layout.header_line,
    )


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _message(platform, parsed: _Parsed, rejected, stored, counts, days, groups) -> str:
    label = PLATFORM_LABELS[platform]
    if not parsed.data_rows:
        line = parsed.layout.header_line
        text = f"The {label} file has a header row (line {line}) but no data rows."
    elif not stored:
        rows = _n(parsed.data_rows, "data row")
        text = f"Nothing imported: all {rows} have problems (see the row report)."
    else:
        campaigns = sum(len(g.campaigns) for g in groups.values())
        text = (
            f"Imported {_n(stored, 'daily campaign row')} from "
            f"{_n(parsed.data_rows - rejected, label + ' row')} ({_n(campaigns, 'campaign')}, "
            f"{min(days):%d %b %Y} – {max(days):%d %b %Y}): {counts.inserted} new, "
            f"{counts.updated} updated, {counts.unchanged} unchanged."
        )
        if rejected:
            text += (
                f" {_n(rejected, 'row')} rejected (see the row report); the other rows were kept."
            )
    skipped = []
    if parsed.skipped_totals:
        skipped.append(_n(len(parsed.skipped_totals), "total row"))
    if parsed.skipped_other:
        skipped.append(_n(len(parsed.skipped_other), "note or repeated header line"))
    if skipped:
        text += " Skipped " + " and ".join(skipped) + "."
    return text
