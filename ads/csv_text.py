"""A platform export's bytes as a stream of text lines: the encoding, zips, and what is not CSV.

Files come as the platforms write them: UTF-8, UTF-8 with BOM, UTF-16 (Google's "Excel CSV",
tab separated) or cp1252. A zip holding one CSV is opened (through `core.uploads` caps on its
real unpacked size and ratio); workbooks, web pages and other files that are not CSV are
refused with what to do instead. The text is never held whole: `Text.lines()` reads it afresh
a line at a time, and the encoding is confirmed by the first full pass (`fallback()` then
moves on from UTF-8 to cp1252 to Latin-1).
"""

from __future__ import annotations

import codecs
import io
import struct
import zipfile
from collections.abc import Iterator

from ads.csv_formats import FileProblem
from core.uploads import CHUNK, Counting, Limits, Source, UploadProblem, ZipMember, text_lines

HEAD = 65536
_BROKEN_ZIP = "This is a zip file that cannot be opened: import the CSV itself."
MAX_ZIP_MEMBERS = 100
SAVE_AS_CSV = (
    "download the report as CSV, or open it in Excel and save it as “CSV UTF-8 (Comma delimited)”."
)
_BINARY_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)


class Text:
    """The file's text in one encoding; `lines()` reads it from the start each time."""

    def __init__(self, source: Source, candidates: list[tuple[str, str]], max_line: int):
        self.source = source
        self.candidates = candidates  # (codec, name reported), best first
        self.max_line = max_line
        self._counter: Counting | None = None

    @property
    def codec(self) -> str:
        return self.candidates[0][0]

    @property
    def encoding(self) -> str:
        return self.candidates[0][1]

    def fallback(self) -> bool:
        """The next encoding to try after a decoding error; False when none is left."""
        if len(self.candidates) < 2:
            return False
        self.candidates = self.candidates[1:]
        return True

    def lines(self) -> Iterator[str]:
        self._counter = Counting(self.source.open())
        stream = io.BufferedReader(self._counter, CHUNK)
        return text_lines(stream, self.codec, self.max_line)

    def fraction_read(self) -> float:
        """How far the latest `lines()` has read, 0 to 1."""
        if self._counter is None or not self.source.size:
            return 0.0
        return min(1.0, self._counter.count / self.source.size)


def open_text(source: Source, limits: Limits) -> Text:
    """The file's text (lazily); FileProblem for what cannot be imported as CSV."""
    head = source.head(HEAD)
    if not head.strip(b" \t\r\n\x00"):
        raise FileProblem("The file is empty.")
    if head.startswith(b"PK\x03\x04"):
        source = _zip_member(source, limits)
        head = source.head(HEAD)
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            raise FileProblem(f"This is {what}, not a CSV file: {SAVE_AS_CSV}")
    text = Text(source, _candidates(head), limits.max_line)
    sample, encoding = _sample(head, text)
    if not sample.strip() and source.size <= len(head):
        raise FileProblem("The file is empty.", encoding)
    if "\x00" in sample or _control_share(sample) > 0.01:
        raise FileProblem("This is not a text CSV file (it contains binary data).", encoding)
    _refuse_markup(sample, encoding)
    return text


def _candidates(head: bytes) -> list[tuple[str, str]]:
    if head.startswith(codecs.BOM_UTF8):
        return [("utf-8-sig", "utf-8-sig")]
    if head.startswith(codecs.BOM_UTF16_LE):
        return [("utf-16", "utf-16-le")]
    if head.startswith(codecs.BOM_UTF16_BE):
        return [("utf-16", "utf-16-be")]
    sample = head[:4000]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if len(sample) >= 4 and odd > len(sample) // 4 and even == 0:
        return [("utf-16-le", "utf-16-le")]
    if len(sample) >= 4 and even > len(sample) // 4 and odd == 0:
        return [("utf-16-be", "utf-16-be")]
    # latin-1 decodes anything: binary content is caught by the control-character check.
    return [("utf-8", "utf-8"), ("cp1252", "cp1252"), ("latin-1", "latin-1")]


def _sample(head: bytes, text: Text) -> tuple[str, str]:
    """The head decoded in the first encoding that can (a character cut at the end is fine);
    the text's candidates start there."""
    while True:
        decoder = codecs.getincrementaldecoder(text.codec)()
        try:
            return decoder.decode(head, final=False).lstrip("\ufeff"), text.encoding
        except UnicodeDecodeError:
            if not text.fallback():
                raise FileProblem(
                    "The file's text encoding could not be read (expected UTF-8 or UTF-16)."
                ) from None


def _zip_member(source: Source, limits: Limits) -> ZipMember:
    """The one CSV inside a zip; a workbook (also a zip), several files, or a zip that unpacks
    to more than an import takes are refused."""
    _refuse_crowded_zip(source)
    try:
        with source.open() as raw, zipfile.ZipFile(raw) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        raise FileProblem(_BROKEN_ZIP) from None
    names = [m.filename for m in members]
    if any(n.startswith("xl/") for n in names):
        raise FileProblem(f"This is an Excel workbook (.xlsx), not a CSV file: {SAVE_AS_CSV}")
    if "mimetype" in names or any(n.startswith("word/") for n in names):
        raise FileProblem(f"This is an office document, not a CSV file: {SAVE_AS_CSV}")
    tables = [
        m
        for m in members
        if m.filename.lower().endswith((".csv", ".tsv", ".txt"))
        and not m.filename.startswith("__MACOSX/")
    ]
    if len(tables) != 1:
        raise FileProblem(
            f"This zip file holds {len(tables)} CSV files: unpack it and import the "
            "daily campaign report on its own."
        )
    try:
        member = ZipMember(source, tables[0], limits)
        head = member.head(4)
    except UploadProblem as exc:
        raise FileProblem(str(exc)) from None
    except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, RuntimeError):
        raise FileProblem(_BROKEN_ZIP) from None
    if head.startswith(b"PK\x03\x04"):
        raise FileProblem("This zip file holds another zip file: import the CSV itself.")
    return member


def _refuse_crowded_zip(source: Source) -> None:
    """Read the entry count from the zip's end record before `zipfile` reads its directory
    into memory: a zip of a million empty files is refused without building a million
    entries."""
    size = source.size
    with source.open() as raw:
        raw.seek(max(0, size - 65558))
        tail = raw.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return  # not a readable zip: zipfile says so
    (entries,) = struct.unpack("<H", tail[at + 10 : at + 12])
    if entries > MAX_ZIP_MEMBERS:
        raise FileProblem(
            f"This zip file holds {entries:,} files: unpack it and import the daily campaign "
            "report on its own."
        )


def _refuse_markup(text: str, encoding: str) -> None:
    """Web pages saved as .xls, Excel's XML spreadsheets and JSON are text, but not CSV."""
    head = text[:2000].lstrip("\ufeff \t\r\n").lower()
    if head.startswith(("<!doctype html", "<html", "<table", "<head", "<body")):
        what = "a web page (HTML)"
    elif head.startswith("<?xml") and "office:spreadsheet" in head:
        what = "an Excel XML spreadsheet"
    elif head.startswith("<?xml"):
        what = "an XML file"
    elif head.startswith(("{", "[{", "[\n")):
        what = "a JSON file"
    else:
        return
    raise FileProblem(f"This is {what}, not a CSV file: {SAVE_AS_CSV}", encoding)


def _control_share(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    return bad / len(sample)
