"""Later pages of an insights read, loaded ahead of the caller by two threads.

A page's cost is mostly JSON decoding, and the next request needs only the page's cursor. So
one thread (the fetcher) sends the request for page k+1 as soon as page k's bytes are in,
reading the cursor from the body's trailing `"paging"` object without decoding the rows; a
second thread (the decoder) decodes and prepares pages in order; the caller stores them. Meta
(or the sandbox) builds the next page while we decode and store this one.

Each hand-over holds one page, so at most a few pages are in memory whatever the window.
Whatever a thread raises reaches the caller in page order, where that page would have been.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass
class RawPage:
    """One answer as it came: the decoder turns it into rows (or into the error it holds)."""

    status: int
    content: bytes
    headers: Mapping[str, str]
    after: str | None  # the cursor of the next page, None if this is the last (or failed)
    body: Any = None  # the decoded body, when the fetcher had to decode it to find `after`


def loads(content: bytes) -> Any:
    """A Graph API body decoded: orjson (UTF-8, several times faster on a page of rows), else
    the standard library's reader (other encodings); ValueError if it is not JSON."""
    try:
        return orjson.loads(content)
    except ValueError:
        return json.loads(content)


def tail_paging(content: bytes) -> dict[str, Any] | None:
    """The top-level `"paging"` object of a Graph API page, read from the end of the body.

    `{` + the text from the last `"paging"` on is valid JSON only if that key sits at the top
    level and ends the body (an occurrence inside the rows leaves their closing brackets
    unbalanced; one inside a string is escaped). None when that is not so: decode it all.
    """
    at = content.rfind(b'"paging"')
    if at < 0:
        return None
    try:
        tail = loads(b"{" + content[at:])
    except ValueError:
        return None
    paging = tail.get("paging") if isinstance(tail, dict) else None
    return paging if isinstance(paging, dict) else None


def next_cursor(paging: Any) -> str | None:
    """As the SDK's Cursor: go on only with both `paging.cursors.after` and `paging.next`."""
    if not isinstance(paging, dict) or "next" not in paging:
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return after if isinstance(after, str) and after else None


class _Handover:
    """A one-item queue between two threads that gives up when the reader has stopped."""

    def __init__(self, stop: threading.Event) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
        self._stop = stop

    def put(self, kind: str, item: Any = None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put((kind, item), timeout=0.1)
                return
            except queue.Full:
                continue

    def get(self) -> tuple[str, Any]:
        while True:
            try:
                return self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():
                    return "end", None


def pipelined(
    after: str,
    fetch: Callable[[str], RawPage],
    decode: Callable[[RawPage], Any],
    *,
    join_timeout: float,
) -> Iterator[Any]:
    """`decode(fetch(cursor))` for every page from `after` on, computed ahead of the caller.

    `decode` returns the page to yield, or None for an empty page (the end, as with the SDK).
    """
    stop = threading.Event()
    raw_pages, pages = _Handover(stop), _Handover(stop)

    def fetcher() -> None:
        cursor: str | None = after
        try:
            while cursor is not None and not stop.is_set():
                raw = fetch(cursor)
                raw_pages.put("raw", raw)
                cursor = raw.after
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, in page order
            raw_pages.put("error", exc)
            return
        raw_pages.put("end")

    def decoder() -> None:
        while not stop.is_set():
            kind, item = raw_pages.get()
            if kind != "raw":
                pages.put(kind, item)
                return
            try:
                page = decode(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, in page order
                pages.put("error", exc)
                return
            if page is None:
                pages.put("end")
                return
            pages.put("page", page)

    threads = [
        threading.Thread(target=fetcher, name="meta-fetch", daemon=True),
        threading.Thread(target=decoder, name="meta-decode", daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        while True:
            kind, item = pages.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()  # the caller is done (or failed): both threads stop at their next step
        for thread in threads:
            thread.join(timeout=join_timeout)
