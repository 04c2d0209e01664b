"""Links that leave the app: the ones Flightdeck makes (invitations, e-mails) and the ones
people give it (proof of post).

Links Flightdeck makes come from configuration (FLIGHTDECK_BASE_URL, or SERVER_NAME with
PREFERRED_URL_SCHEME), never from the request's Host header, which the client chooses: an
invitation made while `Host: evil.example` was sent would otherwise hand the token to evil.example.
"""

from __future__ import annotations

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
