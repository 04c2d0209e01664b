"""Links that leave the app: the ones Flightdeck makes (invitations, e-mails) and the ones
people give it (proof of post).

Links Flightdeck makes come from configuration (FLIGHTDECK_BASE_URL, or SERVER_NAME with
PREFERRED_URL_SCHEME), never from the request's Host header, which the client chooses: an
invitation made while `Host: evil.example` was sent would otherwise hand the token to evil.example.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import current_app


class NoPublicAddress(RuntimeError):
    """Flightdeck was not told the address people reach it at."""


def public_base_url() -> str:
    """`scheme://host[:port][/prefix]` without a trailing slash, from configuration only."""
    cfg = current_app.config
    production = cfg.get("ENV_NAME") == "production"
    base = cfg.get("FLIGHTDECK_BASE_URL")
    if base:
        return base.rstrip("/")
    server = cfg.get("SERVER_NAME")
    if server:
        scheme = "https" if production else (cfg.get("PREFERRED_URL_SCHEME") or "http")
        root = (cfg.get("APPLICATION_ROOT") or "/").rstrip("/")
        return f"{scheme}://{server}{root}"
    raise NoPublicAddress(
        "Flightdeck does not know the address people reach it at, so it cannot make this "
        "link. Set FLIGHTDECK_BASE_URL (e.g. https://flightdeck.example.com) and restart."
    )


def external_url(endpoint: str, **values) -> str:
    """An absolute link to `endpoint` at the configured public address."""
    # Built against "/" rather than the request's script root: a prefix, if any, is part of
    # the configured base URL.
    adapter = current_app.url_map.bind("configured.invalid", script_name="/")
    return public_base_url() + adapter.build(endpoint, values)


# Names that only ever mean a machine on the local network (RFC 6761, 6762, 8375 and common
# practice): a link there is no public proof of anything.
PRIVATE_SUFFIXES = (
    "localhost",
    "local",
    "localdomain",
    "internal",
    "intranet",
    "lan",
    "home",
    "corp",
    "private",
    "home.arpa",
    "arpa",
    "invalid",
    "onion",
)


def public_https_problem(url: str) -> str | None:
    """Why `url` is not a public https link, or None when it is one.

    Refused: any scheme but https; a user name or password before the host (the
    `https://instagram.com@evil.example` trick); backslashes, whitespace or control
    characters; a port other than 443; an IP address in any spelling (127.0.0.1, [::1],
    2130706433, 0x7f.1, 10.0.0.1…, so no private range either), localhost and local-only
    names; a host that is not a dotted name with an alphabetic top-level domain.
    """
    if any(ord(ch) < 33 or ch in "\\\x7f" for ch in url):
        return "A link holds no spaces, backslashes or control characters."
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "Use an https:// link."
    if "@" in parts.netloc or parts.username or parts.password:
        return "The link must not carry a user name or password before the host."
    try:
        port = parts.port
    except ValueError:
        return "The link's port is not a number."
    if port not in (None, 443):
        return "The link must be on the standard https port."
    host = (parts.hostname or "").rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return "Use the site's name, not an IP address."
    labels = host.split(".")
    if len(labels) < 2 or not all(labels) or "%" in host:
        return "The link must point at a public site (a name like www.instagram.com)."
    tld = labels[-1]
    if not (tld.isascii() and (tld.isalpha() or tld.startswith("xn--")) and len(tld) >= 2):
        return "The link must point at a public site (a name like www.instagram.com)."
    if any(host == s or host.endswith("." + s) for s in PRIVATE_SUFFIXES):
        return "The link points at a local or private machine, not a public site."
    return None
