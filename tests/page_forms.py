"""Read a form off a rendered page and post it back as a browser would: every field the page
really has, with the value it shows (selected option, checked boxes, textarea text), and no
field it does not have."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = self.action is None or a.get("action", "") in ("", self.action)
            return
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self.select, self.options = a["name"], []
        elif tag == "option" and self.select is not None:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self.textarea, self.text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            chosen = [v for v, selected in self.options if selected] or [
                v for v, _ in self.options[:1]
            ]
            self.fields.extend((self.select, v) for v in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def form_fields(page: str, action: str | None = None) -> dict[str, str | list[str]]:
    """The fields of the page's form posting to `action` (None: every form on the page)."""
    reader = _FormReader(action)
    reader.feed(page)
    fields: dict[str, str | list[str]] = {}
    for name, value in reader.fields:
        if name in fields:
            before = fields[name]
            fields[name] = [*(before if isinstance(before, list) else [before]), value]
        else:
            fields[name] = value
    return fields


def field_errors(page: str, name: str) -> list[str]:
    """The error messages shown beside field `name`."""
    found = re.findall(rf'<p class="error" role="alert" data-error-for="{name}">([^<]*)</p>', page)
    return [html.unescape(e) for e in found]
