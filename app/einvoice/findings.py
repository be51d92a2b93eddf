"""Findings: what the engine says about a document, in Spanish and English."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One thing the engine found; ``code`` is the official rule id where one exists."""

    severity: Severity
    code: str
    message_es: str
    message_en: str
    path: str = ""

    def message(self, language: str = "es") -> str:
        """Return the message in the language asked for (Spanish unless 'en')."""
        return self.message_en if language == "en" else self.message_es

    def as_dict(self, language: str = "en") -> dict[str, Any]:
        """Return the JSON form: severity, code, message (in language), path."""
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message(language),
            "path": self.path,
        }

    def to_json(self) -> dict[str, Any]:
        """Return every field, both languages included (for storage)."""
        return asdict(self)


def error(code: str, es: str, en: str, path: str = "") -> Finding:
    """Make an error finding."""
    return Finding("error", code, es, en, path)


def warning(code: str, es: str, en: str, path: str = "") -> Finding:
    """Make a warning finding."""
    return Finding("warning", code, es, en, path)


def is_valid(findings: list[Finding]) -> bool:
    """A document is valid when no finding is an error."""
    return not any(f.severity == "error" for f in findings)
