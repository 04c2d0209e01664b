"""Secrets at rest (ad-platform tokens): Fernet, with rotation through MultiFernet.

FLIGHTDECK_ENCRYPTION_KEY holds one or more Fernet keys separated by commas, newest first.
Encryption uses the first; decryption tries each, so keys rotate without downtime:
prepend a new key, run `rotate_token` over the rows, then drop the old key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SecretError(RuntimeError):
    """A secret could not be decrypted (wrong or missing key)."""


def _cipher() -> MultiFernet:
    raw = current_app.config.get("FLIGHTDECK_ENCRYPTION_KEY") or ""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise SecretError("FLIGHTDECK_ENCRYPTION_KEY is not set")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise SecretError("FLIGHTDECK_ENCRYPTION_KEY is not a valid Fernet key") from None


def encrypt(plaintext: str) -> str:
    return _cipher().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretError("stored secret cannot be decrypted with the configured keys") from None


def rotate(token: str) -> str:
    """Re-encrypt under the newest key."""
    try:
        return _cipher().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretError("stored secret cannot be decrypted with the configured keys") from None
