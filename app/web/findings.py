"""The words a user reads for an engine finding, in one place for pages and the API.

Findings are stored with both languages (``message_es``/``message_en``). ``RULES-SKIPPED`` once
carried what only the server's operator can act on (the ``EINVOICE_RULES_DIR`` setting, a server
folder); the engine now words it for users, and documents stored before that are shown with the
plain words below instead of their stored text. The operator reads the reason in the log and on
the company page (``rules.official_rules_status``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from app.einvoice.rules import SKIPPED_CODE

#: What only the stored operator text had (the setting, "missing in <folder>"); the engine's
#: words for users since then name no folder and are shown as stored.
_OPERATOR_WORDS = ("EINVOICE_RULES_DIR", "): faltan en ", "): not found in ")


def finding_message(finding: Any, language: str = "es") -> str:
    """Return the message of a finding (a stored dict or an engine Finding) for end users."""

    def field(name: str) -> str:
        if isinstance(finding, dict):
            return str(finding.get(name) or "")
        return str(getattr(finding, name, "") or "")

    message = field("message_en" if language == "en" else "message_es")
    if field("code") == SKIPPED_CODE and any(w in message for w in _OPERATOR_WORDS):
        return _("The official DIAN rules were not checked on this server.")
    return message
