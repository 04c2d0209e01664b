"""Password policy: long enough, not one attackers try first, not built from the account.

Length alone let `aaaaaaaaaaaa` and `password1234` through. A password is refused, with the
reason, when it is:
- shorter than 12 or longer than 1,024 characters;
- on the bundled list of common passwords, or such a password with digits or symbols around it
  (`Password1234!`);
- one character or a short run repeated (`aaaaaaaaaaaa`, `abcabcabcabc`), or made of fewer than
  five different characters;
- a stretch of the alphabet, the digits or a keyboard row (`abcdefghijkl`, `123456789012`);
- built from the account's own email address or name (`Ada.Lovelace2026!`).

The list (common-passwords.txt.gz) is Django's: the 20,000 most common passwords compiled by
Royce Williams, lower-cased, shipped in the `django` package on PyPI (licence in
common-passwords.LICENSE). To refresh it from a newer Django release:

    pip download django --no-deps -d /tmp/dj && unzip -p /tmp/dj/django-*.whl \
        django/contrib/auth/common-passwords.txt.gz > core/auth/common-passwords.txt.gz
"""

from __future__ import annotations

import functools
import gzip
import re
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 1024
COMMON_LIST = Path(__file__).with_name("common-passwords.txt.gz")
# Runs people type as "random": the alphabet, the digits, keyboard rows and columns.
SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
)
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_NOT_LETTERS = re.compile(r"[\W\d_]+")


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_LIST, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def _is_sequence(text: str) -> bool:
    if len(text) < 6:
        return False
    for seq in SEQUENCES:
        run = seq * (len(text) // len(seq) + 2)  # "1234567890" + "12" wraps around
        if text in run or text in run[::-1]:
            return True
    return False


def _identity_tokens(email: str, name: str) -> list[str]:
    """Pieces of the email address and name someone might build a password from."""
    local, _, domain = (email or "").lower().partition("@")
    name = (name or "").lower()
    pieces = [
        *re.split(r"[\W_]+", local),
        _NOT_LETTERS.sub("", local),
        *domain.split(".")[:-1],  # company.example → "company"; not the top-level domain
        *re.split(r"[\W_]+", name),
        re.sub(r"[\W_]+", "", name),
    ]
    return sorted({p for p in pieces if len(p) >= 3}, key=len, reverse=True)


def password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """Why `password` is refused for the account (email, name), or None when it is fine."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH:,} characters."
    lowered = password.lower()
    common = common_passwords()
    if lowered in common or lowered.strip() in common:
        return "This password is on a list of common passwords that attackers try first."
    core = _EDGES.sub("", lowered)
    if len(core) >= 4 and core in common:
        return (
            f"This is a common password (“{core}”) with digits or symbols added; "
            "attackers try those first."
        )
    if re.fullmatch(r"(.+?)\1+", lowered) or len(set(lowered)) < 5:
        return "This password repeats a few characters; use more different ones."
    if _is_sequence(re.sub(r"[\W_]+", "", lowered)):
        return "This password is a run of the alphabet, the digits or a keyboard row."
    letters = _NOT_LETTERS.sub("", lowered)
    rest = lowered
    for token in _identity_tokens(email, name):
        rest = rest.replace(token, "")
    rest_letters = _NOT_LETTERS.sub("", rest)
    if rest_letters != letters and (len(rest_letters) < 4 or rest_letters in common):
        return (
            "This password is built from your email address or name; "
            "anyone who knows you would try it. Add words of your own."
        )
    return None
