"""The one family of errors services raise, each with a message a user understands."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule said no; ``message`` is shown to the user, ``field`` names the input."""

    status = 422

    def __init__(self, message: Any, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class FieldErrors(DomainError):
    """Several inputs are wrong at once: ``errors`` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[Any]]) -> None:
        first = next(iter(errors.values()))[0]
        super().__init__(first, field=next(iter(errors)))
        self.errors = errors
