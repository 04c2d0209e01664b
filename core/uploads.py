"""Uploaded files: streamed to disk under a size cap, then read again as bounded streams.

Nothing here holds a whole file in memory. An upload is copied from the request's stream to
`UPLOAD_DIR` (default `instance/uploads`) a megabyte at a time and refused past
`UPLOAD_MAX_BYTES`; an import job opens it later, as often as it needs (a `Source`), and reads
it line by line (`text_lines`): a line longer than `max_line` characters is refused, so a
file with no line ends cannot become one huge string. A zip member is read through a
`CappedReader` that stops at `UPLOAD_MAX_UNZIPPED_BYTES` and at `UPLOAD_MAX_ZIP_RATIO` times
its compressed size, whatever the zip's directory claims (it can lie).

With more than one host, `UPLOAD_DIR` must be storage the web processes and the workers share.
"""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app

CHUNK = 1024 * 1024
MB = 1024 * 1024


class UploadProblem(ValueError):
    """The upload as a whole is refused; the message says why, for the person."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 256 * MB  # the file as uploaded
    max_unzipped: int = 256 * MB  # the file inside a zip
    max_ratio: int = 100  # unzipped bytes per zipped byte: CSV exports deflate 5-20x
    max_line: int = MB  # characters in one line of text
    max_rows: int = 2_000_000  # data rows of one import (each import kind sets its own)

    @classmethod
    def from_config(cls, max_rows_key: str | None = None) -> Limits:
        config = current_app.config
        rows = config.get(max_rows_key, cls.max_rows) if max_rows_key else cls.max_rows
        return cls(
            max_bytes=config.get("UPLOAD_MAX_BYTES", cls.max_bytes),
            max_unzipped=config.get("UPLOAD_MAX_UNZIPPED_BYTES", cls.max_unzipped),
            max_ratio=config.get("UPLOAD_MAX_ZIP_RATIO", cls.max_ratio),
            max_line=config.get("UPLOAD_MAX_LINE_CHARS", cls.max_line),
            max_rows=rows,
        )


def megabytes(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= MB else f"{size / 1024:,.0f} KB"


def upload_dir() -> Path:
    configured = current_app.config.get("UPLOAD_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_upload(stream: BinaryIO, kind: str, limits: Limits | None = None) -> Path:
    """Copy an uploaded file to the upload directory, a chunk at a time; UploadProblem (and
    nothing left behind) when it is larger than the cap. Returns the stored file's path."""
    limits = limits or Limits.from_config()
    directory = upload_dir()
    name = f"{kind}-{uuid.uuid4().hex}"
    partial = directory / f"{name}.part"
    size = 0
    try:
        with open(partial, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limits.max_bytes:
                    raise UploadProblem(
                        f"The file is larger than {megabytes(limits.max_bytes)}: export a "
                        "shorter period, or split it, and import the parts one by one."
                    )
                out.write(chunk)
        final = directory / f"{name}.upload"
        os.replace(partial, final)
        return final
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def discard(path: str | Path | None) -> None:
    """Delete a stored upload (gone already is fine)."""
    if path:
        Path(path).unlink(missing_ok=True)


class Source:
    """A file an import reads more than once: bytes in memory (tests, the demo, small CLI
    inputs) or a file on disk (uploads). `open()` gives a fresh binary stream each time."""

    def __init__(self, data: bytes | None = None, path: str | Path | None = None) -> None:
        if (data is None) == (path is None):
            raise ValueError("a Source is bytes or a path")
        self.data = data
        self.path = Path(path) if path is not None else None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        return open(self.path, "rb")  # noqa: SIM115 - the caller closes it

    def head(self, size: int = 65536) -> bytes:
        with self.open() as stream:
            return stream.read(size)


class CappedReader(io.RawIOBase):
    """A binary stream that refuses to give more than `limit` bytes (UploadProblem)."""

    def __init__(self, inner: BinaryIO, limit: int, message: str) -> None:
        self.inner = inner
        self.limit = limit
        self.message = message
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(min(len(buffer), self.limit + 1 - self.count) or 1)
        self.count += len(data)
        if self.count > self.limit:
            raise UploadProblem(self.message)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


class ZipMember(Source):
    """One member of a zip file, read through a cap on its real (not declared) size."""

    def __init__(self, outer: Source, info: zipfile.ZipInfo, limits: Limits) -> None:
        self.outer = outer
        self.info = info
        self.limit = min(limits.max_unzipped, max(info.compress_size, 1) * limits.max_ratio)
        if info.file_size > limits.max_unzipped:
            raise UploadProblem(
                f"The file in this zip unpacks to {megabytes(info.file_size)}, more than the "
                f"{megabytes(limits.max_unzipped)} an import takes: split the export."
            )
        if info.file_size > self.limit:
            raise UploadProblem(
                "This zip file unpacks to far more than it holds (a zip bomb?): import the "
                "CSV file itself."
            )

    @property
    def size(self) -> int:
        return self.info.file_size

    def open(self) -> BinaryIO:
        outer = self.outer.open()
        try:
            archive = zipfile.ZipFile(outer)
            member = archive.open(self.info)
        except BaseException:
            outer.close()
            raise
        capped = _Closing(member, (archive, outer))
        message = (
            "The file in this zip unpacks to more than it said, or more than an import "
            "takes: import the CSV file itself."
        )
        return io.BufferedReader(CappedReader(capped, self.limit, message), CHUNK)


class _Closing:
    """A stream that closes what it was opened through when it is closed."""

    def __init__(self, stream: BinaryIO, others: tuple) -> None:
        self.stream = stream
        self.others = others

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)

    def close(self) -> None:
        self.stream.close()
        for other in self.others:
            other.close()


class Counting(io.RawIOBase):
    """A binary stream that counts the bytes read through it (progress of a pass)."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        self.count += len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


def text_lines(stream: BinaryIO, encoding: str, max_line: int) -> Iterator[str]:
    """The stream's text a line at a time (line ends kept: \\n, \\r\\n or a lone \\r).

    Raises UploadProblem for a line longer than `max_line` characters, UnicodeDecodeError
    when the bytes are not `encoding` (the caller tries the next). Closes the stream.
    """
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    number = 0
    try:
        while line := text.readline(max_line + 1):
            number += 1
            if len(line) > max_line and not line.endswith(("\n", "\r")):
                raise UploadProblem(
                    f"Line {number} is longer than {max_line:,} characters: this is not a "
                    "CSV export (or its line ends were lost)."
                )
            yield line
    finally:
        text.close()
