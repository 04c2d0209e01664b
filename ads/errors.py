"""The ads package's one error type: a message for the person, and the form field it is about."""

from __future__ import annotations


class AdsError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
